import * as port from './port';
import * as shm from './shm';
import type { PortEnd } from './port';
import type { ShmEnd } from './shm';
import type { TransferListItem } from 'node:worker_threads';

/* Transports */
export { port, shm };
export type { PortEnd, PortLike, PortOptions } from './port';
export type { ShmEnd, ShmOptions, PairOptions, RingOptions, WaitStrategy } from './shm';

/**
 * What must go in a worker's `transferList` for these ends to reach it.
 *
 * ## Example
 * ```ts
 * import { port, transferList } from 'rxwire/transports';
 * const [here, there] = port.pair();
 * new Worker(file, { workerData: { end: there }, transferList: transferList(there) });
 * ```
 */
export function transferList(...ends: (PortEnd | ShmEnd)[]): TransferListItem[] {
  return ends.flatMap((end) => (end.transport === 'port' ? port.portTransferList(end) : shm.shmTransferList(end)));
}
