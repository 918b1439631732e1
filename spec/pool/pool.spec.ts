import { concat, lastValueFrom, repeat, take, timeout, toArray } from 'rxjs';
import threads = require('node:worker_threads');
import { EncodeError, ErrorCode, FrameError, TransportClosedError, WorkerError } from '../../core/errors';
import { codec, raw, type ValueOf } from '../../core/codec';
import { WorkerPool, type PoolOptions } from '../../pool/pool';
import { tick, until } from '../helpers';
import { COUNTER_SLOTS, Down, FULL, Mark, type FloodResult, type PoolArgs } from '../workers/pool.worker';

/*
 * WorkerPool with real threads. The pool's threads are not started through
 * spec/helpers (reapWorkers does not know them), so every Worker constructed
 * during a test is tracked here, and each test must leave all of them exited.
 */

const WORKER = `${__dirname}/../workers/pool.worker.ts`;

const started: threads.Worker[] = [];
const exitedThreads = new WeakSet<threads.Worker>();
const Original = threads.Worker;
class TrackedWorker extends Original {
  constructor(...params: ConstructorParameters<typeof Original>) {
    super(...params);
    started.push(this);
    this.once('exit', () => exitedThreads.add(this));
  }
}

beforeAll(() => {
  // threads/worker.ts reads `Worker` off this module object at each call.
  (threads as { Worker: typeof Original }).Worker = TrackedWorker;
});

afterAll(() => {
  (threads as { Worker: typeof Original }).Worker = Original;
});

afterEach(async () => {
  const alive = started.splice(0).filter((worker) => !exitedThreads.has(worker));
  await Promise.all(alive.map((worker) => worker.terminate()));
  expect(alive.length).toBe(0);
});

function spawn<R = unknown>(n: number, args: PoolArgs, options: Partial<PoolOptions<Down, Mark>> = {}) {
  return WorkerPool.spawn<Down, Mark, R>(n, WORKER, { down: Down, up: Mark, args, ...options });
}

/** Everything left: recvBurst until the pool has ended and nothing is left. */
async function drain<U>(pool: { recvBurst(): Promise<U[]> }): Promise<U[]> {
  const all: U[] = [];
  for (;;) {
    const burst = await pool.recvBurst();
    if (burst.length === 0) return all;
    all.push(...burst);
  }
}

/** Per worker: how many marks arrived, and how many broke the sequence 0, 1, 2, ... */
function perWorker(marks: Mark[], workers: number) {
  const counts = new Array<number>(workers).fill(0);
  let outOfOrder = 0;
  for (const mark of marks) {
    if (mark.seq !== counts[mark.worker]) outOfOrder++;
    counts[mark.worker]++;
  }
  return { counts, outOfOrder };
}

/** Keeps this thread busy (no event-loop turn) until `condition` holds; `guardMs` only bounds a broken run. */
function holdBusyUntil(condition: () => boolean, guardMs = 2000): void {
  const stopAt = performance.now() + guardMs;
  while (!condition() && performance.now() < stopAt);
}

