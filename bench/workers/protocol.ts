/**
 * What the port suite's main side and its workers say to each other outside
 * the link being measured: each worker's `workerData`, and the control
 * messages it posts on `parentPort`. Shared by both sides, nothing else.
 */
import type { MessagePort } from 'node:worker_threads';
import type { PortEnd } from '../../transports/port';

/** workerData of the wire workers: the far end of an rxwire `port.pair()`. */
export interface WireWorkerData {
  readonly end: PortEnd;
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

/** Posted on `parentPort` by a worker. */
export type WorkerReport =
  /** Listening: the main side may start its clock. */
  | { readonly kind: 'ready' }
  /** A counting worker has received its `warmup` values: the main side may start its clock. */
  | { readonly kind: 'warm'; readonly received: number }
  /** A counting worker has received `count` values; `outOfOrder` must be 0. */
  | { readonly kind: 'done'; readonly received: number; readonly outOfOrder: number }
  /** The measured link failed in the worker. */
  | { readonly kind: 'failed'; readonly message: string };
