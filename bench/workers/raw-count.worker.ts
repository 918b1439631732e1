/**
 * Port and shm suites baseline worker: counts plain Trade objects arriving one per
 * `postMessage` on a raw MessagePort, checks each one's id like the wire
 * worker does, reports `warm` and `done` as
 * it does, then closes and exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { POOL_MASK, type Trade } from '../trade';
import type { RawWorkerData, WorkerReport } from './protocol';

const { port, count = 0, warmup = 0 } = workerData as RawWorkerData;
const report = (r: WorkerReport) => parentPort!.postMessage(r);
let received = 0;
let outOfOrder = 0;
port.on('message', (t: Trade) => {
  if (t.id !== (received & POOL_MASK)) outOfOrder++;
  if (++received === warmup) report({ kind: 'warm', received });
  if (received === count) {
    report({ kind: 'done', received, outOfOrder });
    port.close();
  }
});
report({ kind: 'ready' });
