/**
 * `initialize(config, module, args?)`: timely's entry point in RxJS. Runs the
 * module's default export once per worker, with a `WorkerContext` to allocate
 * typed channels among all workers.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { WorkerError, asWorkerError } from '../core/errors';
import { checkModuleRef, loadDefault, type ModuleRef } from '../threads/load-module';
import { startWorkers } from '../threads/start';
import { runnerPath } from '../threads/worker';
import { toConfig, type ClusterConfig, type ConfigLike } from './config';
import { Peers } from './context';
import { runToResult } from '../threads/run';
import type { RuntimeSetup } from './runner';
import { natsCluster } from './nats-cluster';

/** What `initialize` returns: the running workers. */
export interface Guards<R> {
  /**
   * Resolves with every worker's result, in index order, once all have
   * finished and their threads have exited. Rejects with the first
   * `WorkerError` (naming the worker's index) as soon as one worker fails;
   * the other workers are then terminated. In a cluster: the results of
   * this process's workers (global indices `process × workers` on), once
   * every worker of the other processes is done with them too.
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
 * export default (worker: WorkerContext) => words$.pipe(exchange({ worker, channel: 'words', codec: Word, key: (w) => w.text }), ...);
 * ```
 *
 * In a cluster (`Config.cluster`, or `-n` in `Config.fromArgs`) every process
 * calls `initialize` with the same hosts and module; each starts its own
 * workers, which link to the other processes' workers over TCP before their
 * functions run (see runtime/cluster.ts). A process that fails or dies
 * fails the workers of every other process with `WorkerError` (its cause a
 * `TransportClosedError`), so no process waits for it.
 *
 * @param config `Config.thread()`, `Config.process(n)`, `Config.cluster({ ... })`,
 *   `{ workers: n }` or `Config.fromArgs()`
 * @param module the worker module: a path or a `file:` URL (`.ts` runs when
 *   the caller runs under ts-node)
 * @param args passed to every worker's function (structured-cloned)
 * @returns the guards, with `join()`
 * @throws TypeError, RangeError at once for a config that is none of these, a
 *   module that is not a path or a `file:` URL, or `args` that do not
 *   survive a structured clone (nothing is left running)
 */
export function initialize<R = unknown>(config: ConfigLike, module: ModuleRef, args?: unknown): Guards<R> {
  const checked = toConfig(config);
  checkModuleRef(module, 'initialize: module');
  if (checked.kind === 'thread') return inThisThread<R>(module, args);
  if (checked.kind === 'process') return inThreads<R>(setups(checked.workers, 0, checked.workers, args), module);
  if (checked.kind === 'nats') {
    const { workers, processes } = checked;
    return natsCluster<R>(checked, args, (nats) => inThreads<R>(setups(workers, nats.process * workers, processes * workers, args, { nats }), module));
  }
  return inThreads<R>(clusterSetups(checked, args), module);
}

function inThisThread<R>(module: ModuleRef, args: unknown): Guards<R> {
  const context = new Peers(0, 1, [null]);
  let terminated!: (err: WorkerError) => void;
  const stopped = new Promise<never>((_, reject) => (terminated = reject));
  const run = (async () => {
    try {
      // In the try: a module that is missing or throws as it loads is the WorkerError Config.process gives too.
      const fn = await loadDefault(module, 'initialize');
      return [(await runToResult(fn, [context.asContext(), args], (failure) => context.finish(failure))) as R];
    } catch (err) {
      throw asWorkerError(err, 0);
    } finally {
      context.dispose();
    }
  })();
  // A function that never settles (NEVER, a receiver that never completes) cannot hold join() up past terminate().
  const results = Promise.race([run, stopped]);
  results.catch(() => {});
  return {
    join: () => results,
    // The calling thread cannot be terminated: its links are closed instead, and join() rejects as in a worker.
    terminate: async () => {
      const err = new WorkerError('the worker was terminated before it finished', 0, undefined);
      terminated(err);
      context.dispose();
    },
  };
}

/** One setup per worker of this process, by global index. */
type Setups = Map<number, RuntimeSetup>;

/** The setups of `count` worker threads with global indices `first` on, among `peers` workers. */
function setups(count: number, first: number, peers: number, args: unknown, remote: Pick<RuntimeSetup, 'cluster' | 'nats'> = {}): Setups {
  const local = meshOf(count);
  const result: Setups = new Map();
  local.forEach((ports, t) => {
    const mesh: (MessagePort | null)[] = new Array(peers).fill(null);
    ports.forEach((port, u) => (mesh[first + u] = port));
    result.set(first + t, { peers, mesh, args, ...remote });
  });
  return result;
}

/** This process's workers in a cluster: linked by rings among themselves, by TCP to the rest. */
function clusterSetups(config: ClusterConfig, args: unknown): Setups {
  const { workers, hosts } = config;
  return setups(workers, config.process * workers, hosts.length * workers, args, { cluster: config });
}

function inThreads<R>(workerSetups: Setups, module: ModuleRef): Guards<R> {
  const meshPorts = (setup: RuntimeSetup) => setup.mesh.filter((port): port is MessagePort => port !== null);
  const crew = startWorkers({
    runner: runnerPath(__dirname, 'runner'),
    plans: [...workerSetups].map(([index, setup]) => ({ module, index, setup, transferList: meshPorts(setup) })),
    ports: [...workerSetups.values()].flatMap(meshPorts),
    cloned: 'initialize: args', // the rest of a setup is ports, numbers and the config
  });
  const results = (async () => {
    try {
      const values = await crew.results;
      await crew.end(true);
      return values as R[];
    } catch (err) {
      await crew.terminate();
      throw err;
    }
  })();
  results.catch(() => {});
  return { join: () => results, terminate: () => crew.terminate() };
}

/** A port between every two workers: `mesh[i][j]` is i's port to j. */
export function meshOf(count: number): (MessagePort | null)[][] {
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
