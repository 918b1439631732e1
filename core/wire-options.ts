/** Options every transport's `open` accepts: those of its WireSubject (core/wire-subject.ts). */
export interface WireOptions {
  /**
   * How many values `next` may hold locally while the transport's window is
   * full. One more errors the wire with `QueueFullError` (values already
   * taken are still sent). `send` never fails so: it waits, however long the
   * queue; the values of waiting `send`s do count toward this bound.
   * Default 65536; `Infinity` for no bound (memory is then the caller's).
   */
  maxQueue?: number;
  /**
   * Pause reading while values from `next` wait for room (default true): a
   * stage that echoes what it reads then passes its output's backpressure on
   * to its input. Turn it off where one thread both reads and writes many
   * links at once (the runtime's all-to-all channels): there, pausing reads
   * while a peer's ring is full could stop two workers each waiting on the
   * other.
   */
  pauseReadsWhileQueued?: boolean;
}
