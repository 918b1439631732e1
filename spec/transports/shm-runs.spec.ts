import { lastValueFrom, take, toArray } from 'rxjs';
import { codec, raw } from '../../core/codec';
import { RemoteError, TransportClosedError } from '../../core/errors';
import { SLICE_MS } from '../../core/inbox';
import type { WireSubject } from '../../core/wire-subject';
import { open } from '../../transports/open';
import { shm } from '../../transports';
import { RUN_RECORDS } from '../../transports/shm/reading';

/*
 * The shm reader decodes and delivers what is published in runs of at most
 * RUN_RECORDS records (transports/shm/reading.ts): nothing may be lost or
 * reordered at a run's boundary, whatever happens during a run's delivery
 * (a pause, an unsubscribe, the writer leaving) and wherever a run ends in
 * the ring.
 */

const opened: WireSubject<unknown>[] = [];
afterEach(() => {
  for (const wire of opened.splice(0)) wire.close();
});

function openEnd<T>(end: Parameters<typeof open>[0], c: Parameters<typeof open<T>>[1], options = {}): WireSubject<T> {
  const wire = open<T>(end, c, options);
  opened.push(wire as WireSubject<unknown>);
  return wire;
}

/** Keeps this thread busy for `ms` (to make the inbox's delivery slice run out, not to wait for anything). */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** Everything `rx` delivers and how it ended ('hung' after 20 s). */
function collect<T>(rx: WireSubject<T>, next: (v: T) => void = () => undefined): Promise<{ values: T[]; end: unknown }> {
  return new Promise((resolve) => {
    const values: T[] = [];
    const timer = setTimeout(() => {
      sub.unsubscribe();
      resolve({ values, end: 'hung' });
    }, 20_000);
    const done = (end: unknown) => {
      clearTimeout(timer);
      resolve({ values, end });
    };
    const sub = rx.subscribe({
      next: (v) => {
        values.push(v);
        next(v);
      },
      complete: () => done('complete'),
      error: done,
    });
  });
}

const upTo = (n: number) => [...Array(n).keys()];

