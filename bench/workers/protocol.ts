/**
 * What the suites' main side and their workers say to each other outside
 * the link being measured: each worker's `workerData`, and the control
 * messages it posts on `parentPort`. Shared by both sides, nothing else.
 */
import type { MessagePort } from 'node:worker_threads';
import type { PortEnd } from '../../transports/port/index';
import type { ShmEnd } from '../../transports/shm';
import type { RoundCheck } from '../keyed';

/** workerData of the wire workers: the far end of an rxwire `port.pair()` or `shm.pair()`. */
export interface WireWorkerData {
  readonly end: PortEnd | ShmEnd;
  /** Values to expect in all, warm-up included (counting workers only). */
  readonly count?: number;
  /** Report `warm` after this many values (counting workers only). */
  readonly warmup?: number;
}

/** workerData of the raw workers: the far port of a `MessageChannel`. */
export interface RawWorkerData {
  readonly port: MessagePort;
  /** Messages to expect in all, warm-up included (counting workers only). */
  readonly count?: number;
  /** Report `warm` after this many messages (counting workers only). */
  readonly warmup?: number;
}

/**
 * workerData of the byte-counting workers (`wire-bytes-count`, `raw-bytes-count`):
 * each value is a Uint8Array whose first byte is its sequence number `& mask`.
 */
export interface BytesWorkerData {
  /** The far end of an rxwire pair (`wire-bytes-count`, raw codec). */
  readonly end?: PortEnd | ShmEnd;
  /** The far port of a `MessageChannel` (`raw-bytes-count`). */
  readonly port?: MessagePort;
  readonly count: number;
  readonly warmup: number;
  /** Value i carries `i & mask` in its first byte. */
  readonly mask: number;
  /** `wire-bytes-count` over shm: open with `{ borrow: true }` (views into the ring, not copies). */
  readonly borrow?: boolean;
}

/**
 * workerData of the `ring-count` worker: a bare ring (`shm.ring()`) that the
 * main thread writes with a `RingWriter`; the worker reads it as consumer
 * `consumer` with a `RingReader`. Record i carries `i & mask` in its first byte.
 */
export interface RingWorkerData {
  readonly ring: SharedArrayBuffer;
  readonly consumer: number;
  readonly count: number;
  readonly warmup: number;
  readonly mask: number;
}

/** workerData of a `floor-exchange` worker (one of two): its index, the floor ring to the other and the one from it. */
export interface FloorExchangeData {
  readonly me: 0 | 1;
  readonly out: SharedArrayBuffer;
  readonly in: SharedArrayBuffer;
  /** Records it produces in the timed round, and in the warm-up round before it. */
  readonly n: number;
  readonly warmup: number;
}

/** Posted on `parentPort` by a worker. */
export type WorkerReport =
  /** Listening: the main side may start its clock. */
  | { readonly kind: 'ready' }
  /** A counting worker has received its `warmup` values: the main side may start its clock. */
  | { readonly kind: 'warm'; readonly received: number }
  /** A counting worker has received `count` values; `outOfOrder` must be 0. */
  | { readonly kind: 'done'; readonly received: number; readonly outOfOrder: number }
  /** A `floor-exchange` worker's two rounds: the timed one's time (ms) and both checks. */
  | { readonly kind: 'exchanged'; readonly elapsedMs: number; readonly warmup: RoundCheck; readonly timed: RoundCheck }
  /** The measured link failed in the worker. */
  | { readonly kind: 'failed'; readonly message: string };
