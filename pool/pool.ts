/**
 * `WorkerPool`: the manager side of the worker-pool crate's design in RxJS.
 * N worker threads on one module; unbounded messages down to them; one
 * bounded queue up from all of them. The worker side is pool/worker.ts.
 */
import type { Observable } from 'rxjs';
import { isCodec, type Codec } from '../core/codec';
import { TransportClosedError, WorkerError, asWorkerError } from '../core/errors';
import type { ModuleRef } from '../threads/load-module';
import { open } from '../transports/open';
import { HostedWorker, runnerPath } from '../threads/worker';
import type { WireSubject } from '../core/wire-subject';
import { pair, type ShmEnd } from '../transports/shm';
import { transferList } from '../transports';
import { Credits, MAX_CAPACITY, createCredits } from './credits';
import { specOf, type PoolSetup } from './types';
import { UpQueue } from './up-queue';

/** Options of {@link WorkerPool.spawn}. */
export interface PoolOptions<D, U> {
  /** The codec of the values the manager sends down to the workers. */
  down: Codec<D>;
  /** The codec of the values the workers send up to the manager. */
  up: Codec<U>;
  /**
   * How many values the up queue holds, for the whole pool: values in the
   * workers' up rings plus those waiting in the manager's queue. With it
   * full, a worker's `up.send` waits and `up.trySend` returns false, until a
   * value leaves the manager's queue or the pool stops. A positive integer,
   * at most 2^30 - 1. Default 1024.
   */
  upCapacity?: number;
  /** Passed to every worker's function as its second argument (structured-cloned). Default undefined. */
  args?: unknown;
  /**
   * Bytes of each shared ring, a power of two from 256 to 2^30. Each worker
   * has two pairs (down and up), two rings each. Default 256 KiB.
   */
  bytes?: number;
}

/** One worker and the manager's two ends to it. */
interface Member<D, U> {
  host: HostedWorker;
  /** Manager → worker; only its outgoing side is used. */
  down: WireSubject<D>;
  /** Worker → manager; only its incoming side is used. */
  up: WireSubject<U>;
  /** Resolves when the worker's up stream completed (all its values are queued); rejects with `WorkerError`. */
  upDone: Promise<void>;
}

interface Checked<D, U> {
  down: Codec<D>;
  up: Codec<U>;
  upCapacity: number;
  args: unknown;
  bytes: number;
}

