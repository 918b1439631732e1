/**
 * The port transport: frames over a `MessagePort`, a `Worker` or a worker's
 * `parentPort`. Frames written in one turn of the event loop are coalesced
 * into one `postMessage` (the first of a turn go at once, so a lone value
 * does not wait for the turn's end); a large batch's buffer is transferred,
 * not copied, a small one (≤ 2 KiB) goes as a latin1 string.
 *
 * ## Example
 * ```ts
 * import { Worker } from 'node:worker_threads';
 * import { codec, open } from 'rxwire';
 * import { port, transferList } from 'rxwire/transports';
 * const [here, there] = port.pair();
 * const worker = new Worker(file, { workerData: { end: there }, transferList: transferList(there) });
 * const wire = open(here, codec('string'), { worker });
 * ```
 *
 * Flow control is by credit: a writer may have `windowBytes` of frames that
 * the reader has not consumed (delivered to its subscribers); the reader
 * acknowledges in steps of a quarter window. So a slow reader holds the
 * writer's memory at about one window, and the reader's at the same.
 *
 * A `Worker` or `parentPort` end carries one WireSubject and nothing else
 * (any other message on it is a `FrameError`); `port.pair()` gives as many
 * independent links as needed.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { Channel, ChannelSink } from '../../core/channel';
import type { Codec } from '../../core/codec';
import { openPortChannel, type PortOptions } from './channel';
import { linkOf, type PortEnd, type PortLike } from './link';

export type { PortOptions } from './channel';

export type { PortEnd, PortLike } from './link';

/** Makes a linked pair of port ends: keep one, hand the other to a worker. */
export function pair(): [PortEnd, PortEnd] {
  const { port1, port2 } = new MessageChannel();
  return [
    { transport: 'port', port: port1 },
    { transport: 'port', port: port2 },
  ];
}

/** Is `end` something the port transport can open? */
export function isPortLike(end: unknown): end is PortLike {
  if (typeof end !== 'object' || end === null) return false;
  if ((end as PortEnd).transport === 'port') return true;
  return typeof (end as MessagePort).postMessage === 'function' && typeof (end as MessagePort).on === 'function';
}

/** What must go in a `transferList` for `end` to reach a worker. */
export function portTransferList(end: PortEnd): MessagePort[] {
  return [end.port];
}

/** Opens the port transport's channel; `open()` calls this. */
export function connectPort<T>(end: PortLike, codec: Codec<T>, options: PortOptions = {}) {
  return (sink: ChannelSink<T>): Channel<T> => {
    const link = linkOf(end); // claims the end (transports/claims.ts)
    try {
      return openPortChannel(link, codec, sink, options);
    } catch (err) {
      link.abandon(); // a bad option, a port that cannot post: the end stays free for a retry
      throw err;
    }
  };
}
