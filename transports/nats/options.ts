/**
 * The options of the NATS transport: of `connect` (beside the @nats-io
 * client's own) and of `conn.open`, with their defaults and checks.
 */
import type { ConnectionOptions } from '@nats-io/transport-node';
import type { WireOptions } from '../../core/wire-subject';
import type { HeartbeatSettings } from '../tcp/heartbeat';
import { heartbeatSettings, type HeartbeatOptions } from '../tcp/options';
import { checkKnown } from '../../core/options';
import { MAX_WINDOW } from '../../core/frame';
import { MAX_TIMER_MS } from '../../core/thread-hold';

/** What `connect` takes beside the connection (rxwire's own part). */
export interface NatsWireOptions {
  /**
   * The first tokens of every subject rxwire puts on NATS (channels use
   * `<prefix>ch.…`): `''` or tokens each followed by a dot. Both ends of a
   * channel must use the same. Default `'rxwire.'`.
   */
  prefix?: string;
}

/** `connect`'s options: the @nats-io client's `ConnectionOptions` (servers, user, pass, name, …) and `prefix`. */
export type NatsConnectOptions = ConnectionOptions & NatsWireOptions;

/** Options of `conn.open` (with `WireOptions`). */
export interface NatsOpenOptions extends WireOptions {
  /**
   * Bytes of NEXT frames (5-byte headers included) this end may have in
   * flight, unconsumed by the reader; announced in HELLO, so the reader
   * paces its ACKs by it (a quarter window). It bounds what a slow reader
   * costs the writer and the NATS server. Default 4 MiB.
   */
  windowBytes?: number;
  /** A NATS message is published as soon as its frames reach this size, without waiting for the turn to end. Default 64 KiB (and never past the server's max_payload). */
  batchBytes?: number;
  /**
   * Notices a peer that vanished (its process killed, its machine gone)
   * although the NATS server is up: after `interval` ms without a message
   * from the peer this end sends PING (the peer answers PONG); after
   * `timeout` ms without one the channel ends with `TransportClosedError`.
   * `false` turns it off. Default `{ interval: 5000, timeout: 15000 }`.
   */
  heartbeat?: boolean | HeartbeatOptions;
  /** How long a proposal to pair with another end waits for its answer before that end is taken for gone, ms. Default 5000. */
  pairTimeout?: number;
}

const OPEN_OPTIONS: Record<keyof NatsOpenOptions, true> = { maxQueue: true, pauseReadsWhileQueued: true, windowBytes: true, batchBytes: true, heartbeat: true, pairTimeout: true };

/** `conn.open`'s NATS options after defaults and checks. */
export interface OpenSettings {
  window: number;
  batchBytes: number;
  heartbeat: HeartbeatSettings | undefined;
  pairTimeout: number;
}

const MiB = 1 << 20;

/**
 * The NATS part of `conn.open`'s options, with defaults.
 * @throws RangeError or TypeError naming a bad option
 */
export function openSettings(options: NatsOpenOptions): OpenSettings {
  if (typeof options !== 'object' || options === null) throw new TypeError('conn.open: options must be an object');
  checkKnown(options, OPEN_OPTIONS, 'conn.open: options');
  const { windowBytes = 4 * MiB, batchBytes = 64 * 1024, heartbeat, pairTimeout = 5000 } = options;
  return {
    window: positive(windowBytes, 'options.windowBytes', MAX_WINDOW),
    batchBytes: positive(batchBytes, 'options.batchBytes'),
    heartbeat: heartbeatSettings(heartbeat, 'conn.open: options.heartbeat'),
    pairTimeout: positive(pairTimeout, 'options.pairTimeout', MAX_TIMER_MS), // a longer timer fires after 1 ms
  };
}

function positive(value: number, name: string, most = Number.POSITIVE_INFINITY): number {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`conn.open: ${name} must be a positive integer`);
  if (value > most) throw new RangeError(`conn.open: ${name} must be at most ${most}`);
  return value;
}