/**
 * A pool of worker threads with unbounded messages down to each worker and
 * one bounded queue up from all of them, after Rust's worker-pool crate.
 *
 * ## Example
 * ```ts
 * import { WorkerPool, codec } from 'rxwire';
 * const Job = codec({ type: 'record', name: 'Job', fields: [{ name: 'n', type: 'long' }] } as const);
 * const Out = codec({ type: 'record', name: 'Out', fields: [{ name: 'n', type: 'long' }, { name: 'f', type: 'double' }] } as const);
 *
 * const pool = WorkerPool.spawn(4, new URL('./square.worker.js', import.meta.url), { down: Job, up: Out });
 * pool.up$.subscribe((out) => console.log(out.n, out.f));
 * for (let n = 0; n < 1000; n++) pool.send(n % 4, { n });
 * const counts = await pool.stopAndJoin();     // [250, 250, 250, 250]
 *
 * // square.worker.ts
 * import type { PoolWorker } from 'rxwire';
 * import { concatMap, count } from 'rxjs';
 * export default (worker: PoolWorker<{ n: number }, { n: number; f: number }>) =>
 *   worker.down$.pipe(concatMap((job) => worker.up.send({ n: job.n, f: Math.sqrt(job.n) })), count());
 * ```
 *
 * Workers. `spawn(n, module, options)` starts `n` threads on `module`
 * (a path or a `file:` URL; `.ts` runs when the caller runs under ts-node).
 * Its default export is called once per worker as `fn(worker, args)` with a
 * `PoolWorker` (`index`, `workers`, `down$`, `up`) and may return a value, a
 * Promise or an Observable (its last value): that is the worker's result in
 * `join()`. When it settles, the worker's up stream completes (or errors,
 * if it failed). Each worker has two shared-memory pairs of `options.bytes`
 * rings: one carries down, one carries up. The codecs cross to the workers
 * as their schemas, rebuilt there with `codec(schema)` (or `raw`): a codec's
 * `validate: false` and avsc types built by hand (`codecOfType`) do not cross.
 *
 * Down is unbounded: `send(index, v)` and `broadcast(v)` never wait; values
 * a worker has not read yet wait in its ring, then in the manager's memory.
 * Per worker they arrive in the order sent. Both throw at once, never
 * through a stream: `RangeError` for a bad index, `EncodeError` for a value
 * that does not fit `options.down`, `TransportClosedError` after `stop()` or
 * once the pool has ended. A worker reads `down$` only while subscribed:
 * before its first subscriber, what is sent to it waits; after its last
 * subscriber leaves, what is sent to it is dropped, as is what it never read
 * when the pool ends.
 *
 * Up is one queue of `options.upCapacity` values for the whole pool, a
 * counting semaphore in shared memory (pool/credits.ts): a worker takes a
 * credit before its value enters its up ring; the manager reads every ring
 * as values arrive into its own queue, and gives the credit back when the
 * value leaves that queue: delivered to `up$` subscribers, or taken by
 * `recvBurst()`. Values wait in the queue while nobody takes them, so none
 * is lost for want of a subscriber; with the queue full, workers wait. Per
 * worker, values arrive in the order sent; across workers they interleave.
 * In a worker, `up.send` waits for a credit in `Atomics.waitAsync` (the
 * event loop runs on), `up.trySend` returns false without one, and
 * `up.next` (for `source$.subscribe(worker.up)`) queues in the worker
 * without bound and forwards as credits come, in one order with `send`.
 * `up.error(e)` ends the worker's up stream at once: its values still
 * waiting for a credit are dropped (as RxJS operators drop their buffers on
 * error); those already sent arrive before the failure.
 *
 * Reading up. `up$` is hot: each value goes to the subscribers present when
 * it leaves the queue (all of them); one subscribing gets what waits at once,
 * then what arrives. A subscriber that leaves midway (`take(n)`) leaves what
 * it did not get in the queue, for a later subscriber or `recvBurst()`.
 * `recvBurst()` resolves with exactly what is queued at the call, taken out
 * at once, never with a value that arrives later; with nothing queued it
 * waits for the next arrival and resolves with what arrived then (one
 * worker's drain of its ring). A `recvBurst()` that waits for an arrival
 * takes it before `up$` subscribers see it. `up$` completes, and
 * `recvBurst()` resolves `[]`, once every worker has finished, their threads
 * have exited and the queue is empty. When the pool fails, `up$` errors and
 * `recvBurst()` rejects with that `WorkerError`, after what is queued.
 *
 * Stopping. `stop()` completes every worker's `down$` (after what was sent)
 * and drains: the bound is lifted for good, so every worker's waiting `send`
 * goes on and every up value moves into the manager's queue, and a worker
 * blocked on a full queue can never deadlock a join. `join()` alone does not
 * lift the bound: while nobody takes values, workers that fill the queue
 * wait, and so does `join()`. `stopAndJoin()` is `stop()` then `join()`.
 *
 * Joining. `join()` resolves with every worker's result, in index order,
 * once every worker has finished, its up stream is complete and its thread
 * has exited. It rejects with the first `WorkerError` (its `workerIndex`
 * names the worker) as soon as a worker throws, exits, or ends its up stream
 * with an error (`worker.up.error(e)`); the other workers are then
 * terminated. The pool runs to its end whether or not `join()` is called;
 * each call returns the same promise. Values not yet taken stay readable
 * through `recvBurst()` and `up$` after the end. `terminate()` ends every
 * thread now; if the workers had not all finished, `join()` rejects with
 * `WorkerError`. Every ring and thread is released when the pool ends.
 */
export class WorkerPool<D, U, R = unknown> {
  /** How many workers the pool has. */
  readonly workers: number;
  /** Every value the workers send up; see the class comment. */
  readonly up$: Observable<U>;
  private readonly members: Member<D, U>[] = [];
  private readonly credits: Credits;
  private readonly queue: UpQueue<U>;
  private readonly downCodec: Codec<D>;
  private readonly done: Promise<R[]>;
  private abort!: (err: WorkerError) => void;
  private readonly aborted = new Promise<never>((_, reject) => {
    this.abort = reject;
  });
  private stopped = false;
  private ended = false;