describe('WorkerPool', () => {
  it('sends down to one worker and to all, in order, and gets every value back up', async () => {
    const pool = spawn<{ index: number; received: number }>(3, { mode: 'echo' });
    expect(started).toHaveLength(3); // the tracking of threads works
    const all = lastValueFrom(pool.up$.pipe(toArray()));
    const expected: Down[][] = [[], [], []];
    for (let seq = 0; seq < 300; seq++) {
      if (seq % 10 === 0) {
        pool.broadcast({ seq, to: -1 });
        for (const list of expected) list.push({ seq, to: -1 });
      } else {
        const to = seq % 3;
        pool.send(to, { seq, to });
        expected[to].push({ seq, to });
      }
    }
    const results = await pool.stopAndJoin();
    const marks = await all;
    for (let w = 0; w < 3; w++) {
      expect(marks.filter((m) => m.worker === w).map(({ seq, to }) => ({ seq, to }))).toEqual(expected[w]);
    }
    expect(results).toEqual(expected.map((list, index) => ({ index, received: list.length })));
  });

  it('completes down$ on stop, and checks what is sent at the door', async () => {
    const pool = spawn<{ index: number; received: number }>(2, { mode: 'echo' });
    expect(pool.workers).toBe(2);
    expect(() => pool.send(2, { seq: 0, to: 2 })).toThrow(RangeError);
    expect(() => pool.send(-1, { seq: 0, to: -1 })).toThrow(RangeError);
    expect(() => pool.send(0.5, { seq: 0, to: 0 })).toThrow(RangeError);
    expect(() => pool.send(0, { seq: 'one', to: 0 } as never)).toThrow(EncodeError);
    expect(() => pool.broadcast({ seq: 1 } as never)).toThrow(EncodeError);
    pool.send(1, { seq: 7, to: 1 });
    // The echo workers return only once their down$ completes.
    expect(await pool.stopAndJoin()).toEqual([
      { index: 0, received: 0 },
      { index: 1, received: 1 },
    ]);
    expect(() => pool.send(0, { seq: 8, to: 0 })).toThrow(TransportClosedError);
    expect(() => pool.broadcast({ seq: 8, to: -1 })).toThrow(TransportClosedError);
    expect(await drain(pool)).toEqual([{ worker: 1, seq: 7, to: 1 }]);
  });

  it('up$ receives every value of every worker through a small queue, then completes', async () => {
    const count = 1000;
    const pool = spawn<FloodResult>(4, { mode: 'flood', count, how: ['send', 'next', 'send', 'next'] }, { upCapacity: 4 });
    const marks = await lastValueFrom(pool.up$.pipe(toArray()));
    expect(perWorker(marks, 4)).toEqual({ counts: [count, count, count, count], outOfOrder: 0 });
    expect((await pool.join()).map((r) => r.sent)).toEqual([count, count, count, count]);
    expect(await pool.recvBurst()).toEqual([]);
  });

  it('up$ resubscribed from its own ending (concat(up$, up$), repeat) gets the ending too', async () => {
    // Before, the second subscription, made while the ending went out, waited for ever.
    const count = 50;
    const pool = spawn<FloodResult>(2, { mode: 'flood', count }, { upCapacity: 16 });
    const twice = lastValueFrom(concat(pool.up$, pool.up$).pipe(toArray(), timeout(20_000))); // a hang bound
    const repeated = lastValueFrom(pool.up$.pipe(repeat(2), toArray(), timeout(20_000)));
    await pool.join();
    const marks = await twice;
    expect(perWorker(marks, 2)).toEqual({ counts: [count, count], outOfOrder: 0 });
    expect(await repeated).toEqual(marks); // both saw every value as it left the queue
  });

  it('upCapacity 1: trySend reports full, stopAndJoin drains without deadlock, every value arrives once, in order', async () => {
    const count = 2000;
    const counters = new SharedArrayBuffer(COUNTER_SLOTS * 4);
    const cells = new Int32Array(counters);
    const pool = spawn<FloodResult>(
      4,
      { mode: 'flood', count, how: ['send', 'try', 'next', 'send'], counters },
      { upCapacity: 1 },
    );
    // Nobody takes values: after the first, worker 1's trySend must find the queue full.
    await until(() => Atomics.load(cells, FULL + 1) > 0);
    await tick(20);
    expect(pool.queued).toBeLessThanOrEqual(1);
    const results = await pool.stopAndJoin();
    expect(results.map((r) => r.sent)).toEqual([count, count, count, count]);
    expect(results[1].full).toBeGreaterThan(0);
    expect(results[1].full).toBe(Atomics.load(cells, FULL + 1));
    // Joined: what nobody took is still there.
    const marks = await drain(pool);
    expect(perWorker(marks, 4)).toEqual({ counts: [count, count, count, count], outOfOrder: 0 });
  });

  it('recvBurst takes exactly what is queued at the call, never a value that arrives later', async () => {
    const count = 20_000;
    const counters = new SharedArrayBuffer(COUNTER_SLOTS * 4);
    const begun = new Int32Array(counters); // bumped by each worker before each send
    const total = () => begun[0] + begun[1] + begun[2] + begun[3];
    const pool = spawn<FloodResult>(4, { mode: 'flood', count, counters }, { upCapacity: 4 * count });
    let ended = false;
    const joined = pool.join().finally(() => (ended = true));
    const marks: Mark[] = [];
    let late = 0; // values in a burst that the workers had not begun to send at the call
    let wrongSize = 0;
    let checked = 0; // calls with values queued, after which the workers sent more
    for (;;) {
      const queued = pool.queued;
      const burstP = pool.recvBurst();
      // Read after the call: anything a burst may hold was begun before this.
      const snapshot = [0, 1, 2, 3].map((w) => Atomics.load(begun, w));
      const before = snapshot.reduce((a, b) => a + b);
      // Hold the manager busy while the workers run ahead, then let it read
      // what they sent into its queue before the burst is looked at.
      holdBusyUntil(() => total() >= Math.min(before + 256, 4 * count));
      const ranAhead = total() > before;
      await until(() => pool.queued > 0 || ended);
      const burst = await burstP;
      if (queued > 0) {
        if (burst.length !== queued) wrongSize++;
        for (const mark of burst) if (mark.seq >= snapshot[mark.worker]) late++;
        if (ranAhead && pool.queued > 0) checked++;
      } else if (burst.length === 0) {
        break; // the pool has ended and nothing is left
      }
      marks.push(...burst);
    }
    expect({ late, wrongSize }).toEqual({ late: 0, wrongSize: 0 });
    expect(checked).toBeGreaterThan(0);
    expect(perWorker(marks, 4)).toEqual({ counts: [count, count, count, count], outOfOrder: 0 });
    expect((await joined).map((r) => r.sent)).toEqual([count, count, count, count]);
  });

  it('recvBurst with nothing queued waits for the next arrival', async () => {
    const pool = spawn<{ index: number; received: number }>(2, { mode: 'echo' });
    const burst = pool.recvBurst();
    expect(pool.queued).toBe(0);
    pool.send(0, { seq: 1, to: 0 });
    expect(await burst).toEqual([{ worker: 0, seq: 1, to: 0 }]);
    await pool.stopAndJoin();
    expect(await pool.recvBurst()).toEqual([]);
  });

  it('unsubscribing from up$ midway leaves the rest in the queue for recvBurst', async () => {
    const count = 500;
    const pool = spawn<FloodResult>(2, { mode: 'flood', count }, { upCapacity: 16 });
    const first = await lastValueFrom(pool.up$.pipe(take(100), toArray()));
    expect(first).toHaveLength(100);
    // Nobody takes values now: the workers wait on the full queue until stop lifts the bound.
    await pool.stopAndJoin();
    const rest = await drain(pool);
    expect(perWorker([...first, ...rest], 2)).toEqual({ counts: [count, count], outOfOrder: 0 });
  });

  it('a worker that throws: join rejects with its WorkerError, up$ gets what it sent, then errors', async () => {
    const pool = spawn(3, { mode: 'throw', failing: 1 });
    const seen: Mark[] = [];
    const upEnded = new Promise<unknown>((resolve) =>
      pool.up$.subscribe({ next: (m) => seen.push(m), error: resolve, complete: () => resolve('completed') }),
    );
    const err = (await pool.join().then(
      () => undefined,
      (e: unknown) => e,
    )) as WorkerError;
    expect(err).toBeInstanceOf(WorkerError);
    expect(err.code).toBe(ErrorCode.WORKER);
    expect(err.workerIndex).toBe(1);
    expect(err.workerName).toBe('RangeError');
    expect(err.message).toContain('worker 1 refuses');
    const upErr = (await upEnded) as WorkerError;
    expect(upErr).toBeInstanceOf(WorkerError);
    expect(upErr.workerIndex).toBe(1);
    expect(seen).toEqual([0, 1, 2].map((seq) => ({ worker: 1, seq, to: -1 })));
    await expect(pool.recvBurst()).rejects.toBeInstanceOf(WorkerError);
  });

  it('a worker that exits with code 3: join rejects with its WorkerError and up$ errors', async () => {
    const pool = spawn(3, { mode: 'exit', failing: 2 });
    const upEnded = new Promise<unknown>((resolve) => pool.up$.subscribe({ error: resolve, complete: () => resolve('completed') }));
    const err = (await pool.join().then(
      () => undefined,
      (e: unknown) => e,
    )) as WorkerError;
    expect(err).toBeInstanceOf(WorkerError);
    expect(err.workerIndex).toBe(2);
    expect(err.message).toContain('code 3');
    const upErr = (await upEnded) as WorkerError;
    expect(upErr).toBeInstanceOf(WorkerError);
    expect(upErr.workerIndex).toBe(2);
  });

  it('once a worker has failed, send and broadcast throw TransportClosedError at once, before the pool has ended', async () => {
    // Before, from the failure until the other threads were terminated, a send went into a closing wire and was dropped unsaid.
    const pool = spawn(2, { mode: 'exit', failing: 1 });
    const ended = pool.join().catch(() => {});
    let refusal: Error | undefined;
    for (let seq = 0; !refusal; seq++) {
      try {
        pool.send(0, { seq, to: 0 });
      } catch (err) {
        refusal = err as Error;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(refusal).toBeInstanceOf(TransportClosedError);
    expect(refusal.message).toBe('send: the pool is failing (a worker failed)');
    expect(() => pool.broadcast({ seq: 0, to: -1 })).toThrow(TransportClosedError);
    await ended;
  });

  it('a worker whose up stream errors fails the pool, though its function returned', async () => {
    const pool = spawn(2, { mode: 'up-error', failing: 0 });
    const upEnded = new Promise<unknown>((resolve) => pool.up$.subscribe({ error: resolve, complete: () => resolve('completed') }));
    const err = (await pool.join().then(
      () => undefined,
      (e: unknown) => e,
    )) as WorkerError;
    expect(err).toBeInstanceOf(WorkerError);
    expect(err.workerIndex).toBe(0);
    expect(err.workerName).toBe('TypeError');
    expect(err.message).toContain('the source failed');
    expect(await upEnded).toBe(err);
  });

  it('a module without a default export fails join with WorkerError', async () => {
    const pool = WorkerPool.spawn(2, `${__dirname}/../workers/no-default.worker.ts`, { down: Down, up: Mark });
    const err = (await pool.join().then(
      () => undefined,
      (e: unknown) => e,
    )) as WorkerError;
    expect(err).toBeInstanceOf(WorkerError);
    expect([0, 1]).toContain(err.workerIndex);
    expect(err.workerName).toBe('TypeError');
  });

  it('values sent to a worker that never reads down$ do not hold the pool up', async () => {
    const pool = spawn<FloodResult>(1, { mode: 'flood', count: 10 }, { bytes: 4096 });
    // Far more than its ring holds: the rest waits in the manager, unbounded.
    for (let seq = 0; seq < 10_000; seq++) pool.send(0, { seq, to: 0 });
    expect((await pool.stopAndJoin()).map((r) => r.sent)).toEqual([10]);
    expect(perWorker(await drain(pool), 1)).toEqual({ counts: [10], outOfOrder: 0 });
  });

  describe('a value larger than the rings can ever hold', () => {
    // The Down record with a string after it: the workers decode `seq` and `to` as ever.
    const Padded = codec({
      type: 'record',
      name: 'Down',
      fields: [
        { name: 'seq', type: 'long' },
        { name: 'to', type: 'int' },
        { name: 'pad', type: 'string' },
      ],
    } as const);
    const huge = 'x'.repeat(8192);

    it('send and broadcast throw FrameError at once; the pool runs on and loses nothing else', async () => {
      // It used to go down the wire and fail the worker's stream: the pool failed, blaming worker 0, and the values after it were lost.
      const pool = WorkerPool.spawn<ValueOf<typeof Padded>, Mark, { index: number; received: number }>(2, WORKER, { down: Padded, up: Mark, args: { mode: 'echo' }, bytes: 4096 });
      pool.send(0, { seq: 0, to: 0, pad: '' });
      expect(() => pool.send(0, { seq: 1, to: 0, pad: huge })).toThrow(FrameError);
      expect(() => pool.broadcast({ seq: 1, to: -1, pad: huge })).toThrow(FrameError);
      pool.send(0, { seq: 2, to: 0, pad: '' });
      pool.broadcast({ seq: 3, to: -1, pad: '' });
      expect(await pool.stopAndJoin()).toEqual([
        { index: 0, received: 3 },
        { index: 1, received: 1 },
      ]);
      expect((await drain(pool)).map(({ worker, seq }) => [worker, seq]).sort()).toEqual([[0, 0], [0, 2], [0, 3], [1, 3]]);
    });

    it('behind values that wait for room, it throws FrameError at once too, not when its turn comes', async () => {
      const pool = WorkerPool.spawn<ValueOf<typeof Padded>, Mark, FloodResult>(1, WORKER, { down: Padded, up: Mark, args: { mode: 'flood', count: 3 }, bytes: 4096 });
      for (let seq = 0; seq < 1000; seq++) pool.send(0, { seq, to: 0, pad: '' }); // the ring holds a few hundred: the rest wait
      expect(() => pool.send(0, { seq: 1000, to: 0, pad: huge })).toThrow(/can never fit the pool's rings of 4096 bytes/);
      expect(() => pool.send(0, { seq: 1000, to: 0, pad: 5 as never })).toThrow(EncodeError);
      pool.send(0, { seq: 1001, to: 0, pad: '' });
      expect((await pool.stopAndJoin()).map((r) => r.sent)).toEqual([3]);
    });
  });

  it("a worker's value larger than the rings, sent behind values that wait for room, is refused with FrameError: the pool runs on", async () => {
    // It used to be queued in the wire, its send resolved, and the pool failed when its turn came.
    const pool = WorkerPool.spawn<Down, Uint8Array, { index: number; refused: string }>(1, WORKER, { down: Down, up: raw, args: { mode: 'up-huge' }, bytes: 256 });
    expect(await pool.stopAndJoin()).toEqual([{ index: 0, refused: 'FrameError' }]);
    expect((await drain(pool)).map((b) => [b.length, b[0]])).toEqual([[100, 0], [100, 1], [100, 2], [100, 3], [100, 4], [1, 9]]);
  });

  it('terminate ends every thread now; join and recvBurst reject with WorkerError', async () => {
    const pool = spawn(2, { mode: 'echo' });
    await pool.terminate();
    await expect(pool.join()).rejects.toBeInstanceOf(WorkerError);
    await expect(pool.recvBurst()).rejects.toBeInstanceOf(WorkerError);
    expect(() => pool.send(0, { seq: 0, to: 0 })).toThrow(TransportClosedError);
  });

  it('refuses bad options at the door, naming the option, and starts no thread', () => {
    const codecs = { down: Down, up: Mark };
    expect(() => WorkerPool.spawn(0, WORKER, codecs)).toThrow(new RangeError('WorkerPool.spawn: n (the number of workers) must be a positive integer'));
    expect(() => WorkerPool.spawn(1e9, WORKER, codecs)).toThrow(new RangeError('WorkerPool.spawn: n (the number of workers) must be at most 1024'));
    expect(() => WorkerPool.spawn(1.5, WORKER, codecs)).toThrow(RangeError);
    expect(() => WorkerPool.spawn(1, 42 as never, codecs)).toThrow(new TypeError('WorkerPool.spawn: module must be a path or a file: URL'));
    expect(() => WorkerPool.spawn(1, new URL('https://example.com/w.js'), codecs)).toThrow(new TypeError('WorkerPool.spawn: module must be a path or a file: URL'));
    expect(() => WorkerPool.spawn(1, WORKER, undefined as never)).toThrow(TypeError);
    expect(() => WorkerPool.spawn(1, WORKER, { down: {} as never, up: Mark })).toThrow(/^options\.down must be a codec/);
    expect(() => WorkerPool.spawn(1, WORKER, { down: Down } as never)).toThrow(/^options\.up must be a codec/);
    for (const upCapacity of [0, -1, 1.5, NaN, Infinity]) {
      expect(() => WorkerPool.spawn(1, WORKER, { ...codecs, upCapacity })).toThrow(new RangeError('options.upCapacity must be a positive integer'));
    }
    expect(() => WorkerPool.spawn(1, WORKER, { ...codecs, upCapacity: 2 ** 30 })).toThrow(/^options\.upCapacity must be at most/);
    for (const bytes of [1000, 128, 2 ** 31, -256]) {
      expect(() => WorkerPool.spawn(1, WORKER, { ...codecs, bytes })).toThrow(new RangeError('options.bytes must be a power of two from 256 to 2^30'));
    }
    expect(started).toHaveLength(0);
  });

  it('args that cannot cross to a thread are a TypeError naming them, and leave no thread running', () => {
    expect(() => WorkerPool.spawn(3, WORKER, { down: Down, up: Mark, args: { mode: 'echo', then: () => 1 } as never })).toThrow(
      /^WorkerPool\.spawn: options\.args must survive a structured clone/,
    );
    // afterEach checks that every thread it started has exited.
  });
});
