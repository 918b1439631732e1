/**
 * Shm suite worker: reads byte values from an rxwire WireSubject with the
 * `raw` codec (each one a fresh copy out of the transport, or with `borrow`
 * a view into the shm ring valid during the callback), checks each one's
 * first byte (its sequence number `& mask`: FIFO, nothing lost), reports
 * `warm` once it has `warmup` values and `done` once it has `count`. Closes
 * its end when the main side completes, then exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { raw } from '../../core/codec';
import { open } from '../../transports/open';
import type { BytesWorkerData, WorkerReport } from './protocol';

const { end, count, warmup, mask, borrow } = workerData as BytesWorkerData;
const report = (r: WorkerReport) => parentPort!.postMessage(r);
// Borrowed (shm only): each value is a view into the ring, read here within its callback.
const wire = open(end!, raw, borrow ? { borrow } : {});
let received = 0;
let outOfOrder = 0;
wire.subscribe({
  next: (bytes) => {
    if (bytes[0] !== (received & mask)) outOfOrder++;
    if (++received === warmup) report({ kind: 'warm', received });
    if (received === count) report({ kind: 'done', received, outOfOrder });
  },
  error: (err: Error) => report({ kind: 'failed', message: err.message }),
  complete: () => wire.close(),
});
report({ kind: 'ready' });