  /**
   * Starts `n` workers on `module`.
   *
   * @param n how many worker threads, a positive integer
   * @param module the worker module: a path or a `file:` URL, whose default
   *   export is a `PoolWorkerFunction<D, U, R>`
   * @param options the codecs down and up, and see {@link PoolOptions}
   * @returns the running pool
   * @throws RangeError, TypeError for an option out of range or of the wrong type (naming it)
   */
  static spawn<D, U, R = unknown>(n: number, module: ModuleRef, options: PoolOptions<D, U>): WorkerPool<D, U, R> {
    return new WorkerPool<D, U, R>(n, module, checkOptions(n, module, options));
  }

  private constructor(n: number, module: ModuleRef, options: Checked<D, U>) {
    this.workers = n;
    this.downCodec = options.down;
    this.aborted.catch(noop);
    const cell = createCredits(options.upCapacity);
    this.credits = new Credits(cell);
    this.queue = new UpQueue<U>(this.credits);
    this.up$ = this.queue.up$;
    const runner = runnerPath(__dirname, 'worker');
    for (let index = 0; index < n; index++) {
      try {
        this.members.push(this.start(index, runner, module, cell, options));
      } catch (err) {
        // A worker that could not start (a schema too large for its ring,
        // args that do not clone): none of the others is left running.
        this.closeWires();
        for (const member of this.members) void member.host.terminate();
        throw err;
      }
    }
    this.done = this.run();
    this.done.catch(noop);
  }

  /** How many values wait in the manager's queue (taken by neither `up$` nor `recvBurst()` yet). */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * Sends `value` down to worker `index`; never waits.
   * @throws RangeError when `index` is not a worker's index
   * @throws EncodeError when `value` does not fit `options.down`
   * @throws TransportClosedError after `stop()`, or once the pool has ended
   */
  send(index: number, value: D): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.workers) {
      throw new RangeError(`send: index must be an integer from 0 to ${this.workers - 1}, got ${index}`);
    }
    this.checkOpen('send');
    this.downCodec.check(value);
    this.members[index].down.next(value);
  }

  /**
   * Sends `value` down to every worker; never waits.
   * @throws EncodeError when `value` does not fit `options.down`
   * @throws TransportClosedError after `stop()`, or once the pool has ended
   */
  broadcast(value: D): void {
    this.checkOpen('broadcast');
    this.downCodec.check(value);
    for (const member of this.members) member.down.next(value);
  }

  /**
   * Takes everything queued now; with nothing queued, waits for the next
   * arrival. Resolves `[]` only when the pool has ended and nothing is left;
   * rejects with the pool's `WorkerError` once it failed and nothing is left.
   */
  recvBurst(): Promise<U[]> {
    return this.queue.recvBurst();
  }

  /** Completes every worker's `down$` and lifts the up queue's bound for good (see the class comment). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const member of this.members) member.down.complete();
    this.credits.lift();
  }

  /** Every worker's result, in index order; rejects with the first `WorkerError` (see the class comment). */
  join(): Promise<R[]> {
    return this.done;
  }

  /** `stop()`, then `join()`. */
  stopAndJoin(): Promise<R[]> {
    this.stop();
    return this.join();
  }

  /** Ends every worker thread now; resolves once they have all exited. */
  async terminate(): Promise<void> {
    this.stopped = true;
    this.abort(new WorkerError('the pool was terminated', undefined, undefined));
    await Promise.all(this.members.map((member) => member.host.terminate()));
    await this.done.then(noop, noop);
  }

  private start(index: number, runner: string, module: ModuleRef, credits: SharedArrayBuffer, options: Checked<D, U>): Member<D, U> {
    const [downHere, downThere] = pair({ bytes: options.bytes });
    const [upHere, upThere] = pair({ bytes: options.bytes });
    const setup: PoolSetup = {
      workers: this.workers,
      down: downThere,
      up: upThere,
      downCodec: specOf(options.down as Codec<unknown>),
      upCodec: specOf(options.up as Codec<unknown>),
      credits,
      args: options.args,
    };
    let host: HostedWorker | undefined;
    let down: WireSubject<D> | undefined;
    try {
      host = new HostedWorker({ runner, module, index, setup, transferList: transferList(downThere, upThere) });
      const worker = host.worker;
      // Down is unbounded: `next` holds what the ring cannot take yet.
      down = open(downHere, options.down, { worker, maxQueue: Infinity });
      const up = open(upHere, options.up, { worker });
      up.complete(); // the manager writes nothing up
      const upDone = new Promise<void>((resolve, reject) => {
        up.bursts$.subscribe({
          next: (values) => this.queue.push(values),
          error: (err: unknown) => reject(asWorkerError(err, index)),
          complete: resolve,
        });
      });
      upDone.catch(noop);
      return { host, down, up, upDone };
    } catch (err) {
      // Our ends (one may be open already); theirs too unless they went to the worker.
      down?.close();
      const ends = host ? [downHere, upHere] : [downHere, downThere, upHere, upThere];
      if (host) void host.terminate();
      for (const end of ends) closeEnd(end);
      throw err;
    }
  }

  /** The pool's life: every result and up stream, then release; or, on the first failure, terminate. */
  private async run(): Promise<R[]> {
    try {
      const finished = Promise.all(
        this.members.map(async (member) => {
          const [value] = await Promise.all([member.host.result, member.upDone]);
          return value as R;
        }),
      );
      const results = await Promise.race([finished, this.aborted]);
      this.closeWires();
      await Promise.all(this.members.map((member) => member.host.close()));
      this.end({ kind: 'complete' });
      return results;
    } catch (err) {
      await Promise.all(this.members.map((member) => Promise.all([member.host.terminate(), member.host.exited])));
      // The threads are gone: each up wire reads what its worker published
      // (values sent before a throw included), then ends.
      await Promise.all(this.members.map((member) => member.upDone.catch(noop)));
      this.closeWires();
      this.end({ kind: 'error', error: err });
      throw err;
    }
  }

  private end(ending: { kind: 'complete' } | { kind: 'error'; error: unknown }): void {
    this.ended = true;
    this.queue.end(ending);
  }

  /** Completes what goes down and stops reading what comes up, on every member. */
  private closeWires(): void {
    for (const member of this.members) {
      member.down.close();
      member.up.close();
    }
  }

  private checkOpen(what: string): void {
    if (this.stopped || this.ended) throw new TransportClosedError(`${what}: the pool is ${this.ended ? 'over' : 'stopped'}`);
  }
}

