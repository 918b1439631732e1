/**
 * The pool's runner: what each worker thread of a `WorkerPool` runs (through
 * threads/worker-host.ts) around the user's module. It opens the worker's two
 * ends (down: read only; up: write only), gives the user's function its
 * `PoolWorker` context, completes the up stream when the function settles
 * (errors it, if the function failed), and closes both ends on release.
 */
import { performance } from 'node:perf_hooks';
import type { Observable } from 'rxjs';
import { open } from '../transports/open';
import { runToResult, type Failure } from '../threads/run';
import type { WireSubject } from '../core/wire-subject';
import { Credits } from './credits';
import { codecFrom, type PoolSetup, type PoolWorker } from './types';
import { UpSender } from './up-sender';

/** How long a failed worker waits for its taken values to reach the ring (see `flushed`). */
const FLUSH_MS = 1000;

/** The `PoolWorker` a worker's function gets. */
class PoolContext implements PoolWorker<unknown, unknown> {
  readonly workers: number;
  readonly down$: Observable<unknown>;
  readonly up: UpSender<unknown>;
  private readonly downWire: WireSubject<unknown>;
  private readonly upWire: WireSubject<unknown>;

  constructor(
    readonly index: number,
    setup: PoolSetup,
  ) {
    this.workers = setup.workers;
    const downCodec = codecFrom(setup.downCodec);
    const upCodec = codecFrom(setup.upCodec);
    this.downWire = open(setup.down, downCodec);
    this.downWire.complete(); // this end only reads: its way back carries nothing
    // The credit, not this queue, bounds what goes up: a value whose credit is
    // taken may wait here while the ring is full for a moment.
    this.upWire = open(setup.up, upCodec, { maxQueue: Infinity });
    this.down$ = this.downWire.asObservable();
    this.up = new UpSender(this.upWire, upCodec, new Credits(setup.credits), setup.ringBytes);
  }

  /** The function has settled: its up stream completes, or errors with its error. */
  finish(failure?: Failure): void {
    if (failure) this.up.error(failure.error);
    else this.up.complete();
  }

  /**
   * After a failure, before it is reported (the manager then terminates this
   * thread): waits until the up wire holds no value of its own, so what the
   * function sent before it threw is in the ring, behind it the error; at
   * most FLUSH_MS (a manager that reads nothing would leave the ring full).
   * Values sent before the reader accepted the schema are held by the
   * session until its answer is seen: without this they died with the thread.
   */
  async flushed(): Promise<void> {
    const until = performance.now() + FLUSH_MS;
    while (this.upWire.stats().queued > 0 && performance.now() < until) await new Promise((resolve) => setImmediate(resolve));
  }

  /** Released by the manager: closes both ends so the thread can exit. */
  dispose(): void {
    this.up.dispose();
    this.downWire.close();
    this.upWire.close();
  }
}

export async function run(userExport: (...params: never[]) => unknown, setup: unknown, index: number) {
  const poolSetup = setup as PoolSetup;
  const context = new PoolContext(index, poolSetup);
  try {
    const value = await runToResult(userExport, [context, poolSetup.args], (failure) => context.finish(failure));
    return { value, release: () => context.dispose() };
  } catch (err) {
    await context.flushed();
    context.dispose();
    throw err;
  }
}
