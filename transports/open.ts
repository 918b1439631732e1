/**
 * `open(end, codec)`: the one way to get a WireSubject, whatever the transport.
 */
import type { Codec } from '../core/codec';
import { WireSubject, type WireOptions } from '../core/wire-subject';
import { connectPort, isPortLike, type PortLike, type PortOptions } from './port/index';
import { connectShm, isShmEnd, type ShmEnd } from './shm';
import type { ShmOptions } from './shm/channel';
import { isTcpEnd, type TcpEnd, type TcpOpenOptions } from './tcp';

/** Every end descriptor `open` accepts. */
export type End = PortLike | ShmEnd | TcpEnd;

/** Options of `open`: the WireSubject's and the transport's. */
export type OpenOptions = WireOptions & PortOptions & ShmOptions & TcpOpenOptions;

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
 * @param end an end descriptor from a transport's `pair()`, a
 *   `MessagePort`, `Worker` or `parentPort`, or a TCP connection's
 *   `conn.end(name)` (then the same as `conn.open(name, codec, options)`)
 * @param codec the schema of the values both ways
 * @param options see `WireOptions` and the transport's options
 * @returns the Subject over that end
 */
export function open<T>(end: End, codec: Codec<T>, options: OpenOptions = {}): WireSubject<T> {
  if (isTcpEnd(end)) return end.connection.open(end.name, codec, options);
  if (isShmEnd(end)) return new WireSubject(connectShm(end, codec, options), codec, options);
  if (isPortLike(end)) return new WireSubject(connectPort(end, codec, options), codec, options);
  throw new TypeError('open: end must be a transport end (from port.pair() or shm.pair(), or conn.end(name) of a TCP connection), a MessagePort, a Worker or parentPort');
}
