/**
 * The shared-memory transport: two rings in `SharedArrayBuffer`s, one per
 * direction. After setup nothing is posted; records are written in place
 * and published with one atomic store.
 *
 * ## Example
 * ```ts
 * import { codec, open, startWorker } from 'rxwire';
 * import { shm, transferList } from 'rxwire/transports';
 * const [here, there] = shm.pair({ bytes: 1 << 20 });
 * const worker = startWorker(file, { workerData: { end: there }, transferList: transferList(there) });
 * const wire = open(here, Trade, { worker });          // the same WireSubject as over a port
 * ```
 *
 * The low-level ring (multicast, chained stages, batch publish) is `shm.ring`,
 * `shm.RingWriter` and `shm.RingReader`.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { ChannelSink, Channel } from '../../core/channel';
import type { Codec } from '../../core/codec';
import { openShmChannel, type ShmOptions } from './channel';
import { createRing, enterSleep, largestValue, mapRing, RecordKind, ReaderState, type RingOptions } from './layout';
import { RingReader, RingWriter } from './ring';
import { checkKnown } from '../../core/options';

export { RingReader, RingWriter, RecordKind, ReaderState, mapRing, enterSleep, largestValue };
export type { ShmOptions, RingOptions };
export type { WaitStrategy } from './wait';

/** An end of an shm link, as it travels in `workerData` (with `transferList(end)`). */
export interface ShmEnd {
  readonly transport: 'shm';
  /** The ring this end writes. */
  readonly tx: SharedArrayBuffer;
  /** The ring this end reads. */
  readonly rx: SharedArrayBuffer;
  /** Carries no message; it closes when the other end's thread dies. */
  readonly live: MessagePort;
}

/** Options of {@link pair}. */
export interface PairOptions {
  /** Bytes of each ring's data region, a power of two. Default 1 MiB. */
  bytes?: number;
  /** Map both rings' memory now (default true): see {@link RingOptions.prefault}. */
  prefault?: boolean;
}

const PAIR_OPTIONS: Record<keyof PairOptions, true> = { bytes: true, prefault: true };

/** Makes two linked ends, a ring each way: keep one, hand the other to a worker. */
export function pair(options: PairOptions = {}): [ShmEnd, ShmEnd] {
  checkKnown(options, PAIR_OPTIONS, 'shm.pair: options');
  const { bytes = 1 << 20, prefault } = options;
  const ab = createRing({ bytes, prefault });
  const ba = createRing({ bytes, prefault });
  const { port1, port2 } = new MessageChannel();
  // The liveness ports must not keep a thread alive by themselves.
  port1.unref();
  port2.unref();
  return [
    { transport: 'shm', tx: ab, rx: ba, live: port1 },
    { transport: 'shm', tx: ba, rx: ab, live: port2 },
  ];
}

const RING_OPTIONS: Record<keyof RingOptions, true> = { bytes: true, consumers: true, prefault: true };

/**
 * A bare ring for the low-level API: one producer, consumers as `options.consumers` says.
 * @throws TypeError for an unknown option (in `options` or a consumer), RangeError for a bad size or consumer list
 */
export function ring(options: RingOptions = {}): SharedArrayBuffer {
  checkKnown(options, RING_OPTIONS, 'shm.ring: options');
  const { consumers } = options;
  if (consumers !== undefined && !Array.isArray(consumers)) throw new TypeError('shm.ring: options.consumers must be an array');
  consumers?.forEach((consumer, k) => checkKnown(consumer, { after: true }, `shm.ring: options.consumers[${k}]`));
  return createRing(options);
}

export function isShmEnd(end: unknown): end is ShmEnd {
  return typeof end === 'object' && end !== null && (end as ShmEnd).transport === 'shm';
}

export function shmTransferList(end: ShmEnd): MessagePort[] {
  return [end.live];
}

/** Opens the shm transport's channel; `open()` in lib calls this. */
export function connectShm<T>(end: ShmEnd, codec: Codec<T>, options: ShmOptions = {}) {
  return (sink: ChannelSink<T>): Channel<T> => openShmChannel(end, codec, sink, options);
}
