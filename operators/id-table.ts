/**
 * The requests in flight on one side of request/reply, by id: the client's
 * routes and pending requests (rpc-connection.ts, client.ts), the server's
 * running handlers (serve.ts).
 *
 * A Map keyed by ids that only count up is a poor fit: each request adds a
 * key and soon deletes it, and V8's ordered hash table keeps the holes until
 * it rehashes. Set, get and delete of one request cost 170 ns in a Map (one
 * process, 3M requests), ~8 ns here: an entry lives in the slot its id's low
 * bits name, and only one whose slot is taken (a request still running
 * SLOTS requests later) goes to a Map. Ids are the peer's to choose on the
 * server side: any number works (a non-integer or negative one too); two
 * entries with one id are the caller's to prevent (`has` first).
 */

/** Slots, a power of two: requests in flight at once beyond this many share a Map. */
const SLOTS = 256;
const MASK = SLOTS - 1;

export class IdTable<E extends { readonly id: number }> {
  private readonly slots: (E | undefined)[] = new Array<E | undefined>(SLOTS).fill(undefined);
  private overflow: Map<number, E> | undefined;
  private count = 0;

  /** Entries in the table. */
  get size(): number {
    return this.count;
  }

  /** Adds `entry` under its id (which no entry of the table has). */
  add(entry: E): void {
    const { id } = entry;
    const at = id & MASK;
    // NaN goes to the Map, which finds it again (a slot is matched with ===).
    if (this.slots[at] === undefined && id === id) this.slots[at] = entry;
    else (this.overflow ??= new Map()).set(id, entry);
    this.count++;
  }

  get(id: number): E | undefined {
    const entry = this.slots[id & MASK];
    if (entry !== undefined && entry.id === id) return entry;
    return this.overflow?.get(id);
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  /** Removes the entry of `id`; false when there is none. */
  delete(id: number): boolean {
    const at = id & MASK;
    const entry = this.slots[at];
    if (entry !== undefined && entry.id === id) this.slots[at] = undefined;
    else if (!this.overflow?.delete(id)) return false;
    this.count--;
    return true;
  }

  /** Every entry, in no particular order (a copy: the caller may change the table meanwhile; sort with `byId`). */
  values(): E[] {
    const all: E[] = [];
    if (this.count === 0) return all;
    for (const entry of this.slots) if (entry !== undefined) all.push(entry);
    if (this.overflow) for (const entry of this.overflow.values()) all.push(entry);
    return all;
  }

  clear(): void {
    if (this.count === 0) return;
    this.slots.fill(undefined);
    this.overflow = undefined;
    this.count = 0;
  }
}

/** Orders entries by id: for a client, the order its requests were made. */
export function byId(a: { readonly id: number }, b: { readonly id: number }): number {
  return a.id - b.id;
}
