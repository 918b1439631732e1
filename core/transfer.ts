/**
 * What rxwire hands to a worker's `transferList`, under rxwire's own name.
 * Node's `TransferListItem` type is gone from `node:worker_threads` in
 * current `@types/node` (it is `Transferable` there), so a published
 * declaration that imports it fails to compile (TS2305) for users who do not
 * set `skipLibCheck`. Both old and new `@types/node` accept this union in
 * `WorkerOptions.transferList` and `postMessage`.
 */
import type { MessagePort } from 'node:worker_threads';

/** An object moved, not copied, to another thread: a `MessagePort` (transport ends) or an `ArrayBuffer`. */
export type TransferListItem = ArrayBuffer | MessagePort;
