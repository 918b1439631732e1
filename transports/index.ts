import * as port from './port';
import type { PortEnd } from './port';
import type { TransferListItem } from 'node:worker_threads';

/* Transports */
export { port };
export type { PortEnd, PortLike, PortOptions } from './port';

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
export function transferList(...ends: PortEnd[]): TransferListItem[] {
  return ends.flatMap((end) => (end.transport === 'port' ? port.portTransferList(end) : []));
}
