/**
 * Starting worker threads on a user's module, compiled (`.js`) or, when the
 * parent runs TypeScript (ts-node, ts-jest), straight from `.ts`.
 * Everything in rxwire that starts threads goes through here.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

/** Options of {@link startWorker}: Node's own, less `eval`. */
export type StartWorkerOptions = Omit<WorkerOptions, 'eval'>;

/**
 * Starts a worker thread on `module` (a path or a `file:` URL). A `.ts`
 * module is loaded through ts-node in transpile-only mode (ts-node must be
 * installed, as it is for development); a `.js`, `.cjs` or `.mjs` module
 * loads as Node loads it.
 *
 * @param module the worker's module
 * @param options Node's `WorkerOptions` (`workerData`, `transferList`, ...)
 * @returns the running Worker
 */
export function startWorker(module: string | URL, options: StartWorkerOptions = {}): Worker {
  const file = module instanceof URL ? fileURLToPath(module) : module;
  if (!/\.[cm]?tsx?$/.test(file)) return new Worker(file, options);
  const bootstrap = [
    `require('ts-node').register({ transpileOnly: true, compilerOptions: { module: 'commonjs' } });`,
    `require(${JSON.stringify(file)});`,
  ].join('\n');
  return new Worker(bootstrap, { ...options, eval: true });
}
