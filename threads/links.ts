/**
 * The shared-memory links of the workers of one start (threads/start.ts):
 * per worker, one shm pair down (this thread → worker) and one up (worker →
 * this thread), each used one way.
 */
import type { MessagePort } from 'node:worker_threads';
import type { TransferListItem } from '../core/transfer';
import { pair, shmTransferList, type ShmEnd } from '../transports/shm';

/** One worker's two pairs: `here` stays in this thread, `there` goes to the worker. */
export interface DuplexLink {
  here: { down: ShmEnd; up: ShmEnd };
  there: { down: ShmEnd; up: ShmEnd };
  /** What must be transferred for `there` to reach the worker. */
  transferList: TransferListItem[];
}

/**
 * Makes `count` links of rings of `bytes` each.
 * @returns the links, and every liveness port they hold (for `StartOptions.ports`)
 */
export function duplexLinks(count: number, bytes: number): { links: DuplexLink[]; ports: MessagePort[] } {
  const links: DuplexLink[] = [];
  const ports: MessagePort[] = [];
  for (let k = 0; k < count; k++) {
    const [downHere, downThere] = pair({ bytes });
    const [upHere, upThere] = pair({ bytes });
    ports.push(...[downHere, downThere, upHere, upThere].map((end) => end.live));
    links.push({
      here: { down: downHere, up: upHere },
      there: { down: downThere, up: upThere },
      transferList: [...shmTransferList(downThere), ...shmTransferList(upThere)],
    });
  }
  return { links, ports };
}
