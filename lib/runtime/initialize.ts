/**
 * `initialize(config, module, args?)`: timely's entry point in RxJS. Runs the
 * module's default export once per worker, with a `WorkerContext` to allocate
 * typed channels among all workers.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { asWorkerError } from '../errors';
import { loadDefault, type ModuleRef } from '../load-module';
import { HostedWorker, runnerPath } from '../worker';
import { toConfig, type ConfigLike } from './config';
import { Peers } from './context';
import { runToResult } from './run';
import type { RuntimeSetup } from './runner';

/** What `initialize` returns: the running workers. */
export interface Guards<R> {
  /**
   * Resolves with every worker's result, in index order, once all have
   * finished and their threads have exited. Rejects with the first
   * `WorkerError` (naming the worker's index) as soon as one worker fails;
   * the other workers are then terminated.
   */
  join(): Promise<R[]>;
  /** Terminates every worker now; `join()` rejects with `WorkerError`. */
  terminate(): Promise<void>;
}

/**
 * Starts the workers of `config` on `module`. The module's default export is
 * called once per worker as `fn(worker, args)` and may return a value, a
 * Promise or an Observable (its last value is the result). When it settles,
 * the worker's senders that are still open complete (they error, if it
 * failed) and its links stop reading, as when a timely worker drops its
 * channels. Results cross threads by structured clone.
 *
 * ## Example
 * ```ts
 * import { Config, initialize } from 'rxwire';
 * const counts = await initialize(Config.process(4), new URL('./count.worker.js', import.meta.url)).join();
 * // count.worker.ts
 * export default (worker: WorkerContext) => words$.pipe(exchange(worker, 'words', Word, (w) => w.text), ...);
 * ```
 *
 * @param config `Config.thread()`, `Config.process(n)`, `{ workers: n }` or `Config.fromArgs()`
 * @param module the worker module: a path or a `file:` URL (`.ts` runs when
 *   the caller runs under ts-node)
 * @param args passed to every worker's function (structured-cloned)
 * @returns the guards, with `join()`
 */
export function initialize<R = unknown>(config: ConfigLike, module: ModuleRef, args?: unknown): Guards<R> {
  const checked = toConfig(config);
  if (checked.kind === 'thread') return inThisThread<R>(module, args);
  return inThreads<R>(checked.workers, module, args);
}

function inThisThread<R>(module: ModuleRef, args: unknown): Guards<R> {
  const context = new Peers(0, 1, [null]);
  const results = (async () => {
    const fn = await loadDefault(module, 'initialize');
    try {
      return [(await runToResult(fn, [context.asContext(), args], (error) => context.finish(error))) as R];
    } catch (err) {
      throw asWorkerError(err, 0);
    } finally {
      context.dispose();
    }
  })();
  results.catch(() => {});
  return {
    join: () => results,
    // The calling thread cannot be terminated: its links are closed instead.
    terminate: async () => context.dispose(),
  };
}

function inThreads<R>(count: number, module: ModuleRef, args: unknown): Guards<R> {
  const mesh = meshOf(count);
  const runner = runnerPath(__dirname, 'runner');
  const workers = mesh.map((ports, index) => {
    const setup: RuntimeSetup = { peers: count, mesh: ports, args };
    return new HostedWorker({
      runner,
      module,
      index,
      setup,
      transferList: ports.filter((port): port is MessagePort => port !== null),
    });
  });
  const terminateAll = () => Promise.all(workers.map((w) => w.terminate())).then(() => {});
  const results = (async () => {
    try {
      const values = await Promise.all(workers.map((w) => w.result));
      await Promise.all(workers.map((w) => w.close()));
      return values as R[];
    } catch (err) {
      await terminateAll();
      throw err;
    }
  })();
  results.catch(() => {});
  return { join: () => results, terminate: terminateAll };
}

/** A port between every two workers: `mesh[i][j]` is i's port to j. */
function meshOf(count: number): (MessagePort | null)[][] {
  const mesh: (MessagePort | null)[][] = Array.from({ length: count }, () => new Array(count).fill(null));
  for (let i = 0; i < count; i++) {
    for (let j = i + 1; j < count; j++) {
      const { port1, port2 } = new MessageChannel();
      mesh[i][j] = port1;
      mesh[j][i] = port2;
    }
  }
  return mesh;
}
