import { lastValueFrom, map, take, toArray } from 'rxjs';
import { codec, raw } from '../../core/codec';
import { TransportClosedError } from '../../core/errors';
import type { WireSubject } from '../../core/wire-subject';
import { open } from '../../transports/open';
import { port, shm, type ShmEnd } from '../../transports';
import { until } from '../helpers';

/*
 * Borrowed delivery (`open(end, raw, { borrow })`): values are views into
 * the ring, valid during their callback; the ring's bytes go back only after
 * it. Both ends in this thread, so the writer can try to write into the ring
 * from inside a callback, or between the turns of a sliced delivery: the
 * bytes it would overwrite are those of the views still being delivered.
 */

const opened: WireSubject<unknown>[] = [];
afterEach(() => {
  for (const wire of opened.splice(0)) wire.close();
});

function openEnd(end: ShmEnd, borrow?: boolean | 'debug'): WireSubject<Uint8Array> {
  const wire = open(end, raw, borrow === undefined ? {} : { borrow });
  opened.push(wire as WireSubject<unknown>);
  return wire;
}

/** Value `i`: `bytes` bytes, its index in the first four, then `i & 255` throughout. */
function valueAt(i: number, bytes: number): Buffer {
  const b = Buffer.alloc(bytes, i & 255);
  b.writeUInt32LE(i, 0);
  return b;
}

/** Whether `v` holds value `i` whole. */
function holds(v: Uint8Array, i: number, bytes: number): boolean {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(valueAt(i, bytes));
}

