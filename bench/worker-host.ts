/**
 * The main side of the suites' workers: starts one by name from
 * bench/workers/ (compiled `.js` from dist/, or `.ts` under ts-node),
 * hands out its control messages one at a time, and makes sure it is gone
 * at the end: it should exit by itself once its link closes; if it has not
 * within `EXIT_GRACE_MS`, it is terminated.
 */
import * as path from 'node:path';
import type { TransferListItem, Worker } from 'node:worker_threads';
import { startWorker } from '../threads/worker';
import type { WorkerReport } from './workers/protocol';

/** How long a worker may take to exit by itself before it is terminated. */
const EXIT_GRACE_MS = 2000;

/** The worker modules in bench/workers/. */
export type WorkerName =
  | 'wire-count'
  | 'raw-count'
  | 'wire-echo'
  | 'raw-echo'
  | 'wire-bytes-count'
  | 'raw-bytes-count'
  | 'ring-count'
  | 'rpc-echo'
  | 'tcp-bare-count'
  | 'tcp-wire-count'
  | 'floor-count'
  | 'floor-echo'
  | 'floor-exchange';

/** A running benchmark worker. */
export interface BenchWorker {
  readonly worker: Worker;
  /** The next control message; rejects if the worker fails or exits first. */
  next(): Promise<WorkerReport>;
  /**
   * Waits for the worker to exit; after a grace period, terminates it and
   * says so on stderr (its link did not close: a bug worth a look). Idempotent.
   */
  stop(): Promise<void>;
}

/** Starts `bench/workers/<name>.worker` with `workerData` and its transfer list. */
export function startBenchWorker(name: WorkerName, workerData: unknown, transferList: TransferListItem[]): BenchWorker {
  // This file compiles to dist/bench/worker-host.js beside dist/bench/workers/;
  // under ts-node it is bench/worker-host.ts beside bench/workers/*.ts.
  const file = path.join(__dirname, 'workers', `${name}.worker${path.extname(__filename)}`);
  const worker = startWorker(file, { workerData, transferList });
  const inbox: WorkerReport[] = [];
  const waiting: { resolve: (r: WorkerReport) => void; reject: (e: Error) => void }[] = [];
  let failure: Error | undefined;
  let exited = false;
  const exit = new Promise<void>((resolve) => worker.once('exit', () => resolve()));

  const fail = (err: Error) => {
    failure ??= err;
    for (const w of waiting.splice(0)) w.reject(failure);
  };
  worker.on('message', (report: WorkerReport) => {
    if (report.kind === 'failed') return fail(new Error(`${name} worker: ${report.message}`));
    const w = waiting.shift();
    if (w) w.resolve(report);
    else inbox.push(report);
  });
  worker.on('error', (err) => fail(err));
  worker.once('exit', (code) => {
    exited = true;
    fail(new Error(`${name} worker exited (code ${code}) before reporting`));
  });

  return {
    worker,
    next() {
      const queued = inbox.shift();
      if (queued) return Promise.resolve(queued);
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    async stop() {
      if (exited) return;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), EXIT_GRACE_MS)));
      const outcome = await Promise.race([exit, grace]);
      clearTimeout(timer);
      if (outcome === 'late') {
        process.stderr.write(`bench: the ${name} worker did not exit ${EXIT_GRACE_MS} ms after its link closed; terminated\n`);
        await worker.terminate();
      }
    },
  };
}

/** Waits for the worker's next report and checks that it is a `kind` one. */
export async function awaitReport<K extends WorkerReport['kind']>(
  bench: BenchWorker,
  kind: K,
): Promise<Extract<WorkerReport, { kind: K }>> {
  const report = await bench.next();
  if (report.kind !== kind) throw new Error(`expected the worker's "${kind}", got "${report.kind}"`);
  return report as Extract<WorkerReport, { kind: K }>;
}

/** Waits for a counting worker's `done` and checks it got all `count` values, in order. */
export async function awaitDone(bench: BenchWorker, count: number): Promise<void> {
  const report = await awaitReport(bench, 'done');
  if (report.received !== count || report.outOfOrder !== 0) {
    throw new Error(`the worker received ${report.received} of ${count} values, ${report.outOfOrder} out of order`);
  }
}
