/**
 * Suite `stage`: items/s through the `stage` operator running a trivial map
 * (`{ id, x }` → `{ id, y: x * 2 + 1 }`) on 2 worker threads, against
 * piscina running the same function on a pool of 2 threads
 * (`concurrentTasksPerWorker: 16`). A ratio > 1 means stage is faster.
 *
 * Each repetition starts its threads (a `stage` subscription, a piscina
 * pool), pushes an untimed warm-up batch through them and waits for all of
 * it to come back, so thread start-up, module loading and the first JIT are
 * outside the clock; then times `n` items from the first one sent to the
 * last result received, and ends the threads (outside the clock too).
 *
 * Checked, both rounds, both runners: each result's `y` is `2 x + 1` of its
 * `id`'s input, every id comes back exactly once (a bitmap), ordered stage
 * in input order; the count and the checksum (sum of `y`) must match what
 * was sent. A miss fails the case.
 */
import { extname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Piscina } from 'piscina';
import { Subject, type Subscription } from 'rxjs';
import { stage } from '../../operators';
import type { Case, Runner, Sample, Suite } from '../harness';
import { Item, Result } from '../workers/stage-map.worker';

/** Worker threads in every case, for both runners. */
const THREADS = 2;
/** piscina's tasks at once per thread. */
const TASKS_PER_THREAD = 16;
/** piscina tasks kept in flight by the feeder (2 × 16 per thread). */
const WINDOW = 2 * TASKS_PER_THREAD * THREADS;
/** A round that takes longer has hung: the case fails. */
const TIMEOUT_MS = 120_000;

// This file compiles to dist/bench/suites/stage.js beside dist/bench/workers/;
// under ts-node it is bench/suites/stage.ts beside bench/workers/*.ts.
const EXT = extname(__filename);
const STAGE_WORKER = join(__dirname, '..', 'workers', `stage-map.worker${EXT}`);
const PISCINA_WORKER = join(__dirname, '..', 'workers', `piscina-map.worker${EXT}`);

/** Items of one repetition. */
interface StageSize {
  /** Timed items. */
  readonly n: number;
  /** Untimed items first. */
  readonly warmup: number;
}

/** The input with id `id`: its `y` is `id + 1`, exact in a double. */
function itemOf(id: number): Item {
  return { id, x: id / 2 };
}

/** Checks results as they arrive: ids `from` … `from + count - 1`, each once, `y` right, in order if `ordered`. */
class Check {
  private readonly seen: Uint8Array;
  private nextInOrder: number;
  received = 0;
  checksum = 0;
  problem: string | undefined;

  constructor(
    private readonly from: number,
    private readonly count: number,
    private readonly ordered: boolean,
  ) {
    this.seen = new Uint8Array(count);
    this.nextInOrder = from;
  }

  /** Takes one result; false once something is wrong (the first problem is kept). */
  add(result: Result): void {
    this.received++;
    this.checksum += result.y;
    if (this.problem) return;
    const at = result.id - this.from;
    if (!(at >= 0 && at < this.count)) this.problem = `id ${result.id} out of range`;
    else if (this.seen[at] === 1) this.problem = `id ${result.id} received twice`;
    else if (result.y !== result.id + 1) this.problem = `id ${result.id}: y = ${result.y}, expected ${result.id + 1}`;
    else if (this.ordered && result.id !== this.nextInOrder) this.problem = `id ${result.id} where ${this.nextInOrder} was due (ordered)`;
    else {
      this.seen[at] = 1;
      this.nextInOrder++;
    }
  }

  /** Throws unless every id came back once, right, with the right checksum. */
  verify(runner: string, round: string): void {
    // Sum of y = id + 1 over from … from + count - 1.
    const expected = this.count * this.from + (this.count * (this.count + 1)) / 2;
    const problems: string[] = [];
    if (this.problem) problems.push(this.problem);
    if (this.received !== this.count) problems.push(`${this.received} results, ${this.count} items sent`);
    if (this.checksum !== expected) problems.push(`checksum ${this.checksum}, expected ${expected}`);
    if (problems.length > 0) throw new Error(`${runner}, ${round} round: ${problems.join('; ')}`);
  }
}

