import * as port from './port/index';
import * as shm from './shm';
import * as tcp from './tcp';
import type { PortEnd } from './port/index';
import type { ShmEnd } from './shm';
import type { TransferListItem } from '../core/transfer';

/* Transports */
export { port, shm, tcp };
export type { PortEnd, PortLike, PortOptions } from './port/index';
export type { ShmEnd, ShmOptions, PairOptions, RingOptions, WaitStrategy } from './shm';
export type { TcpEnd, TcpOpenOptions, ListenOptions, ConnectOptions, ReconnectOptions } from './tcp';

/**
 * What must go in a worker's `transferList` for these ends to reach it.
 * A `TcpEnd` is not among them: it names a channel of a live socket in this
 * thread and cannot be sent to another (a worker connects on its own).
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
