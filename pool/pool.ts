/**
 * `WorkerPool`: the manager side of the worker-pool crate's design in RxJS.
 * N worker threads on one module; unbounded messages down to them; one
 * bounded queue up from all of them. The worker side is pool/worker.ts.
 */
import type { Observable } from 'rxjs';
import type { Codec } from '../core/codec';
import { TransportClosedError, WorkerError } from '../core/errors';
import type { WireSubject } from '../core/wire-subject';
import { duplexLinks } from '../threads/links';
import type { ModuleRef } from '../threads/load-module';
import { startWorkers, type Crew } from '../threads/start';
import { runnerPath } from '../threads/worker';
import { open } from '../transports/open';
import { Credits, createCredits } from './credits';
import { checkOptions, type Checked, type PoolOptions } from './options';
import { specOf, type PoolSetup } from './types';
import { UpQueue } from './up-queue';
import { sendDown } from './down';
import { noop } from '../core/ending';

export type { PoolOptions } from './options';

/** One worker and the manager's two ends to it. */
interface Member<D, U> {
  /** Manager → worker; only its outgoing side is used. */
  down: WireSubject<D>;
  /** Worker → manager; only its incoming side is used. */
  up: WireSubject<U>;
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
 * that does not fit `options.down`, `FrameError` for one larger than a ring
 * (`options.bytes`; pool/down.ts), `TransportClosedError` after `stop()`,
 * once a worker has failed, or once the pool has ended. A worker reads `down$` only while subscribed:
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
 * Reading up. `up$` is hot: each value goes to the subscribers present when it leaves the queue
 * (all of them); one subscribing gets what waits at once, then what arrives. A subscriber that
 * leaves midway (`take(n)`) leaves what it did not get in the queue, for a later subscriber or
 * `recvBurst()`. `recvBurst()` resolves with exactly what is queued at the call, taken out at
 * once, never with a value that arrives later; with nothing queued it waits for the next arrival
 * and resolves with what arrived then (one worker's drain of its ring). A `recvBurst()` that waits
 * for an arrival takes it before `up$` subscribers see it. `up$` completes, and `recvBurst()`
 * resolves `[]`, once every worker has finished, their threads have exited and the queue is empty.
 * When the pool fails, `up$` errors and `recvBurst()` rejects with that `WorkerError`, after what
 * is queued.
 *
 * Stopping. `stop()` completes every worker's `down$` (after what was sent)
 * and drains: the bound is lifted for good, so every worker's waiting `send`
 * goes on and every up value moves into the manager's queue, and a worker
 * blocked on a full queue can never deadlock a join. `join()` alone does not
 * lift the bound: while nobody takes values, workers that fill the queue
 * wait, and so does `join()`. `stopAndJoin()` is `stop()` then `join()`.
 *
 * Joining. `join()` resolves with every worker's result, in index order, once every worker has
 * finished, its up stream is complete and its thread has exited. It rejects with the first
 * `WorkerError` (its `workerIndex` names the worker) as soon as a worker throws, exits, or ends
 * its up stream with an error (`worker.up.error(e)`); the other workers are then terminated. The
 * pool runs to its end whether or not `join()` is called; each call returns the same promise.
 * Values not yet taken stay readable through `recvBurst()` and `up$` after the end. `terminate()`
 * ends every thread now; if the workers had not all finished, `join()` rejects with `WorkerError`.
 * Every ring and thread is released when the pool ends.
 */
export class WorkerPool<D, U, R = unknown> {
  /** How many workers the pool has. */
  readonly workers: number;
  /** Every value the workers send up; see the class comment. */
  readonly up$: Observable<U>;
  private readonly crew: Crew<Member<D, U>[]>;
  /** Per worker, resolves when its up stream completed (all its values are queued); rejects with `WorkerError`. */
  private readonly upDone: Promise<void>[];
  private readonly credits: Credits;
  private readonly queue: UpQueue<U>;
  private readonly downCodec: Codec<D>;
  private readonly ringBytes: number;
  private readonly done: Promise<R[]>;
  private abort!: (err: WorkerError) => void;
  private readonly aborted = new Promise<never>((_, reject) => void (this.abort = reject));
  private stopped = false;
  private over: string | undefined; // why sends are refused besides stop(): a worker failed, or the pool ended

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
    this.ringBytes = options.bytes;
    this.aborted.catch(noop);
    const cell = createCredits(options.upCapacity);
    this.credits = new Credits(cell);
    this.queue = new UpQueue<U>(this.credits);
    this.up$ = this.queue.up$;
    const { links, ports } = duplexLinks(n, options.bytes);
    const downCodec = specOf(options.down as Codec<unknown>);
    const upCodec = specOf(options.up as Codec<unknown>);
    // A worker that cannot start (a schema too large for its ring, args that
    // do not clone) throws here, and none of the others is left running.
    this.crew = startWorkers({
      runner: runnerPath(__dirname, 'worker'),
      plans: links.map(({ there, transferList }, index) => {
        const setup: PoolSetup = { workers: n, down: there.down, up: there.up, downCodec, upCodec, credits: cell, ringBytes: options.bytes, args: options.args };
        return { module, index, setup, transferList };
      }),
      ports,
      connect: (hosts, own) =>
        hosts.map(({ worker }, index) => {
          // Down is unbounded: `next` holds what the ring cannot take yet.
          const down = own(open(links[index].here.down, options.down, { worker, maxQueue: Infinity }));
          const up = own(open(links[index].here.up, options.up, { worker }));
          up.complete(); // the manager writes nothing up
          return { down, up };
        }),
      onFailure: (err) => {
        this.over ??= 'failing (a worker failed)'; // sends refuse from now on, not drop into dying wires
        this.abort(err);
      },
      cloned: 'WorkerPool.spawn: options.args', // the rest of a setup is ends, schemas and numbers
    });
    const crew = this.crew;
    this.upDone = crew.wires.map(
      ({ up }, index) =>
        new Promise<void>((resolve, reject) => {
          up.bursts$.subscribe({
            next: (values) => this.queue.push(values),
            error: (err: unknown) => reject(crew.fail(err, index)),
            complete: resolve,
          });
        }),
    );
    for (const upDone of this.upDone) upDone.catch(noop);
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
   * @throws FrameError when `value` is larger than a ring can ever hold (`options.bytes`)
   * @throws TransportClosedError after `stop()`, once a worker failed, or the pool ended
   */
  send(index: number, value: D): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.workers) {
      throw new RangeError(`send: index must be an integer from 0 to ${this.workers - 1}, got ${index}`);
    }
    this.checkOpen('send');
    this.downCodec.check(value); // as broadcast: a codec made with validate: false checks here all the same
    sendDown(this.crew.wires[index].down, this.downCodec, this.ringBytes, value, 'send');
  }

