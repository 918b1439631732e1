/**
 * Shm suite baseline worker: counts Uint8Arrays arriving one per
 * `postMessage` (structured clone: a copy) on a raw MessagePort, checks each
 * one's first byte as `wire-bytes-count` does, reports `warm` and `done` as
 * it does, then closes and exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { BytesWorkerData, WorkerReport } from './protocol';

const { port, count, warmup, mask } = workerData as BytesWorkerData;
const report = (r: WorkerReport) => parentPort!.postMessage(r);
let received = 0;
let outOfOrder = 0;
port!.on('message', (bytes: Uint8Array) => {
  if (bytes[0] !== (received & mask)) outOfOrder++;
  if (++received === warmup) report({ kind: 'warm', received });
  if (received === count) {
    report({ kind: 'done', received, outOfOrder });
    port!.close();
  }
});
report({ kind: 'ready' });