/** Validates `spawn`'s arguments at the door, naming the one at fault. */
function checkOptions<D, U>(n: number, module: ModuleRef, options: PoolOptions<D, U>): Checked<D, U> {
  if (!Number.isInteger(n) || n < 1) throw new RangeError('WorkerPool.spawn: n (the number of workers) must be a positive integer');
  if (typeof module !== 'string' && !(module instanceof URL)) {
    throw new TypeError('WorkerPool.spawn: module must be a path or a file: URL');
  }
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('WorkerPool.spawn: options must be an object with the codecs `down` and `up`');
  }
  const { down, up, upCapacity = 1024, args, bytes = 256 * 1024 } = options;
  if (!isCodec(down)) throw new TypeError('options.down must be a codec (from codec(schema), or raw)');
  if (!isCodec(up)) throw new TypeError('options.up must be a codec (from codec(schema), or raw)');
  if (!Number.isInteger(upCapacity) || upCapacity < 1) throw new RangeError('options.upCapacity must be a positive integer');
  if (upCapacity > MAX_CAPACITY) throw new RangeError(`options.upCapacity must be at most ${MAX_CAPACITY}`);
  if (!Number.isInteger(bytes) || bytes < 256 || bytes > 2 ** 30 || (bytes & (bytes - 1)) !== 0) {
    throw new RangeError('options.bytes must be a power of two from 256 to 2^30');
  }
  return { down: down as Codec<D>, up: up as Codec<U>, upCapacity, args, bytes };
}

/** An up stream's failure as the `WorkerError` of worker `index`. */
/** Closes the liveness port of an end that never reached its WireSubject or its worker. */
function closeEnd(end: ShmEnd): void {
  end.live.close();
}

function noop(): void {}
