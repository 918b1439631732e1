/**
 * The moving parts a port channel needs from a `MessagePort`, a `Worker` or
 * a worker's `parentPort`: post a batch (transferred), listen, close, ref.
 */
import { Buffer } from 'node:buffer';
import type { MessagePort, Worker } from 'node:worker_threads';
import { claimEnd, releaseEnd } from '../claims';

/** An end of a port link, as it travels in `workerData` (with `transferList(end)`). */
export interface PortEnd {
  readonly transport: 'port';
  readonly port: MessagePort;
}

/** What `open` accepts as a port end: a pair's end, or a port, worker or `parentPort` itself. */
export type PortLike = PortEnd | MessagePort | Worker;

export interface Link {
  /** Posts a batch: bytes are transferred; a string (one char per byte) is cloned. */
  post(batch: Uint8Array | string): void;
  listen(onMessage: (data: unknown) => void, onClose: () => void): void;
  /** Stops listening; closes the port when the link owns it. */
  close(): void;
  /** The channel failed to open: stops listening and frees the end, leaving the port as it was (a retry may open it). */
  abandon(): void;
  ref(): void;
  unref(): void;
}

/**
 * The bytes of a batch as it arrives on a port: a `Uint8Array` (posted with
 * its buffer transferred), or a string of one char (0–255) per byte (a small
 * batch: a string posts faster than an `ArrayBuffer`). Anything else:
 * undefined (the caller's FrameError).
 */
export function batchBytes(data: unknown): Buffer | undefined {
  if (typeof data === 'string') return Buffer.from(data, 'latin1');
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

export function linkOf(end: PortLike): Link {
  const target = (end as PortEnd).transport === 'port' ? (end as PortEnd).port : (end as MessagePort | Worker);
  const isWorker = typeof (target as Worker).terminate === 'function';
  // Only a port of our own pair is ours to close; a Worker or parentPort is the user's (and may be opened again once closed).
  const owned = (end as PortEnd).transport === 'port';
  claimEnd(target);
  let onMessage: ((data: unknown) => void) | undefined;
  let onClose: (() => void) | undefined;
  const detach = (): void => {
    if (onMessage) target.off('message', onMessage);
    if (onClose) target.off(isWorker ? 'exit' : 'close', onClose);
    onMessage = onClose = undefined;
  };
  return {
    post: (batch) => (typeof batch === 'string' ? target.postMessage(batch) : target.postMessage(batch, [batch.buffer as ArrayBuffer])),
    listen: (message, close) => {
      onMessage = message;
      onClose = close;
      target.on('message', message);
      target.on(isWorker ? 'exit' : 'close', close);
    },
    close: () => {
      detach();
      if (owned) (target as MessagePort).close();
      else releaseEnd(target);
    },
    abandon: () => {
      detach();
      releaseEnd(target);
    },
    ref: () => target.ref(),
    unref: () => {
      // Unref'ing a Worker object would let the process leave a running worker behind.
      if (!isWorker) target.unref();
    },
  };
}
