/**
 * `open(end, codec)`: the one way to get a WireSubject, whatever the transport.
 */
import { isCodec, type Codec } from '../core/codec';
import { WireSubject, type WireOptions } from '../core/wire-subject';
import { unknownOption } from '../core/options';
import { connectPort, isPortLike, type PortLike, type PortOptions } from './port/index';
import { connectShm, isShmEnd, type ShmEnd } from './shm';
import type { ShmOptions } from './shm/channel';
import { isTcpEnd, type TcpEnd, type TcpOpenOptions } from './tcp';

/*
 * The options each kind of end takes, checked at the door. Typed as records
 * of every key, so a new option that is not listed here fails to compile.
 */
const WIRE: Record<keyof WireOptions, true> = { maxQueue: true, pauseReadsWhileQueued: true };
const PORT: Record<keyof PortOptions, true> = { windowBytes: true, batchBytes: true, maxFrameBytes: true, worker: true };
const SHM: Record<keyof ShmOptions, true> = { wait: true, spinMicros: true, worker: true, borrow: true };
const TCP: Record<Exclude<keyof TcpOpenOptions, keyof WireOptions>, true> = { window: true };

/**
 * Refuses an option the end does not take (`wait` for a port end,
 * `windowBytes` for an shm end, a misspelt name): it would be ignored in
 * silence. Keys whose value is `undefined` pass.
 * @throws TypeError naming the option and the kind of end
 */
function checkOptions(options: object, kind: string, own: Readonly<Record<string, true>>): void {
  const takes = { ...WIRE, ...own };
  const key = unknownOption(options, takes);
  if (key !== undefined) throw new TypeError(`open: options.${key} does not apply to a ${kind} end (it takes ${Object.keys(takes).join(', ')})`);
}

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
 * @param options see `WireOptions` and the transport's options; an option
 *   the end does not take is a `TypeError` naming it
 * @returns the Subject over that end
 */
export function open<T, In = never>(end: End, codec: Codec<T, In>, options: OpenOptions = {}): WireSubject<T, In> {
  if (typeof options !== 'object' || options === null) throw new TypeError('open: options must be an object');
  if (!isCodec(codec)) throw new TypeError('open: codec must be a codec (from codec(schema), or raw)');
  if (isTcpEnd(end)) {
    checkOptions(options, 'tcp', TCP);
    return end.connection.open<T, In>(end.name, codec, options);
  }
  if (isShmEnd(end)) {
    checkOptions(options, 'shm', SHM);
    return new WireSubject<T, In>(connectShm(end, codec as Codec<T>, options), codec, options);
  }
  if (isPortLike(end)) {
    checkOptions(options, 'port', PORT);
    return new WireSubject<T, In>(connectPort(end, codec as Codec<T>, options), codec, options);
  }
  throw new TypeError('open: end must be a transport end (from port.pair() or shm.pair(), or conn.end(name) of a TCP connection), a MessagePort, a Worker or parentPort');
}
