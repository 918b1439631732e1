/**
 * A connection's heartbeat: notices a peer that has gone silent (a stopped
 * process, a vanished machine) although its socket stays open.
 *
 * Any bytes from the peer count as life. One timer per connection ticks
 * every `interval` ms: a tick that finds something heard since the last one
 * starts the count again; a tick that finds nothing sends PING (the peer
 * answers PONG at once) and counts `interval` ms of silence; once the
 * silence reaches `timeout` ms, the peer is declared silent. Since
 * `timeout > interval`, at least one PING goes out, and the peer has at
 * least one interval to answer it, before that. Ticks are counted rather
 * than the clock read, so a stall of this end's own event loop (a tick that
 * comes late) is never taken for the peer's silence.
 *
 * The cost is one interval timer per connection (unref'd: it never keeps a
 * process alive) and one boolean store per chunk read; nothing per frame.
 */

/** Heartbeat settings after validation. */
export interface HeartbeatSettings {
  /** Milliseconds between ticks. */
  readonly interval: number;
  /** Milliseconds of silence after which the peer is declared silent (> interval). */
  readonly timeout: number;
}

export class Heartbeat {
  private timer: ReturnType<typeof setInterval> | undefined;
  private heard = false;
  private silentTicks = 0;

  /**
   * @param ping sends a PING to the peer
   * @param silent called once (the heartbeat stops) with the milliseconds of silence
   */
  constructor(
    private readonly settings: HeartbeatSettings,
    private readonly ping: () => void,
    private readonly silent: (ms: number) => void,
  ) {}

  /** Starts (again) counting from now: on a socket just attached. */
  start(): void {
    this.stop();
    this.heard = false;
    this.silentTicks = 0;
    this.timer = setInterval(() => this.tick(), this.settings.interval);
    this.timer.unref();
  }

  /** Stops the timer (the socket is gone); idempotent. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The peer said something (any bytes). */
  alive(): void {
    this.heard = true;
  }

  private tick(): void {
    if (this.heard) {
      this.heard = false;
      this.silentTicks = 0;
      return;
    }
    this.silentTicks++;
    const ms = this.silentTicks * this.settings.interval;
    if (ms >= this.settings.timeout) {
      this.stop();
      this.silent(ms);
      return;
    }
    this.ping();
  }
}
