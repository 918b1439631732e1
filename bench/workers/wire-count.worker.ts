/**
 * Port and shm suites worker: reads Trades from an rxwire WireSubject (over
 * either transport: `open` takes a port or an shm end), checks each
 * one's id (FIFO, nothing lost), reports `warm` once it has `warmup` values
 * and `done` once it has `count`. Closes its end when the main side
 * completes, then exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { open } from '../../transports/open';
import { POOL_MASK, Trade } from '../trade';
import type { WireWorkerData, WorkerReport } from './protocol';

const { end, count = 0, warmup = 0 } = workerData as WireWorkerData;
const report = (r: WorkerReport) => parentPort!.postMessage(r);
const wire = open(end, Trade);
let received = 0;
let outOfOrder = 0;
wire.subscribe({
  next: (t) => {
    if (t.id !== (received & POOL_MASK)) outOfOrder++;
    if (++received === warmup) report({ kind: 'warm', received });
    if (received === count) report({ kind: 'done', received, outOfOrder });
  },
  error: (err: Error) => report({ kind: 'failed', message: err.message }),
  complete: () => wire.close(),
});
report({ kind: 'ready' });
