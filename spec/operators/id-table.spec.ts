/**
 * The table of requests in flight by id (operators/id-table.ts), against a
 * Map doing the same thing: ids that share a slot, ids a peer may send
 * (negative, fractional, huge, NaN), many in flight at once.
 */
import { IdTable, byId } from '../../operators/id-table';

interface Entry {
  readonly id: number;
}

/** Runs the same operations on an IdTable and a Map and checks they agree after each. */
function agree(ops: ReadonlyArray<['add' | 'delete', number]>): void {
  const table = new IdTable<Entry>();
  const map = new Map<number, Entry>();
  const disagreements: string[] = []; // plain checks per step (expect() per step made the long run take seconds)
  ops.forEach(([op, id], step) => {
    if (op === 'add') {
      if (map.has(id)) return; // the caller's rule: one entry per id
      const entry = { id };
      table.add(entry);
      map.set(id, entry);
    } else if (table.delete(id) !== map.delete(id)) disagreements.push(`step ${step}: delete(${id})`);
    if (table.size !== map.size || table.get(id) !== map.get(id) || table.has(id) !== map.has(id)) disagreements.push(`step ${step}: ${op} ${id}`);
  });
  expect(disagreements).toEqual([]);
  expect(table.values().sort(byId)).toEqual([...map.values()].sort(byId));
  for (const id of map.keys()) expect(table.get(id)).toBe(map.get(id));
}

describe('IdTable', () => {
  it('keeps ids that share a slot apart, whichever leaves first', () => {
    agree([
      ['add', 5],
      ['add', 261], // slot 5 again: to the Map
      ['add', 517],
      ['delete', 5],
      ['add', 773], // slot 5 is free again
      ['delete', 261],
      ['delete', 261],
      ['delete', 517],
      ['add', 5],
    ]);
  });

  it('takes the ids a peer may send: negative, fractional, beyond 2^32, NaN, -0', () => {
    agree([
      ['add', -5],
      ['add', 251], // -5 & 255 is 251
      ['add', 1.5],
      ['add', 1],
      ['add', 2 ** 40 + 3],
      ['add', 3],
      ['add', Number.NaN],
      ['add', 0],
      ['add', -0],
      ['delete', Number.NaN],
      ['delete', -5],
      ['delete', 1.5],
      ['delete', 2 ** 40 + 3],
      ['delete', 0],
    ]);
    const table = new IdTable<Entry>();
    const nan = { id: Number.NaN };
    table.add(nan);
    expect(table.get(Number.NaN)).toBe(nan);
    expect(table.delete(Number.NaN)).toBe(true);
    expect(table.size).toBe(0);
  });

  it('agrees with a Map over a long random run with thousands in flight', () => {
    let seed = 42;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const ops: Array<['add' | 'delete', number]> = [];
    let next = 1;
    const live: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      if (live.length === 0 || random() < 0.55) {
        ops.push(['add', next]);
        live.push(next++);
      } else {
        const at = Math.floor(random() * live.length);
        ops.push(['delete', live[at]]);
        live.splice(at, 1);
      }
    }
    agree(ops);
  });

  it('clear empties it, slots and Map alike', () => {
    const table = new IdTable<Entry>();
    for (let id = 0; id < 1000; id++) table.add({ id });
    expect(table.size).toBe(1000);
    table.clear();
    expect(table.size).toBe(0);
    expect(table.values()).toEqual([]);
    expect(table.get(999)).toBeUndefined();
    table.add({ id: 999 });
    expect(table.get(999)).toEqual({ id: 999 });
  });
});
