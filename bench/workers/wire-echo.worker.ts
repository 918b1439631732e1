/**
 * Port and shm suites worker: echoes every Trade back over an rxwire WireSubject
 * (`wire.subscribe(wire)`); completes when the main side completes, then exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { open } from '../../transports/open';
import { Trade } from '../trade';
import type { WireWorkerData, WorkerReport } from './protocol';

const { end } = workerData as WireWorkerData;
const wire = open(end, Trade);
wire.subscribe(wire);
parentPort!.postMessage({ kind: 'ready' } satisfies WorkerReport);
