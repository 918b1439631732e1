import { performance } from 'node:perf_hooks';

/**
 * The clock of a check that runs on a timer and judges peers by silence (one
 * not heard for `timeout` ms is gone). A tick that comes late, because this
 * thread's event loop was held, judges nothing: Node runs due timers before
 * it reads the socket, so every message that waited meanwhile would be read
 * only after the check, and each peer would look silent.
 */
export class SilenceClock {
  private last = performance.now();

  /** @param lateAfter milliseconds between two ticks past which the second is late */
  constructor(private readonly lateAfter: number) {}

  /** The time now (`performance.now()`), or undefined when this tick is late: judge nothing, read what waited first. */
  tick(): number | undefined {
    const now = performance.now();
    const late = now - this.last > this.lateAfter;
    this.last = now;
    return late ? undefined : now;
  }
}
