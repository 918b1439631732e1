import { concat, lastValueFrom, switchMap, take, toArray } from 'rxjs';
import { codec } from '../../core/codec';
import { EncodeError, ErrorCode, QueueFullError, RemoteError, RxwireError, SchemaMismatchError, TransportClosedError } from '../../core/errors';
import type { WireSubject } from '../../core/wire-subject';
import { tick, trySendThrows, until } from '../helpers';
import { transports } from './transports';

/*
 * The WireSubject contract, run over every transport in ./transports.ts:
 * what a user of `open(end, codec)` may count on whatever carries the values.
 */

const Item = codec({
  type: 'record',
  name: 'Item',
  fields: [
    { name: 'seq', type: 'long' },
    { name: 'text', type: 'string' },
  ],
} as const);
type Item = { seq: number; text: string };

/** A small seeded generator (mulberry32): the same sequence on every run. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Item `seq` of the sequence seeded with `seed`: a text of 0 to 199 characters that says which it is. */
function items(seed: number, n: number): Item[] {
  const rng = seeded(seed);
  return Array.from({ length: n }, (_, seq) => ({ seq, text: `${seq}:`.padEnd(Math.floor(rng() * 200), String.fromCharCode(97 + (seq % 26))) }));
}

/** Everything `wire` delivers until it ends: values, and how it ended. */
function collect<T>(wire: WireSubject<T>): Promise<{ values: T[]; end: 'complete' | Error }> {
  const values: T[] = [];
  return new Promise((resolve) =>
    wire.subscribe({
      next: (v) => values.push(v),
      complete: () => resolve({ values, end: 'complete' }),
      error: (err: Error) => resolve({ values, end: err }),
    }),
  );
}

/** The error `wire`'s subscribers end with (a subscriber that completes fails the test). */
function failure<T>(wire: WireSubject<T>): Promise<Error> {
  return new Promise((resolve, reject) =>
    wire.subscribe({ error: resolve, complete: () => reject(new Error('completed instead of failing')) }),
  );
}

/** `promise`, or a rejection saying what never happened after `ms` (a hang fails as such, and leaves no timer). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: ${what} after ${ms} ms`)), ms);
  });
  return Promise.race([promise, hang]).finally(() => clearTimeout(timer));
}

/** Offers `value` until the window is full; returns how many were taken. Waits first until the writer may send at all. */
async function fill<T>(wire: WireSubject<T>, value: T): Promise<number> {
  await until(() => wire.trySend(value));
  let accepted = 1;
  while (wire.trySend(value)) accepted++;
  return accepted;
}