/** Counts turns of the event loop (a setImmediate chain) until `stop()`. */
function turnCounter(): { now(): number; stop(): void } {
  let turn = 0;
  let ticking = true;
  const tick = () => {
    turn++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  return { now: () => turn, stop: () => void (ticking = false) };
}

/** How many of the recorded turns fell in each turn, in order. */
function perTurn(turnOf: readonly number[]): number[] {
  const counts = new Map<number, number>();
  for (const t of turnOf) counts.set(t, (counts.get(t) ?? 0) + 1);
  return [...counts.values()];
}

describe('shm reader runs', () => {
  it('the writer leaves with more than a run published and unread as this end resumes reading: every value still arrives, then complete', async () => {
    // The regression that took the runs out (01b628e): when the writer's
    // end is released while this end wants data and has not read what it
    // published, that rest was read in runs, the first delivery that paused
    // reading stopped it there, and the link then closed with the rest
    // unread: "the other end is gone" instead of the values and complete.
    //
    // The order below is the event loop's, not a race (both ends in this
    // thread; 'yield' makes every step of the reader a setImmediate). Turn
    // 1: the reader delivers the first burst; at value 7 the writer sends
    // the rest and is released (its liveness port closes), and the slow
    // values 0-7 end the inbox's delivery slice (reading pauses). Turn 2:
    // the slice delivers values 8-15 and resumes reading, the pump's next
    // step waits for turn 3, and the port's closing reaches the reader
    // (close callbacks) in between: the rest is read by `readRest`, with the
    // session wanting data.
    const [a, b] = shm.pair({ bytes: 1 << 20 });
    const tx = openEnd<number>(a, codec('int'));
    const rx = openEnd<number>(b, codec('int'), { wait: 'yield' });
    const first = 16;
    const rest = 3 * RUN_RECORDS;
    const seen = collect(rx, (v) => {
      // Values 0-7, and the first 8 of each run after them, take a quarter
      // slice each: a delivery that begins with them pauses reading at its
      // 8th value (as a slow subscriber makes it do).
      if (v < 8 || (v >= first && (v - first) % RUN_RECORDS < 8)) busy(SLICE_MS / 4);
      if (v === 7) {
        for (let i = first; i < first + rest; i++) tx.next(i);
        tx.close();
      }
    });
    // Held until the reader accepts the schema, then written and published together.
    for (let i = 0; i < first; i++) tx.next(i);
    const { values, end } = await seen;
    expect(end).toBe('complete');
    expect(values).toEqual(upTo(first + rest));
  });

  it.each([
    ['complete', (tx: WireSubject<number>) => tx.complete()],
    ['error', (tx: WireSubject<number>) => tx.error(new Error('late'))],
  ])('4 runs of values then %s, published together: each run is one delivery, in order, the ending after the last value', async (_name, end) => {
    const [a, b] = shm.pair({ bytes: 1 << 16 });
    const tx = openEnd<number>(a, codec('int'));
    const rx = openEnd<number>(b, codec('int'));
    const n = 4 * RUN_RECORDS + 7;
    const bursts: number[] = [];
    rx.bursts$.subscribe({ next: (burst) => bursts.push(burst.length), error: () => undefined });
    const seen = collect(rx);
    // Held until the reader accepts the schema, then written and published at once.
    for (let i = 0; i < n; i++) tx.next(i);
    end(tx);
    const result = await seen;
    expect(result.values).toEqual(upTo(n));
    if (_name === 'complete') expect(result.end).toBe('complete');
    else {
      expect(result.end).toBeInstanceOf(RemoteError);
      expect((result.end as RemoteError).message).toBe('late');
    }
    expect(bursts.reduce((s, k) => s + k, 0)).toBe(n);
    expect(Math.max(...bursts)).toBeLessThanOrEqual(RUN_RECORDS);
  });

  it('a subscriber that leaves in the middle of a run gets exactly what it took, and the writer is told to stop', async () => {
    const [a, b] = shm.pair({ bytes: 1 << 16 });
    const tx = openEnd<number>(a, codec('int'));
    const rx = openEnd<number>(b, codec('int'));
    const taken = RUN_RECORDS + RUN_RECORDS / 2;
    const out = lastValueFrom(rx.pipe(take(taken), toArray()));
    for (let i = 0; i < 4 * RUN_RECORDS; i++) tx.next(i);
    expect(await out).toEqual(upTo(taken));
    // The reader stopped: the writer's next send fails instead of waiting for ever.
    let refused: unknown;
    for (let i = 0; i < 1 << 16 && refused === undefined; i++) {
      await tx.send(i).catch((err: unknown) => (refused = err));
    }
    expect(refused).toBeInstanceOf(TransportClosedError);
  });

  it.each([
    ['copied', {}],
    ['borrowed', { borrow: true }],
    ['borrowed (debug)', { borrow: 'debug' }],
  ])('values of many sizes over many laps of a 4 KiB ring, %s: every run ends somewhere else in the ring (at the wrap, at a pad), nothing is lost or torn', async (_name, options) => {
    const [a, b] = shm.pair({ bytes: 4096 });
    const tx = openEnd<Uint8Array>(a, raw);
    const rx = openEnd<Uint8Array>(b, raw, options);
    const n = 3000; // about 25 laps of the ring
    const valueAt = (i: number) => Buffer.alloc(4 + (i % 29), i & 255).fill(i >> 8, 0, 4);
    let next = 0;
    let wrong = 0;
    // Each value is checked inside its callback (a borrowed view is valid only there).
    const seen = collect(rx, (v) => {
      if (!Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(valueAt(next++))) wrong++;
    });
    void (async () => {
      for (let i = 0; i < n; i++) await tx.send(valueAt(i));
      tx.complete();
    })().catch(() => undefined);
    const { values, end } = await seen;
    expect({ count: values.length, wrong, end }).toEqual({ count: n, wrong: 0, end: 'complete' });
  });

  it('a subscriber that turns slow in the middle of a batch: the delivery yields within 64 of its slow values, then every 8', async () => {
    // The inbox reads the clock every 8 values of a batch, and every 16, 32,
    // 64 while values are fast (core/inbox.ts, CLOCK_MIN): a subscriber that
    // turns slow at once overruns its 4 ms slice by at most 64 values, and
    // the slices after that read it every 8 values again. One batch: the
    // run of RUN_RECORDS values is all published before anyone subscribes.
    // With fast values the clock is read after values 8, 24, 56, 120, 184:
    // the slow ones begin just after 120. Upper bounds (load only ends
    // slices sooner), and more turns than one.
    const [a, b] = shm.pair({ bytes: 1 << 20 });
    const tx = openEnd<number>(a, codec('int'));
    const rx = openEnd<number>(b, codec('int'));
    const fast = 121;
    for (let i = 0; i < RUN_RECORDS - 1; i++) tx.next(i);
    await tx.send(RUN_RECORDS - 1); // written and published: the reader takes them as one run
    const turns = turnCounter();
    const turnOf: number[] = [];
    const seen = collect(rx, (v) => {
      if (v < fast) return;
      turnOf.push(turns.now());
      busy(SLICE_MS / 4);
    });
    tx.complete();
    const { values, end } = await seen;
    turns.stop();
    expect(end).toBe('complete');
    expect(values).toEqual(upTo(RUN_RECORDS));
    const counts = perTurn(turnOf);
    expect(counts[0]).toBeLessThanOrEqual(64);
    expect(Math.max(...counts.slice(1))).toBeLessThanOrEqual(8);
    expect(counts.length).toBeGreaterThanOrEqual(1 + Math.ceil((RUN_RECORDS - fast - 64) / 8));
  });

  it('short batches after a long fast one: the first may go unclocked, the next ones yield every 8 values again', async () => {
    // A long fast batch raises the stride to 64; a batch no longer than the
    // stride reads no clock, and sets it back to 8 (core/inbox.ts). Each
    // group of 50 slow values is written only when the last of the group
    // before arrives, so each is a batch of its own.
    const [a, b] = shm.pair({ bytes: 1 << 20 });
    const tx = openEnd<number>(a, codec('int'));
    const rx = openEnd<number>(b, codec('int'));
    const group = 50;
    const groups = 4;
    const total = RUN_RECORDS + group * groups;
    for (let i = 0; i < RUN_RECORDS - 1; i++) tx.next(i);
    await tx.send(RUN_RECORDS - 1); // one fast batch, published before anyone subscribes
    const turns = turnCounter();
    const turnOf: number[] = [];
    const writeGroup = (from: number) => {
      for (let i = from; i < from + group; i++) tx.next(i);
      if (from + group === total) tx.complete();
    };
    const seen = collect(rx, (v) => {
      if (v === RUN_RECORDS - 1 || (v >= RUN_RECORDS && (v - RUN_RECORDS) % group === group - 1 && v + 1 < total)) writeGroup(v + 1);
      if (v < RUN_RECORDS) return;
      turnOf.push(turns.now());
      busy(SLICE_MS / 4);
    });
    const { values, end } = await seen;
    turns.stop();
    expect(end).toBe('complete');
    expect(values).toEqual(upTo(total));
    const counts = perTurn(turnOf);
    // The first group may be delivered in one turn (unclocked: 50 ≤ 64); every group after is clocked every 8.
    expect(counts[0]).toBeLessThanOrEqual(64);
    expect(Math.max(...counts.slice(1))).toBeLessThanOrEqual(16);
    expect(counts.length).toBeGreaterThanOrEqual(1 + ((groups - 1) * group) / 16);
  });
});
