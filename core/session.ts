/**
 * The session: both directions of one link, as docs/PROTOCOL.md ("The
 * session") defines them, written once and driven by every transport through
 * the small `SessionTransport` interface (core/session-transport.ts). It is
 * the `Channel` that WireSubject sees.
 *
 * States of each direction (ARCHITECTURE.md draws them):
 *
 *   writing: HELLO sent → (ACK 0) accepted → (COMPLETE/ERROR written) ended
 *            any state → (STOP) stopped · (REJECT) refused · (peer gone) closed
 *   reading: waiting for HELLO → (HELLO, schema resolves: ACK 0) reading
 *            ⇄ paused (frames held undecoded) → (COMPLETE/ERROR delivered) ended
 *            HELLO refused: REJECT, failed · stop(): STOP, stopped
 *
 * The link is released (`transport.close()`) when both directions are over.
 */
import type { Channel, ChannelSink, ChannelStats } from './channel';
import type { Codec } from './codec';
import { FrameError, SchemaMismatchError, TransportClosedError } from './errors';
import { AckRecord, FrameKind, RejectRecord, type Hello } from './frame';
import { Incoming, PROTOCOL_PATH, expectEmpty } from './session-in';
import { Outgoing } from './session-out';
import type { SessionOptions, SessionTransport } from './session-transport';

export type { SessionOptions, SessionTransport } from './session-transport';
export { PROTOCOL_PATH } from './session-in';

export class Session<T> implements Channel<T> {
  private readonly out: Outgoing<T>;
  private readonly in: Incoming<T>;
  private holding = false;
  private closed = false;
  /** What `keepAlive` was last told (undefined: nothing yet), so it is told only of changes. */
  private kept: boolean | undefined;
  /** What `reading` was last told. */
  private reading = false;

  constructor(
    private readonly transport: SessionTransport,
    codec: Codec<T>,
    sink: ChannelSink<T>,
    private readonly options: SessionOptions,
  ) {
    this.out = new Outgoing(transport, codec, sink, options.announces === 'send' ? options.window : undefined, options.window, options.quietUntilHello, transport.credit === 'room' ? options.nextOverhead : 0);
    this.in = new Incoming(transport, codec, sink, options);
  }

  // ---- from the transport -------------------------------------------------

  /** The peer's HELLO (decoded by the transport: its body may carry more, as TCP's channel name). */
  hello(hello: Hello): void {
    this.in.hello(hello);
    // Refused: the pair fails on both ends, this end's own stream too — before the peer's ACK could let a
    // value go out that the peer, told of the refusal, would then drop.
    if (this.in.refusal) this.out.close(this.in.refusal, false);
    else if (this.options.announces === 'receive') this.out.readerWindow(hello.window);
    this.check();
  }

  /**
   * One frame from the peer (any kind but HELLO, which comes decoded through `hello`).
   * @throws FrameError when it breaks the protocol: the transport ends the link (see `protocolError`)
   */
  receive(kind: number, buf: Buffer, start: number, end: number): void {
    switch (kind) {
      case FrameKind.NEXT:
        // A value changes nothing `check` looks at (it is decoded or held): the hot path skips it.
        this.in.data(kind, buf, start, end);
        return;
      case FrameKind.COMPLETE:
      case FrameKind.ERROR:
        this.in.data(kind, buf, start, end);
        break;
      case FrameKind.ACK:
        this.out.ack(AckRecord.decode(buf, start, end));
        break;
      case FrameKind.STOP:
        expectEmpty(kind, start, end);
        this.out.close(new TransportClosedError('the reader stopped: its last subscriber left'), true);
        break;
      case FrameKind.REJECT:
        this.out.close(rejectionError(RejectRecord.decode(buf, start, end)), false);
        break;
      default:
        throw new FrameError(`frame kind 0x${kind.toString(16)} has no place in a session`);
    }
    this.check();
  }

  /** Delivers what the frames received so far decoded (the transport calls it after each read). */
  deliver(): void {
    if (!this.in.pending) return;
    this.in.deliver();
    this.check();
  }

  /** The transport has room again (after `roomToWrite()` said false). */
  wake(): void {
    this.out.wake();
  }

  /** Malformed bytes on the link: what came before stands; both directions end with `err`. */
  protocolError(err: Error): void {
    this.in.refuseFurther();
    this.in.fail(err);
    this.out.close(err, false, false, true); // the incoming side reports it, after the values it holds
    this.check();
  }

  /**
   * The peer is gone with `err`. What arrived before is still delivered (now,
   * or to the first subscriber); a stream not ended fails with `err`.
   */
  peerGone(err: Error): void {
    if (this.closed) return;
    this.in.cut = true;
    this.in.fail(err);
    this.out.close(err, false, true);
    this.shutdown();
  }

  /** Whether the link is released. */
  get isClosed(): boolean {
    return this.closed;
  }

  // ---- Channel ------------------------------------------------------------

  offer(value: T): boolean {
    const taken = this.out.offer(value);
    // A blocked writer, or the first value held before acceptance, changes
    // whether this end must keep the loop alive.
    if (!taken || this.out.heldValues === 1) this.check();
    return taken;
  }

  complete(): void {
    this.out.end({ kind: 'complete' });
    this.check();
  }

  error(err: unknown): void {
    this.out.end({ kind: 'error', error: err });
    this.check();
  }

  resume(): void {
    this.in.resume();
    this.check();
  }

  pause(): void {
    this.in.pause();
    this.check();
  }

  stop(): void {
    this.in.stop();
    this.check();
  }

  hold(waiting: boolean): void {
    this.holding = waiting;
    this.check();
  }

  stats(): ChannelStats {
    const { out } = this;
    return {
      sent: out.sent,
      sentBytes: out.sentBytes,
      received: this.in.received,
      receivedBytes: this.in.receivedBytes,
      inFlightBytes: this.transport.inFlightBytes ? this.transport.inFlightBytes() : out.sentBytes - out.ackedBytes,
      held: out.heldValues,
      droppedHeld: out.droppedHeld,
    };
  }

  // ---- lifecycle ----------------------------------------------------------

  /** Releases the link once both directions are over; else keeps the event loop alive while someone waits. */
  private check(): void {
    if (this.closed) return;
    const { in: incoming } = this;
    const reading = !incoming.paused && !incoming.done;
    if (reading !== this.reading) {
      this.reading = reading;
      this.transport.reading?.(reading);
    }
    if (this.out.finished && incoming.over && !incoming.stopOwed) return this.shutdown();
    const keep = this.holding || (!incoming.paused && !incoming.done) || this.out.waiting;
    if (keep === this.kept) return;
    this.kept = keep;
    this.transport.keepAlive(keep);
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.transport.close();
  }
}

/** The writer's error for a REJECT: the schema refused, or the protocol (path `<protocol>`). */
export function rejectionError(reject: { path: string; message: string }): Error {
  return reject.path === PROTOCOL_PATH
    ? new FrameError(`the reader refused this end: ${reject.message}`)
    : new SchemaMismatchError(reject.path, `the reader refused this schema: ${reject.message}`);
}
