/** Test helpers: real worker threads, always reaped. */
import { once } from 'node:events';
import { readdirSync, readlinkSync } from 'node:fs';
import type { TransferListItem, Worker } from 'node:worker_threads';
import { startWorker, type StartWorkerOptions } from '../threads/worker';
import { port, shm, transferList, type PortEnd, type ShmEnd } from '../transports';

/** The transports every WireSubject test runs over. */
export const TRANSPORTS = ['port', 'shm'] as const;
export type TransportName = (typeof TRANSPORTS)[number];

/**
 * Two linked ends of `transport`. `window` bounds the bytes in flight: the
 * port's `windowBytes` (pass it to `open` too) or the size of each shm ring.
 */
export function pairOf(transport: TransportName, window?: number): [PortEnd | ShmEnd, PortEnd | ShmEnd] {
  return transport === 'port' ? port.pair() : shm.pair(window ? { bytes: window } : {});
}

/** Starts spec/workers/<name>.worker.ts with an end of `transport`; returns our end and the worker. */
export function spawnWith(transport: TransportName, name: string, workerData: Record<string, unknown> = {}, window?: number) {
  const [here, there] = pairOf(transport, window);
  const worker = spawn(name, { ...workerData, end: there }, transferList(there));
  return { here, worker };
}

const live = new Set<Worker>();
const exitCodes = new WeakMap<Worker, Promise<number>>();

/**
 * Every worker thread a test file starts — its own through `spawn`, and the
 * library's (stage, pipeline, WorkerPool, initialize) — is registered here
 * until it exits, and whatever is still running when the file ends is
 * terminated, whatever the tests' outcome: a test that timed out leaves no
 * thread behind to hold jest open. Registered by wrapping Node's `Worker`
 * class for the file's duration (the threads are real; the library reads
 * `Worker` from the module at each start). A file's own checks (`reapWorkers`
 * in `afterEach`, `threadsBackTo`) still see every leak first.
 */
const started = new Set<Worker>();
const ORIGINAL = Symbol.for('rxwire.spec.Worker');
type WorkerModule = { Worker: typeof Worker; [ORIGINAL]?: typeof Worker };

function trackWorkers(): void {
  const threads = require('node:worker_threads') as WorkerModule;
  const Original = (threads[ORIGINAL] ??= threads.Worker);
  threads.Worker = class TrackedWorker extends Original {
    constructor(...args: ConstructorParameters<typeof Worker>) {
      super(...args);
      started.add(this);
      this.once('exit', () => started.delete(this));
    }
  };
  afterAll(async () => {
    threads.Worker = Original;
    await Promise.all([...started].map((worker) => worker.terminate()));
  });
}

// Only in a test file (a worker thread may import this module too).
if (typeof afterAll === 'function') trackWorkers();


/**
 * Starts spec/workers/<name>.worker.ts; it is terminated after the test if
 * still alive. `options` are Node's other worker options (`resourceLimits`, ...).
 */
export function spawn(
  name: string,
  workerData: Record<string, unknown>,
  transfer: TransferListItem[] = [],
  options: Omit<StartWorkerOptions, 'workerData' | 'transferList'> = {},
): Worker {
  const worker = startWorker(`${__dirname}/workers/${name}.worker.ts`, { ...options, workerData, transferList: transfer });
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

export function tick(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `condition` every millisecond until it holds, or fails after
 * `timeoutMs`. The default is generous on purpose: it bounds a hang, not a
 * speed, and a worker started under ts-node on a loaded 2-core machine can
 * take seconds to boot.
 */
export async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await tick(1);
  }
}

/** Does `trySend` throw for a reason other than the value (the outgoing side is closed)? */
export function trySendThrows(wire: { trySend(v: never): boolean }): boolean {
  try {
    wire.trySend(undefined as never);
    return false;
  } catch (err) {
    return !(err as Error).name.startsWith('Encode');
  }
}

/**
 * Threads of this process (Linux: /proc/self/task), to check that no worker
 * thread outlives a test. Compare against a baseline taken after the process
 * has warmed up (libuv starts its pool on first use).
 */
export function liveThreads(): number {
  return readdirSync('/proc/self/task').length;
}

/** Waits until the process is back to `baseline` threads (a thread ends a moment after its exit event). */
export async function threadsBackTo(baseline: number): Promise<void> {
  await until(() => liveThreads() <= baseline, 5000);
}

/** Sockets this process holds (Linux: /proc/self/fd), worker threads' included. */
export function liveSockets(): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:');
    } catch {
      return false; // the fd closed while we looked
    }
  }).length;
}