describe.each(transports.map((t) => [t.name, t] as const))('WireSubject contract over %s', (_name, t) => {
  afterEach(() => t.close());
  afterAll(() => t.teardown?.());

  it('carries many values both ways, each once and in order (seeded; next and send mixed)', async () => {
    const N = 20_000;
    const [a, b] = await t.pair(Item, Item);
    const toB = items(1, N);
    const toA = items(2, N);
    const atB = collect(b);
    const atA = collect(a);
    const produce = async (wire: WireSubject<Item>, values: Item[], seed: number) => {
      const rng = seeded(seed);
      for (const v of values) {
        if (rng() < 0.5) wire.next(v);
        else await wire.send(v);
      }
      wire.complete();
    };
    await Promise.all([produce(a, toB, 3), produce(b, toA, 4)]);
    const [gotB, gotA] = await Promise.all([atB, atA]);
    expect(gotB.end).toBe('complete');
    expect(gotA.end).toBe('complete');
    expect(gotB.values).toEqual(toB);
    expect(gotA.values).toEqual(toA);
    expect(a.stats()).toMatchObject({ sent: N, received: N, dropped: 0, queued: 0 });
    expect(b.stats()).toMatchObject({ sent: N, received: N, dropped: 0, queued: 0 });
  });

  it('complete arrives after every value; a subscriber after the end gets it at once', async () => {
    const [a, b] = await t.pair(codec('int'), codec('int'));
    const got = collect(b);
    for (let i = 0; i < 10; i++) a.next(i);
    a.complete();
    expect(await got).toEqual({ values: [...Array(10).keys()], end: 'complete' });
    let late = false;
    b.subscribe({ complete: () => (late = true) });
    expect(late).toBe(true);
  });

  it('an error arrives as RemoteError with its name, message, code and remote stack', async () => {
    const [a, b] = await t.pair(codec('int'), codec('int'));
    const got = collect(b);
    a.next(1);
    a.error(Object.assign(new TypeError('the feed went away'), { code: 'E_FEED' }));
    const { values, end } = await got;
    expect(values).toEqual([1]);
    expect(end).toBeInstanceOf(RemoteError);
    const err = end as RemoteError;
    expect(err.code).toBe(ErrorCode.REMOTE);
    expect(err.message).toBe('the feed went away');
    expect(err.remoteName).toBe('TypeError');
    expect(err.remoteCode).toBe('E_FEED');
    expect(err.remoteStack).toContain('contract.spec');
  });

  it('an error whose text has a lone surrogate still arrives (as U+FFFD), and so does the EncodeError of a map key with one', async () => {
    const [a, b] = await t.pair(codec('int'), codec('int'));
    const got = collect(b);
    a.next(1);
    a.error(new Error('no user named "ab\uD83D"'));
    expect(await got).toMatchObject({ values: [1], end: { name: 'RemoteError', message: 'no user named "ab\uFFFD"' } });

    const Tags = codec({ type: 'map', values: 'int' });
    const [c, d] = await t.pair(Tags, Tags);
    const atD = collect(d);
    const atC = collect(c);
    c.next({ ok: 1 });
    expect(() => c.next({ 'k\uD800': 2 })).not.toThrow(); // next never throws: the stream ends with the EncodeError
    const [there, here] = await Promise.all([atD, atC]);
    expect(there.values).toEqual([{ ok: 1 }]);
    expect(there.end).toBeInstanceOf(RemoteError);
    expect((there.end as RemoteError).message).toContain('k\uFFFD');
    expect(here.end).toBeInstanceOf(EncodeError);
  });

  it('backpressure: trySend is false when the window is full, send waits, next queues up to maxQueue then QueueFullError', async () => {
    const [a, b] = await t.pair(codec('string'), codec('string'), { windowBytes: 1024, maxQueue: 3 });
    const value = 'x'.repeat(100);
    const accepted = await fill(a, value);
    expect(accepted).toBeLessThan(12); // about one window of 100-byte values
    // A value that does not fit the schema throws its EncodeError whatever the window's state (it returned false).
    expect(() => a.trySend(42 as never)).toThrow(EncodeError);
    let sent = false;
    const last = 'w'.repeat(value.length); // as long as the others: it must not fit a gap they left
    const waiting = a.send(last).then(() => (sent = true));
    await tick(20);
    expect(sent).toBe(false);
    expect(() => a.trySend(42 as never)).toThrow(EncodeError); // a send waits: still the error, not false
    await expect(a.send(42 as never)).rejects.toBeInstanceOf(EncodeError);
    const local = failure(a);
    let queued = 0;
    let ended = false;
    void local.then(() => (ended = true));
    while (!ended && queued < 100) {
      a.next(`q${queued++}`);
      await Promise.resolve();
    }
    const err = await local;
    expect(err).toBeInstanceOf(QueueFullError);
    expect(err).toMatchObject({ code: ErrorCode.QUEUE_FULL });
    // The `send` waiting counts in the queue: the third `next` found it full.
    expect(queued).toBe(3);
    const { values, end } = await collect(b);
    // Everything taken before the failure arrives, in order, then the error.
    expect(values).toEqual([...Array(accepted).fill(value), last, 'q0', 'q1']);
    expect(end).toBeInstanceOf(RemoteError);
    expect((end as RemoteError).remoteCode).toBe(ErrorCode.QUEUE_FULL);
    await waiting;
    expect(sent).toBe(true);
  });

  it('a slow reader keeps the writer within one window: memory stays bounded', async () => {
    const window = 4096;
    const [a, b] = await t.pair(codec('string'), codec('string'), { windowBytes: window });
    let peakInFlight = 0;
    let peakQueued = 0;
    let n = 0;
    const done = new Promise<void>((resolve, reject) =>
      b.subscribe({
        next: () => {
          n++;
          const until = performance.now() + 0.02; // a reader slower than the writer
          while (performance.now() < until);
        },
        complete: resolve,
        error: reject,
      }),
    );
    for (let i = 0; i < 3000; i++) {
      await a.send('y'.repeat(40));
      peakInFlight = Math.max(peakInFlight, a.stats().inFlightBytes);
      peakQueued = Math.max(peakQueued, a.stats().queued);
    }
    a.complete();
    await done;
    expect(n).toBe(3000);
    expect(peakQueued).toBe(0);
    expect(peakInFlight).toBeLessThanOrEqual(window + 64);
  });

  it('a schema mismatch both ways fails both ends with SchemaMismatchError', async () => {
    const Writer = codec({ type: 'record', name: 'Quote', fields: [{ name: 'sym', type: 'string' }] } as const);
    const Reader = codec({ type: 'record', name: 'Quote', fields: [{ name: 'sym', type: 'int' }] } as const);
    const [a, b] = await t.pair(Writer, Reader);
    const atA = failure(a);
    const atB = failure(b);
    const errB = await within(atB, 10_000, 'the reader was not told');
    expect(errB).toBeInstanceOf(SchemaMismatchError);
    expect((errB as SchemaMismatchError).path).toBe('Quote.sym');
    expect(await within(atA, 10_000, 'the writer was not told')).toBeInstanceOf(SchemaMismatchError);
    await expect(within(a.send({ sym: 'ACME' }), 10_000, 'send neither resolved nor rejected')).rejects.toBeInstanceOf(SchemaMismatchError);
  });

  // A pair compatible one way only: the reader of V2 adds a field with no default, so it cannot read V1; V1 reads V2 (the field is dropped).
  const V1 = codec({ type: 'record', name: 'Quote', fields: [{ name: 'sym', type: 'string' }] } as const);
  const V2 = codec({
    type: 'record',
    name: 'Quote',
    fields: [
      { name: 'sym', type: 'string' },
      { name: 'venue', type: 'string' },
    ],
  } as const);

  it('a schema refused one way only fails the writer too: its send rejects, its subscribers get the error, nothing counts as sent', async () => {
    const [a, b] = await t.pair(V1, V2);
    const atB = failure(b);
    const atA = failure(a);
    await expect(within(a.send({ sym: 'ACME' }), 10_000, 'the writer\'s send neither resolved nor rejected')).rejects.toBeInstanceOf(SchemaMismatchError);
    expect(await atB).toBeInstanceOf(SchemaMismatchError);
    expect(await within(atA, 10_000, 'the writer\'s subscribers were not told')).toBeInstanceOf(SchemaMismatchError);
    expect(a.stats().sent).toBe(0);
  });

  it('a schema refused one way only fails the refusing end too: its own send rejects, though its schema was accepted, and nothing counts as sent', async () => {
    // Port resolved the refuser's first send (the peer had accepted its schema), and the peer, told of the
    // refusal, dropped the value; shm rejected it with TransportClosedError.
    const [a, b] = await t.pair(V1, V2);
    const atA = failure(a);
    const atB = failure(b);
    await expect(within(b.send({ sym: 'ACME', venue: 'X' }), 10_000, "the refuser's send neither resolved nor rejected")).rejects.toBeInstanceOf(SchemaMismatchError);
    expect(await within(atA, 10_000, 'the writer was not told')).toBeInstanceOf(SchemaMismatchError);
    expect(await within(atB, 10_000, 'the refuser was not told')).toBeInstanceOf(SchemaMismatchError);
    expect(b.stats().sent).toBe(0);
  });

  it('the peer gone: subscribers and waiting sends end with a typed error, never a hang', async () => {
    const [a] = await t.pair(codec('string'), codec('string'), { windowBytes: 1024 });
    const ended = failure(a);
    // The peer never reads: the window fills and the last sends wait.
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) sends.push(a.send('z'.repeat(50)));
    const settled = Promise.allSettled(sends);
    await tick(10);
    t.peerGone(a);
    const err = await within(ended, 10_000, 'the subscribers were not told the peer is gone');
    expect(err).toBeInstanceOf(RxwireError);
    expect([ErrorCode.TRANSPORT_CLOSED, ErrorCode.WORKER]).toContain((err as RxwireError).code);
    const outcomes = await within(settled, 10_000, 'waiting sends did not settle');
    expect(outcomes.at(-1)!.status).toBe('rejected');
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(RxwireError);
    await expect(a.send('after')).rejects.toBeInstanceOf(RxwireError);
  });

  it('unsubscribing halfway: the reader gets the first values, the writer is told (send rejects, next drops)', async () => {
    const [a, b] = await t.pair(codec('int'), codec('int'), { windowBytes: 4096 });
    const firstHalf = lastValueFrom(b.pipe(take(500), toArray()));
    let stoppedWith: unknown;
    let i = 0;
    for (; i < 1_000_000; i++) {
      try {
        await a.send(i);
      } catch (err) {
        stoppedWith = err;
        break;
      }
    }
    expect(await firstHalf).toEqual([...Array(500).keys()]);
    expect(stoppedWith).toBeInstanceOf(TransportClosedError);
    const dropped = a.stats().dropped;
    a.next(i);
    expect(a.stats().dropped).toBe(dropped + 1);
  });

  it('a burst the reader leaves halfway: every value nexted is counted once, as sent, dropped or queued', async () => {
    const [a, b] = await t.pair(codec('long'), codec('long'), { windowBytes: 4096 });
    const counted = () => {
      const { sent, dropped, queued } = a.stats();
      return sent + dropped + queued;
    };
    const ten = lastValueFrom(b.pipe(take(10), toArray()));
    for (let i = 0; i < 1000; i++) a.next(i);
    expect(counted()).toBe(1000);
    expect(await ten).toEqual([...Array(10).keys()]);
    await until(() => a.stats().queued === 0 && trySendThrows(a)); // the writer heard the reader leave: what waited is dropped
    expect(counted()).toBe(1000);
    const dropped = a.stats().dropped;
    for (let i = 0; i < 10; i++) a.next(i);
    expect(counted()).toBe(1010);
    expect(a.stats().dropped).toBe(dropped + 10);
  });

  it('a subscriber that arrives mid-burst gets the rest of it, as on a Subject', async () => {
    const [a, b] = await t.pair(codec('int'), codec('int'));
    const got = lastValueFrom(b.pipe(take(1), switchMap(() => b), toArray()));
    a.next(1);
    a.next(2);
    a.next(3);
    a.complete();
    expect(await got).toEqual([2, 3]);
  });

  it('the only subscriber leaving mid-burst while another arrives keeps the wire reading', async () => {
    const [a, b] = await t.pair(codec('int'), codec('int'));
    const got = lastValueFrom(concat(b.pipe(take(1)), b).pipe(toArray()));
    for (let i = 0; i < 100; i++) a.next(i);
    a.complete();
    expect(await got).toEqual([...Array(100).keys()]);
  });

  describe('every ending arrives however full the transport', () => {
    const value = 'v'.repeat(60);

    it('complete', async () => {
      const [a, b] = await t.pair(codec('string'), codec('string'), { windowBytes: 4096 });
      const accepted = await fill(a, value);
      a.complete();
      expect(await collect(b)).toEqual({ values: Array(accepted).fill(value), end: 'complete' });
    });

    it('an error with a long message', async () => {
      const [a, b] = await t.pair(codec('string'), codec('string'), { windowBytes: 4096 });
      const accepted = await fill(a, value);
      const message = 'm'.repeat(3000);
      a.error(new Error(message));
      const { values, end } = await collect(b);
      expect(values).toEqual(Array(accepted).fill(value));
      expect(end).toBeInstanceOf(RemoteError);
      expect((end as RemoteError).message).toBe(message);
    });

    it('QueueFullError', async () => {
      const [a, b] = await t.pair(codec('string'), codec('string'), { windowBytes: 4096, maxQueue: 2 });
      const accepted = await fill(a, value);
      const local = failure(a);
      a.next(value);
      a.next(value);
      a.next(value); // one too many
      expect(await local).toBeInstanceOf(QueueFullError);
      const { values, end } = await collect(b);
      expect(values).toEqual(Array(accepted + 2).fill(value));
      expect(end).toBeInstanceOf(RemoteError);
      expect((end as RemoteError).remoteCode).toBe(ErrorCode.QUEUE_FULL);
    });
  });

  it('a synchronous burst right after open: 100k values in one turn, then complete, all delivered', async () => {
    const N = 100_000;
    const [a, b] = await t.pair(codec('int'), codec('int'));
    const local = collect(a);
    for (let i = 0; i < N; i++) a.next(i);
    a.complete();
    const { values, end } = await collect(b);
    expect(end).toBe('complete');
    expect(values.length).toBe(N);
    expect(values.every((v, i) => v === i)).toBe(true);
    expect(a.stats().dropped).toBe(0);
    b.complete();
    expect((await local).end).toBe('complete');
  });

  it('a slow subscriber that leaves while values wait for a turn gets no more, and the writer is told', async () => {
    const [a, b] = await t.pair(codec('int'), codec('int'));
    const got: number[] = [];
    const done = new Promise<void>((resolve, reject) =>
      b.pipe(take(300)).subscribe({
        next: (v) => {
          got.push(v);
          const until = performance.now() + 0.1;
          while (performance.now() < until);
        },
        complete: resolve,
        error: reject,
      }),
    );
    for (let i = 0; i < 2000; i++) a.next(i);
    await done;
    expect(got).toEqual([...Array(300).keys()]);
    // The end stopped reading: the writer learns it (its later sends reject).
    let stoppedWith: unknown;
    await until(() => {
      a.send(0).catch((err: unknown) => (stoppedWith ??= err));
      return stoppedWith !== undefined;
    });
    expect(stoppedWith).toBeInstanceOf(TransportClosedError);
    const late = await new Promise((resolve) => b.subscribe({ error: resolve }));
    expect(late).toBeInstanceOf(TransportClosedError);
  });

  it("a slow synchronous subscriber still lets its thread's timers run", async () => {
    const N = 2000;
    const [a, b] = await t.pair(codec('int'), codec('int'));
    let delivered = 0;
    let firedAt: number | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = new Promise<void>((resolve, reject) =>
      b.subscribe({
        next: () => {
          // The timer is armed at the first value: it must fire while the burst is delivered.
          timer ??= setTimeout(() => (firedAt = delivered), 5);
          delivered++;
          const until = performance.now() + 1; // 1 ms of synchronous work per value
          while (performance.now() < until);
        },
        complete: resolve,
        error: reject,
      }),
    );
    for (let i = 0; i < N; i++) a.next(i);
    a.complete();
    try {
      await done;
    } finally {
      clearTimeout(timer);
    }
    expect(delivered).toBe(N);
    expect(firedAt).toBeDefined();
    expect(firedAt!).toBeLessThan(N);
  });
});
