/** Test helpers: real worker threads, always reaped. */
import { once } from 'node:events';
import type { TransferListItem, Worker } from 'node:worker_threads';
import { startWorker } from '../lib/worker';
import { port, transferList } from '../transports';

const live = new Set<Worker>();
const exitCodes = new WeakMap<Worker, Promise<number>>();

/** Starts spec/workers/<name>.worker.ts with a port end; returns our end and the worker. */
export function spawnWithPort(name: string, workerData: Record<string, unknown> = {}) {
  const [here, there] = port.pair();
  const worker = spawn(name, { ...workerData, end: there }, transferList(there));
  return { here, worker };
}

/** Starts spec/workers/<name>.worker.ts; it is terminated after the test if still alive. */
export function spawn(name: string, workerData: Record<string, unknown>, transfer: TransferListItem[] = []): Worker {
  const worker = startWorker(`${__dirname}/workers/${name}.worker.ts`, { workerData, transferList: transfer });
  live.add(worker);
  // Not events.once: it would reject on the worker's 'error', which tests provoke.
  exitCodes.set(
    worker,
    new Promise((resolve) =>
      worker.once('exit', (code) => {
        live.delete(worker);
        resolve(code);
      }),
    ),
  );
  return worker;
}

/** Resolves with the exit code. */
export function exited(worker: Worker): Promise<number> {
  return exitCodes.get(worker)!;
}

/** The next message the worker posts on parentPort. */
export async function report<T = Record<string, unknown>>(worker: Worker): Promise<T> {
  const [message] = await once(worker, 'message');
  return message as T;
}

/** Terminates every worker a test left running (call from afterEach). */
export async function reapWorkers(): Promise<number> {
  const left = [...live];
  await Promise.all(left.map((w) => w.terminate()));
  return left.length;
}