  /**
   * Sends `value` down to every worker; never waits.
   * @throws EncodeError when `value` does not fit `options.down`
   * @throws TransportClosedError after `stop()`, once a worker failed, or the pool ended
   */
  broadcast(value: D): void {
    this.checkOpen('broadcast');
    this.downCodec.check(value);
    for (const member of this.crew.wires) sendDown(member.down, this.downCodec, this.ringBytes, value, 'broadcast');
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
    for (const member of this.crew.wires) member.down.complete();
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
    await this.crew.terminate();
    await this.done.then(noop, noop);
  }

  /** The pool's life: every result and up stream, then release; or, on the first failure, terminate. */
  private async run(): Promise<R[]> {
    try {
      const finished = Promise.all([this.crew.results, Promise.all(this.upDone)]);
      const [results] = await Promise.race([finished, this.aborted]);
      await this.crew.end(true);
      this.end({ kind: 'complete' });
      return results as R[];
    } catch (err) {
      await this.crew.terminate();
      // The threads are gone: each up wire reads what its worker published
      // (values sent before a throw included), then ends.
      await Promise.all(this.upDone.map((upDone) => upDone.catch(noop)));
      this.crew.closeWires();
      this.end({ kind: 'error', error: err });
      throw err;
    }
  }

  private end(ending: { kind: 'complete' } | { kind: 'error'; error: unknown }): void {
    this.over = 'over';
    this.queue.end(ending);
  }

  private checkOpen(what: string): void {
    const why = this.over ?? (this.stopped ? 'stopped' : undefined);
    if (why) throw new TransportClosedError(`${what}: the pool is ${why}`);
  }
}

