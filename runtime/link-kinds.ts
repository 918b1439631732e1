/**
 * How the workers of one process link a channel (runtime/context.ts,
 * `allocate`): a shared-memory pair per pair of workers, or a MessageChannel.
 */
import { Buffer } from 'node:buffer';
import type { Codec } from '../core/codec';
import type { Connect } from '../core/channel';
import { DeferredChannel } from '../core/deferred-channel';
import { TransportClosedError } from '../core/errors';
import { WireSubject, type WireOptions } from '../core/wire-subject';
import * as shm from '../transports/shm';
import * as port from '../transports/port/index';
import { checkSpinMicros, type ShmOptions } from '../transports/shm/channel';
import { checkRingBytes } from '../transports/shm/layout';
import { checkStrategy } from '../transports/shm/wait';
import { MAX_WINDOW } from '../core/frame';

export type End = shm.ShmEnd | port.PortEnd;

/** What a link kind is made from (AllocateOptions' link fields). */
export interface LinkOptions extends Pick<ShmOptions, 'wait' | 'spinMicros'> {
  transport?: 'shm' | 'port';
  bytes?: number;
}

/** How one channel's links are made and opened. */
export interface LinkKind {
  pair(): [End, End];
  connect(end: End): Connect<unknown>;
}

/**
 * The link kind `options` ask for. Its options are checked here, all of
 * them, before `allocate` opens any link: a refusal halfway through the
 * peers left some links made and the channel half-allocated (a retry was
 * `ChannelTakenError` on a cluster, and a peer's end arrived for nothing).
 * @throws TypeError or RangeError naming the option (`options.bytes`, not a transport's own name for it)
 */
export function linkKind(codec: Codec<unknown>, options: LinkOptions): LinkKind {
  const { transport = 'shm', bytes = 256 * 1024, wait, spinMicros } = options;
  if (transport === 'shm') {
    checkRingBytes(bytes, 'allocate: options.bytes');
    if (wait !== undefined) checkStrategy(wait, 'allocate: options.wait');
    if (spinMicros !== undefined) checkSpinMicros(spinMicros, 'allocate: options.spinMicros');
    return {
      pair: () => shm.pair({ bytes }),
      connect: (end) => shm.connectShm(end as shm.ShmEnd, codec, { wait, spinMicros }),
    };
  }
  if (transport === 'port') {
    // The shm options mean nothing on a port: given, they were ignored in silence.
    if (wait !== undefined || spinMicros !== undefined) throw new TypeError("allocate: options.wait and options.spinMicros are for transport 'shm' only");
    if (!Number.isInteger(bytes) || bytes <= 0 || bytes > MAX_WINDOW) throw new RangeError(`allocate: options.bytes must be a positive integer of at most ${MAX_WINDOW} (a port's window)`);
    return {
      pair: () => port.pair(),
      connect: (end) => port.connectPort(end as port.PortEnd, codec, { windowBytes: bytes }),
    };
  }
  throw new TypeError(`allocate: options.transport must be 'shm' or 'port'`);
}

/** A channel id as the key both workers use. */
export function channelKey(channel: string | number): string {
  if (typeof channel === 'string') return `s:${channel}`;
  if (typeof channel === 'number' && Number.isFinite(channel)) return `n:${channel}`;
  throw new TypeError('allocate: a channel id must be a string or a finite number');
}

/** Closes an end that will never be opened here (its peer's wire then ends with TransportClosedError). */
export function closeEnd(end: End): void {
  (end.transport === 'shm' ? end.live : end.port).close();
}

/** A wire that has failed both ways with `err` already, as a dead peer's would (a link that can never form). */
export function failedWire(codec: Codec<unknown>, options: WireOptions, err: Error): WireSubject<unknown> {
  let deferred!: DeferredChannel<unknown>;
  const wire = new WireSubject((sink) => (deferred = new DeferredChannel(sink)), codec, options);
  deferred.fail(err);
  return wire;
}

/** Why a link to worker `peer` fails when it finished without allocating its channel. */
export function neverAllocated(peer: number): TransportClosedError {
  return new TransportClosedError(`worker ${peer} finished before it allocated this channel`);
}

/** The most bytes of channel keys a NATS `done` lists (NATS' default max_payload is 1 MiB). */
export const DONE_KEYS_BYTES = 256 * 1024;
/** The most a TCP cluster's `done` lists: its frames take 4 MiB (the connection's default maxFrame and window). */
export const TCP_DONE_KEYS_BYTES = 3 * 1024 * 1024;

/**
 * Whether a `done` lists these keys: a list too long for one message is left
 * out (a `done` must arrive), and a peer that gets no list then fails nothing.
 */
export function listsKeys(allocated: readonly string[], most = DONE_KEYS_BYTES): boolean {
  let bytes = 0;
  for (const key of allocated) bytes += Buffer.byteLength(key) + 3;
  return bytes <= most;
}
