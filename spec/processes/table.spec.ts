/** processes/table.ts: a thread's table of live processes, by id (making thread × 2^32 + count). */
import type { Proc } from '../../processes/proc';
import { SPAWN_BLOCK } from '../../processes/remote-frame';
import { ProcTable } from '../../processes/table';

const SPAN = 2 ** 32;
/** A stand-in process: the table only stores and returns it. */
const procOf = (id: number) => ({ id }) as unknown as Proc;

test('ids of every making thread, a remote spawn block and the last count are kept apart and found again', () => {
  const table = new ProcTable();
  const ids = [1, 2, SPAN + 1, 3 * SPAN + 1, 1024 * SPAN + 7, 2 * SPAN + SPAWN_BLOCK.base + 5 * SPAWN_BLOCK.slotSpan + 1, 2 * SPAN + SPAN - 1];
  const procs = ids.map(procOf);
  ids.forEach((id, i) => table.set(id, procs[i]));
  expect(table.size).toBe(ids.length);
  ids.forEach((id, i) => {
    expect(table.get(id)).toBe(procs[i]);
    expect(table.has(id)).toBe(true);
  });
  // the same count under another maker, and ids never set, are not found
  for (const id of [2 * SPAN + 1, 3, 5 * SPAN + 1, 2 * SPAN + SPAN - 2, -1, NaN, 0.5]) expect(table.get(id)).toBeUndefined();
  expect(new Set(table.values())).toEqual(new Set(procs));
});

test('delete removes one entry once; the rest stay; a sparse table after many ends still finds its live ones', () => {
  const table = new ProcTable();
  const n = 10_000;
  for (let i = 1; i <= n; i++) table.set(SPAN + i, procOf(SPAN + i));
  for (let i = 1; i <= n; i++) if (i % 97 !== 0) expect(table.delete(SPAN + i)).toBe(true);
  expect(table.delete(SPAN + 1)).toBe(false);
  expect(table.delete(7 * SPAN + 1)).toBe(false);
  const live = Math.floor(n / 97);
  expect(table.size).toBe(live);
  expect(table.values().map((p) => p.id)).toEqual(Array.from({ length: live }, (_, i) => SPAN + 97 * (i + 1)));
  for (let i = 1; i <= n; i++) expect(table.has(SPAN + i)).toBe(i % 97 === 0);
});

test('values is a copy: ending processes while going through it is safe', () => {
  const table = new ProcTable();
  for (let i = 1; i <= 5; i++) table.set(i, procOf(i));
  for (const proc of table.values()) table.delete(proc.id);
  expect(table.size).toBe(0);
  expect(table.values()).toEqual([]);
});

test('an id that is not a non-negative safe integer is refused', () => {
  const table = new ProcTable();
  expect(() => table.set(-1, procOf(-1))).toThrow(RangeError);
  expect(() => table.set(2 ** 53, procOf(0))).toThrow(RangeError);
  expect(table.size).toBe(0);
});