/** Rejects after `ms` with a message naming `what`; `cancel` stops the timer. */
function deadline(what: string, ms = TIMEOUT_MS): { promise: Promise<never>; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms / 1000} s`)), ms);
  });
  promise.catch(() => {});
  return { promise, cancel: () => clearTimeout(timer) };
}

/**
 * One repetition of `stage`: one subscription (2 threads) fed through a
 * Subject, a warm-up batch, then `n` items pushed in one synchronous loop
 * (as `from(array)` would: what `inFlight` does not admit waits in stage's
 * queue); the clock stops at the last result.
 */
function stageRunner(size: StageSize, ordered: boolean): Runner {
  const name = `stage, ${THREADS} workers${ordered ? '' : ', ordered: false'}`;
  return {
    name,
    async run(): Promise<Sample> {
      const source = new Subject<Item>();
      let check = new Check(0, size.warmup, ordered);
      let goal = { count: size.warmup, resolve: () => {} };
      let failed: (err: unknown) => void = () => {};
      const failure = new Promise<never>((_, reject) => {
        failed = reject;
      });
      failure.catch(() => {});
      let completed: () => void = () => {};
      const completion = new Promise<void>((resolve) => {
        completed = resolve;
      });
      const reach = (count: number) =>
        new Promise<void>((resolve) => {
          goal = { count, resolve };
          if (check.received >= count) resolve();
        });
      const sub: Subscription = source.pipe(stage(STAGE_WORKER, { workers: THREADS, input: Item, output: Result, ordered })).subscribe({
        next: (result) => {
          check.add(result);
          if (check.received === goal.count) goal.resolve();
        },
        error: (err: unknown) => failed(err),
        complete: () => completed(),
      });
      const limit = deadline(name);
      try {
        const warm = reach(size.warmup);
        for (let id = 0; id < size.warmup; id++) source.next(itemOf(id));
        await Promise.race([warm, failure, limit.promise]);
        check.verify(name, 'warm-up');

        check = new Check(size.warmup, size.n, ordered);
        const end = size.warmup + size.n;
        const timed = reach(size.n);
        const t0 = performance.now();
        for (let id = size.warmup; id < end; id++) source.next(itemOf(id));
        await Promise.race([timed, failure, limit.promise]);
        const elapsed = performance.now() - t0;
        check.verify(name, 'timed');

        source.complete();
        await Promise.race([completion, failure, limit.promise]);
        return { rate: size.n / (elapsed / 1000) };
      } finally {
        limit.cancel();
        sub.unsubscribe();
      }
    },
  };
}

/** Runs items `from` … `from + count - 1` on `pool`, keeping `WINDOW` tasks in flight; each result goes to `check`. */
function feedPool(pool: Piscina, from: number, count: number, check: Check): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const end = from + count;
    let next = from;
    let inFlight = 0;
    const settle = (result: Result) => {
      inFlight--;
      check.add(result);
      if (next < end) launch();
      else if (inFlight === 0) resolve();
    };
    const launch = () => {
      while (inFlight < WINDOW && next < end) {
        inFlight++;
        (pool.run(itemOf(next++)) as Promise<Result>).then(settle, reject);
      }
    };
    if (count === 0) resolve();
    else launch();
  });
}

/**
 * One repetition of piscina: a fresh pool of exactly 2 threads, 16 tasks at
 * once per thread, fed by keeping `WINDOW` `pool.run(item)` in flight (a new
 * one as each resolves); warm-up batch, then `n` timed items.
 */
function piscinaRunner(size: StageSize): Runner {
  const name = `piscina, ${THREADS} threads, ${TASKS_PER_THREAD}/thread`;
  return {
    name,
    async run(): Promise<Sample> {
      const pool = new Piscina({
        filename: PISCINA_WORKER,
        minThreads: THREADS,
        maxThreads: THREADS,
        concurrentTasksPerWorker: TASKS_PER_THREAD,
        idleTimeout: TIMEOUT_MS,
        // Under ts-node the worker module is TypeScript: the pool's threads register ts-node as threads/worker.ts does.
        ...(EXT === '.ts' ? { execArgv: ['-r', 'ts-node/register/transpile-only'] } : {}),
      });
      const limit = deadline(name);
      try {
        const warm = new Check(0, size.warmup, false);
        await Promise.race([feedPool(pool, 0, size.warmup, warm), limit.promise]);
        warm.verify(name, 'warm-up');

        const check = new Check(size.warmup, size.n, false);
        const t0 = performance.now();
        await Promise.race([feedPool(pool, size.warmup, size.n, check), limit.promise]);
        const elapsed = performance.now() - t0;
        check.verify(name, 'timed');
        return { rate: size.n / (elapsed / 1000) };
      } finally {
        limit.cancel();
        await pool.destroy();
      }
    },
  };
}

export const stageSuite: Suite = {
  name: 'stage',
  title: `stage (a map on ${THREADS} worker threads) vs piscina (${THREADS} threads, ${TASKS_PER_THREAD} tasks each): records/s`,
  cases({ quick }): Case[] {
    // piscina is ~an order of magnitude slower: fewer items, so a round takes about as long; both report a rate.
    const ours: StageSize = quick ? { n: 200_000, warmup: 20_000 } : { n: 1_000_000, warmup: 100_000 };
    const theirs: StageSize = quick ? { n: 20_000, warmup: 5_000 } : { n: 100_000, warmup: 20_000 };
    return [
      {
        name: `map on ${THREADS} workers, ordered`,
        metrics: [{ key: 'rate', label: `map on ${THREADS} workers, ordered`, unit: 'records/s', better: 'higher' }],
        subject: stageRunner(ours, true),
        baselines: [piscinaRunner(theirs)],
      },
      {
        name: `map on ${THREADS} workers, unordered`,
        metrics: [{ key: 'rate', label: `map on ${THREADS} workers, ordered: false`, unit: 'records/s', better: 'higher' }],
        subject: stageRunner(ours, false),
        baselines: [piscinaRunner(theirs)],
      },
    ];
  },
};
