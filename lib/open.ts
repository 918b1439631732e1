/**
 * `open(end, codec)`: the one way to get a WireSubject, whatever the transport.
 */
import type { Codec } from './codec';
import { WireSubject, type WireOptions } from './wire-subject';
import { connectPort, isPortLike, type PortLike, type PortOptions } from '../transports/port';
import { connectShm, isShmEnd, type ShmEnd } from '../transports/shm';
import type { ShmOptions } from '../transports/shm/channel';

/** Every end descriptor `open` accepts. */
export type End = PortLike | ShmEnd;

/** Options of `open`: the WireSubject's and the transport's. */
export type OpenOptions = WireOptions & PortOptions & ShmOptions;

/**
 * Opens a transport end as a `WireSubject<T>` that encodes with `codec`.
 *
 * ## Example
 * ```ts
 * import { codec, open } from 'rxwire';
 * import { parentPort, workerData } from 'node:worker_threads';
 * const wire = open(workerData.end, codec('string'));   // in a worker
 * wire.pipe(map((s) => s.toUpperCase())).subscribe(wire); // echo, upper-cased
 * ```
 *
 * @param end an end descriptor from a transport's `pair()`, or a
 *   `MessagePort`, `Worker` or `parentPort`
 * @param codec the schema of the values both ways
 * @param options see `WireOptions` and the transport's options
 * @returns the Subject over that end
 */
export function open<T>(end: End, codec: Codec<T>, options: OpenOptions = {}): WireSubject<T> {
  if (isShmEnd(end)) return new WireSubject(connectShm(end, codec, options), codec, options);
  if (isPortLike(end)) return new WireSubject(connectPort(end, codec, options), codec, options);
  throw new TypeError('open: end must be a transport end (from port.pair() or shm.pair()), a MessagePort, a Worker or parentPort');
}
