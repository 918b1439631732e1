/**
 * The bound of a WorkerPool's up queue: a counting semaphore in a
 * `SharedArrayBuffer`, shared by the manager and every worker.
 *
 * Contract. The cell holds how many more values the pool's up queue may
 * take. A worker takes one credit before it hands a value to its up ring
 * (`tryTake`, never blocks; `wait` sleeps with `Atomics.waitAsync`, never
 * blocking the worker's event loop). The manager gives credits back when
 * values leave its queue (`giveBack`). So the values in every worker's up
 * ring, plus those in the manager's queue, never exceed the capacity. When
 * the pool stops, the manager lifts the bound (`lift`): the cell holds
 * UNBOUNDED from then on and every `tryTake` succeeds without taking.
 *
 * Memory ordering. JS Atomics are sequentially consistent: all atomic
 * operations on the cells fall in one total order every thread agrees on.
 * - Taking is one `compareExchange` from a value seen by `Atomics.load`: two
 *   workers racing for the last credit cannot both win, and a worker racing
 *   with `lift` either took its credit before (harmless: the bound is gone)
 *   or sees UNBOUNDED on its retry.
 * - Sleeping: a worker first counts itself in WAITERS, then re-reads
 *   CREDITS, then waits on CREDITS with the value it read. The manager adds
 *   to CREDITS, then reads WAITERS and notifies only when it is non-zero. If
 *   the manager's read of WAITERS comes before the worker's increment in the
 *   total order, so does its add, and the worker's re-read sees the credit
 *   and does not sleep; otherwise the manager notifies. A change of CREDITS
 *   between the re-read and the wait makes the wait return at once
 *   ("not-equal"). No wake-up is lost; a sleep is also cut at `sliceMs`.
 */

import { holdThread } from '../core/thread-hold';

/** Slot: credits left, or UNBOUNDED once the pool drains. */
const CREDITS = 0;
/** Slot: workers asleep (or about to sleep) on CREDITS. */
const WAITERS = 1;
const SLOTS = 2;

/** The credit count that means "no bound": far above any capacity, far below overflow. */
const UNBOUNDED = 0x40000000;

/** The largest capacity a pool may have. */
export const MAX_CAPACITY = UNBOUNDED - 1;

/** A credit cell of `capacity` credits, to share with every worker. */
export function createCredits(capacity: number): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT);
  // Published to the workers by the structured clone that starts them.
  new Int32Array(sab)[CREDITS] = capacity;
  return sab;
}

/** One thread's handle on a credit cell. */
export class Credits {
  private readonly cells: Int32Array;
  /** Manager side: the bound is lifted, give nothing back. */
  private lifted = false;

  constructor(sab: SharedArrayBuffer) {
    this.cells = new Int32Array(sab);
  }

  /** Takes a credit if there is one (always succeeds once lifted). Never blocks. */
  tryTake(): boolean {
    for (;;) {
      const left = Atomics.load(this.cells, CREDITS);
      if (left >= UNBOUNDED) return true;
      if (left <= 0) return false;
      // Lost a race with another worker or with the manager: look again.
      if (Atomics.compareExchange(this.cells, CREDITS, left, left - 1) === left) return true;
    }
  }

  /** Returns `count` credits and wakes the workers that sleep on them. */
  giveBack(count: number): void {
    if (count <= 0 || this.lifted) return;
    Atomics.add(this.cells, CREDITS, count);
    // After the add (see the ordering argument above): a sleeper counted now
    // went to sleep before the add, or will see it on its re-read.
    if (Atomics.load(this.cells, WAITERS) > 0) Atomics.notify(this.cells, CREDITS);
  }

  /** Lifts the bound for good (the pool drains) and wakes every sleeper. */
  lift(): void {
    if (this.lifted) return;
    this.lifted = true;
    Atomics.store(this.cells, CREDITS, UNBOUNDED);
    Atomics.notify(this.cells, CREDITS);
  }

  /**
   * Resolves when a credit may be available: at once if one is, else after a
   * notify or `sliceMs`. The caller tries `tryTake` again. Keeps the thread
   * alive meanwhile (a pending `waitAsync` alone does not).
   */
  wait(sliceMs: number): Promise<void> {
    Atomics.add(this.cells, WAITERS, 1);
    const seen = Atomics.load(this.cells, CREDITS);
    if (seen > 0) {
      Atomics.sub(this.cells, WAITERS, 1);
      return Promise.resolve();
    }
    const result = Atomics.waitAsync(this.cells, CREDITS, seen, sliceMs);
    if (!result.async) {
      Atomics.sub(this.cells, WAITERS, 1);
      return Promise.resolve();
    }
    const keepAlive = holdThread();
    return result.value.then(() => {
      clearTimeout(keepAlive);
      Atomics.sub(this.cells, WAITERS, 1);
    });
  }
}
