/**
 * A channel whose transport end arrives later (from another thread). Until
 * then it behaves as a channel with a full window: `offer` returns false, so
 * WireSubject queues `next` values and `send` waits; reading, pausing,
 * stopping and the outgoing ending are remembered and replayed, in that
 * order, on the real channel when it connects.
 */
import type { Channel, ChannelSink, ChannelStats, Connect } from './channel';
import type { Ending } from './ending';


export class DeferredChannel<T> implements Channel<T> {
  private real: Channel<T> | undefined;
  private failed = false;
  private reading = false;
  private paused = false;
  private stopped = false;
  private holding = false;
  private ending: Ending | undefined;

  constructor(private readonly sink: ChannelSink<T>) {}

  /** The end arrived: opens the real channel on the same sink and replays. */
  connect(connect: Connect<T>): void {
    if (this.real || this.failed) return;
    let real: Channel<T>;
    try {
      real = connect(this.sink);
    } catch (err) {
      // An end that cannot be opened (not a ring, a schema too large): both directions fail.
      return this.fail(err as Error);
    }
    this.real = real;
    if (this.holding) real.hold(true);
    if (this.stopped) real.stop();
    else if (this.reading) {
      real.resume();
      if (this.paused) real.pause();
    }
    // WireSubject hands over the ending only once its queue is empty.
    if (this.ending?.kind === 'complete') real.complete();
    else if (this.ending) real.error(this.ending.error);
    else this.sink.writable();
  }

  /** The end will never arrive: both directions fail with `err`. */
  fail(err: Error): void {
    if (this.real || this.failed) return;
    this.failed = true;
    this.sink.writeClosed(err, false);
    if (!this.stopped) this.sink.error(err);
  }

  get connected(): boolean {
    return this.real !== undefined;
  }

  resume(): void {
    if (this.real) return this.real.resume();
    this.reading = true;
    this.paused = false;
  }

  pause(): void {
    if (this.real) return this.real.pause();
    this.paused = true;
  }

  stop(): void {
    if (this.real) return this.real.stop();
    this.stopped = true;
  }

  offer(value: T): boolean {
    if (this.real) return this.real.offer(value);
    return false;
  }

  complete(): void {
    if (this.real) return this.real.complete();
    this.ending ??= { kind: 'complete' };
  }

  error(err: unknown): void {
    if (this.real) return this.real.error(err);
    this.ending ??= { kind: 'error', error: err };
  }

  hold(waiting: boolean): void {
    if (this.real) return this.real.hold(waiting);
    this.holding = waiting;
  }

  stats(): ChannelStats {
    if (this.real) return this.real.stats();
    return { sent: 0, sentBytes: 0, received: 0, receivedBytes: 0, inFlightBytes: 0 };
  }
}
