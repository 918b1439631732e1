/**
 * A loop that never leaves microtasks (`for (...) await wire.send(v)` while
 * there is room) would starve its thread's timers, I/O and reading. What such
 * a loop awaits comes from here: a resolved promise, except about every
 * TURN_MS: then one that waits a turn of the event loop.
 */
import { performance } from 'node:perf_hooks';

/** Milliseconds of microtask-only looping after which the loop waits a turn. */
const TURN_MS = 2;

const RESOLVED = Promise.resolve();

export class FairTurn {
  private armed = false;
  private lastTurn = performance.now();

  /** What to await after work done at once: resolved, or a turn of the event loop when one is due. */
  next(): Promise<void> {
    if (!this.armed) {
      this.armed = true;
      setImmediate(() => {
        this.armed = false;
        this.lastTurn = performance.now();
      });
    }
    if (performance.now() - this.lastTurn < TURN_MS) return RESOLVED;
    return new Promise((resolve) => setImmediate(resolve));
  }
}
