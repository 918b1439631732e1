/**
 * Port and shm suites baseline worker: posts every message straight back on its raw
 * MessagePort; exits when the main side closes the port.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { RawWorkerData, WorkerReport } from './protocol';

const { port } = workerData as RawWorkerData;
port.on('message', (m: unknown) => port.postMessage(m));
parentPort!.postMessage({ kind: 'ready' } satisfies WorkerReport);
