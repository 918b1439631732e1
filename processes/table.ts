/**
 * A thread's table of its live processes, by id. An id is the thread that
 * made it times 2^32 plus that thread's count (processes/bonds.ts
 * `nextId`; a spawn from another node takes a count from 2^31 up,
 * processes/remote-frame.ts SPAWN_BLOCK), so the table keeps one plain
 * object per making thread, keyed by the count.
 *
 * Why not one Map keyed by id: a spawn's `Map.set` cost 0.3–0.4 µs of CPU
 * an entry while the table grew to 100k (rehashing as it doubles), a tenth
 * of a spawn, where a property keyed by a small integer costs 0.1 µs
 * (bench/README.md, `process`). V8 keeps such an object's entries in an
 * array while the counts are dense and in a hash table once they are
 * sparse (processes that ended are deleted), so a long-lived node does
 * not keep a slot per process it ever ran: 1M entries took 10.7 MB, and
 * 0.01 MB once all but every 1,000th were deleted; 2M more set and deleted
 * after that added nothing (node --expose-gc, heap after gc()).
 */
import type { Proc } from './proc';
import { ID_SPAN, makerOf } from './ids';

type Row = Record<number, Proc>;

/** See the module's comment. */
export class ProcTable {
  /** Per making thread, its processes here by count (made on first use). */
  private readonly rows: (Row | undefined)[] = [];
  private count = 0;

  /** How many processes it holds. */
  get size(): number {
    return this.count;
  }

  get(id: number): Proc | undefined {
    const maker = makerOf(id);
    const row = this.rows[maker];
    return row === undefined ? undefined : row[id - maker * ID_SPAN];
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  /** Adds `proc` (its id is not in the table). */
  set(id: number, proc: Proc): void {
    const maker = makerOf(id);
    if (!Number.isSafeInteger(id) || id < 0) throw new RangeError(`process id ${id} is not a non-negative safe integer`);
    const row = (this.rows[maker] ??= {});
    const key = id - maker * ID_SPAN;
    if (row[key] === undefined) this.count++;
    row[key] = proc;
  }

  delete(id: number): boolean {
    const maker = makerOf(id);
    const row = this.rows[maker];
    const key = id - maker * ID_SPAN;
    if (row === undefined || row[key] === undefined) return false;
    delete row[key];
    this.count--;
    return true;
  }

  /** Every process, a copy (the caller may end them as it goes): by making thread, then by count. */
  values(): Proc[] {
    const all: Proc[] = [];
    for (const row of this.rows) if (row !== undefined) for (const proc of Object.values(row)) all.push(proc);
    return all;
  }
}