describe('borrowed delivery over shm', () => {
  it('each value is a view into the shared ring, with the bytes sent, in order, over many laps of a small ring', async () => {
    const [a, b] = shm.pair({ bytes: 4096 });
    const writer = openEnd(a);
    const reader = openEnd(b, true);
    const bytes = 100;
    const n = 500; // about 14 laps of the ring
    let next = 0;
    let wrong = 0;
    let shared = 0;
    const done = new Promise<void>((resolve, reject) =>
      reader.subscribe({
        next: (v) => {
          if (!holds(v, next++, bytes)) wrong++;
          if (v.buffer instanceof SharedArrayBuffer) shared++;
        },
        complete: resolve,
        error: reject,
      }),
    );
    for (let i = 0; i < n; i++) await writer.send(valueAt(i, bytes));
    writer.complete();
    await done;
    expect({ next, wrong, shared }).toEqual({ next: n, wrong: 0, shared: n });
  });

  it("the ring's bytes go back only after the callback: a write from inside it finds no room, and the view stays whole", async () => {
    // Records of 128 bytes (8 header + 120) fill the 4 KiB ring (less the writer's HELLO); the reader
    // takes them in runs of an eighth of the ring, four records, whose bytes go back after the run.
    const [a, b] = shm.pair({ bytes: 4096 });
    const writer = openEnd(a);
    const reader = openEnd(b, true);
    const bytes = 120;
    await writer.send(valueAt(0, bytes)); // accepted
    let n = 1;
    while (writer.trySend(valueAt(n, bytes))) n++; // until the ring is full
    expect(n).toBeGreaterThanOrEqual(24);
    const seen: { i: number; tookMore: boolean; whole: boolean }[] = [];
    reader.subscribe((v) => {
      const i = new DataView(v.buffer, v.byteOffset).getUint32(0, true);
      // Were the drain's bytes already released, this would write over the views being delivered.
      let tookMore = false;
      try {
        tookMore = writer.trySend(valueAt(100 + i, bytes));
      } catch {
        tookMore = true;
      }
      seen.push({ i, tookMore, whole: holds(v, i, bytes) });
    });
    await until(() => seen.length >= n);
    // The first callback: none of the ring's bytes has gone back yet.
    expect(seen[0]).toEqual({ i: 0, tookMore: false, whole: true });
    // Later ones may find the earlier runs' room, never their own bytes: every view stays whole.
    expect(seen.slice(0, n).map((s) => [s.i, s.whole])).toEqual(Array.from({ length: n }, (_, i) => [i, true]));
    // Once the callbacks are over, the room is the writer's again.
    await until(() => writer.trySend(valueAt(200, bytes)));
  });

  it('values held for a later turn (a slow subscriber) stay whole while the writer tries to write between the turns', async () => {
    const [a, b] = shm.pair({ bytes: 1 << 16 });
    const writer = openEnd(a);
    const reader = openEnd(b, true);
    const bytes = 100;
    // 400 values, then as many as still fit: the ring is full, and one drain has them all.
    for (let i = 0; i < 400; i++) await writer.send(valueAt(i, bytes));
    let n = 400;
    while (writer.trySend(valueAt(n, bytes))) n++;
    await new Promise((resolve) => setImmediate(resolve)); // published at the end of the turn
    let turns = 0;
    let writes = 0;
    let next = 0;
    const between = (): void => {
      if (next >= n) return; // delivered: the room is the writer's again
      turns++;
      // Fill whatever room the writer sees (none, while the drain's values are still being delivered).
      while (writer.trySend(valueAt(n + writes, bytes))) writes++;
    };
    let wrong = 0;
    let turnsDuringDelivery = -1;
    reader.subscribe((v) => {
      if (!holds(v, next, bytes)) wrong++;
      // The first values are slow: the inbox yields to the event loop and delivers the rest later.
      if (next < 16) {
        const until = performance.now() + 1;
        while (performance.now() < until);
        setImmediate(between);
      }
      if (next === n - 1) turnsDuringDelivery = turns;
      next++;
    });
    await until(() => next >= n);
    expect(wrong).toBe(0);
    // Delivery did span turns, and the writer found no room in any of them.
    expect(turnsDuringDelivery).toBeGreaterThan(0);
    expect(writes).toBe(0);
  });

  it("a kept view reads what the writer wrote there later; in 'debug' mode it is detached instead", async () => {
    const bytes = 1000;
    const run = async (borrow: true | 'debug') => {
      const [a, b] = shm.pair({ bytes: 4096 });
      const writer = openEnd(a);
      const reader = openEnd(b, borrow);
      const kept: Uint8Array[] = [];
      reader.subscribe((v) => kept.push(v));
      for (let i = 0; i < 20; i++) await writer.send(valueAt(i, bytes)); // five laps
      await until(() => kept.length === 20);
      return kept[0];
    };
    const view = await run(true);
    expect(view.byteLength).toBe(bytes);
    expect(holds(view, 0, bytes)).toBe(false); // overwritten by a later value
    const detached = await run('debug');
    expect(detached.byteLength).toBe(0);
    expect(detached[0]).toBeUndefined();
    expect(Buffer.isBuffer(detached)).toBe(true);
    expect(() => (detached as Buffer).readUInt8(0)).toThrow(/outside buffer bounds/); // a RangeError
  });

  it('a subscriber that leaves halfway gets its values whole; the writer is told to stop', async () => {
    const [a, b] = shm.pair({ bytes: 4096 });
    const writer = openEnd(a);
    const reader = openEnd(b, true);
    const bytes = 500;
    const firstThree = lastValueFrom(reader.pipe(take(3), map((v) => Buffer.from(v)), toArray()));
    let sent = 0;
    let failure: unknown;
    try {
      for (;;) {
        await writer.send(valueAt(sent, bytes));
        sent++;
      }
    } catch (err) {
      failure = err;
    }
    expect(failure).toBeInstanceOf(TransportClosedError);
    const got = await firstThree;
    expect(got.map((v, i) => holds(v, i, bytes))).toEqual([true, true, true]);
    expect(sent).toBeGreaterThanOrEqual(3);
  });

  it('bad options are a TypeError at open: another codec, another value, another transport', () => {
    const [a, b] = shm.pair({ bytes: 4096 });
    opened.push(open(a, raw) as WireSubject<unknown>);
    expect(() => open(b, codec('int'), { borrow: true })).toThrow(/options.borrow needs the raw codec/);
    expect(() => open(b, raw, { borrow: 'yes' as never })).toThrow(TypeError);
    const [p, q] = port.pair();
    expect(() => open(p, raw, { borrow: true })).toThrow(/options.borrow does not apply to a port end/);
    p.port.close();
    q.port.close();
  });

  it('without borrow each value is its own copy', async () => {
    const [a, b] = shm.pair({ bytes: 4096 });
    const writer = openEnd(a);
    const reader = openEnd(b);
    const got = lastValueFrom(reader.pipe(take(2), toArray()));
    await writer.send(valueAt(0, 10));
    await writer.send(valueAt(1, 10));
    const values = await got;
    expect(values.map((v) => v.buffer instanceof SharedArrayBuffer)).toEqual([false, false]);
    expect(values.map((v, i) => holds(v, i, 10))).toEqual([true, true]);
  });
});
