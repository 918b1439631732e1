/**
 * The options of `tcp.listen` and `tcp.connect`, their defaults, and their
 * validation at the door (TypeError / RangeError naming the option).
 */
import { Buffer } from 'node:buffer';
import { MAX_WINDOW } from '../../core/frame';
import { MAX_TIMER_MS } from '../../core/thread-hold';
import type { TlsOptions, ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { HeartbeatSettings } from './heartbeat';
import { checkKnown } from '../../core/options';

const MiB = 1 << 20;

/** What both ends of a connection are configured with. */
export interface CommonOptions {
  /**
   * A shared secret. When set, each side proves it knows it (HMAC-SHA256 over
   * both sides' random nonces); it never crosses the wire. Both sides must
   * have the same one, or neither: a peer that fails gets `AuthError`.
   */
  secret?: string | Buffer;
  /** The largest frame body this end accepts, bytes. A larger one is a `FrameError` that closes the connection. Default 4 MiB. */
  maxFrame?: number;
  /** Per-channel receive window, bytes: how much a peer may send on a channel before this end consumes it. Default 4 MiB. */
  window?: number;
  /** Bound of the connection's write buffer, bytes: channels get no room while this much waits for the socket. Default 1 MiB. */
  highWaterMark?: number;
  /**
   * Notices a peer that goes silent with its socket open (a stopped process,
   * a machine gone from the network): after `interval` ms without a byte
   * from the peer this end sends PING (the peer answers PONG); after
   * `timeout` ms without one, the connection ends and its channels error
   * with `TransportClosedError` ("the peer was silent for N ms"), or, with
   * `reconnect`, the client resumes. `false` turns it off (so does an
   * `interval` or `timeout` of `Infinity`). A peer answers PING whatever its
   * own setting. Default `{ interval: 5000, timeout: 15000 }`.
   */
  heartbeat?: boolean | HeartbeatOptions;
}

/** The heartbeat's timing (see `CommonOptions.heartbeat`). */
export interface HeartbeatOptions {
  /** Milliseconds of quiet before this end sends PING. Default 5000, or `timeout / 3` when only `timeout` is given. */
  interval?: number;
  /** Milliseconds of silence after which the peer is taken for gone; more than `interval`. Default 3 × `interval`. */
  timeout?: number;
}

/** Options of `tcp.listen`. */
export interface ListenOptions extends CommonOptions {
  /** The port; default 0 (an ephemeral port, see `server.port`). */
  port?: number;
  /** The address to bind; default `127.0.0.1` (loopback only). */
  host?: string;
  /** TLS: `{ key, cert, ... }` for `tls.createServer`. Without it, plain TCP. */
  tls?: TlsOptions;
  /** Milliseconds a dropped client's session is kept for it to resume, 0 to 2^31 − 1 (Node's longest timer). Default 30 000. */
  resumeTimeout?: number;
}

/** Backoff of a reconnecting client. */
export interface ReconnectOptions {
  /** Milliseconds before the first attempt. Default 50. */
  initialDelay?: number;
  /** The longest wait between attempts, ms. Default 2000. */
  maxDelay?: number;
  /** Each wait is the previous one times this. Default 2. */
  factor?: number;
  /** Milliseconds after the drop when the client gives up (its channels end with `TransportClosedError`). Default 30 000. Each delay here is 0 to 2^31 − 1 ms. */
  giveUpAfter?: number;
}

/** Options of `tcp.connect`. */
export interface ConnectOptions extends CommonOptions {
  /** The server's port. */
  port: number;
  /** The server's address; default `127.0.0.1`. */
  host?: string;
  /** TLS: `{ ca, servername, ... }` for `tls.connect`. Without it, plain TCP. */
  tls?: TlsConnectionOptions;
  /**
   * Resume after a dropped connection (default off): channels go on, nothing
   * lost or duplicated. `true` for the default backoff. Off, a drop ends
   * every channel with `TransportClosedError`.
   */
  reconnect?: boolean | ReconnectOptions;
}

const COMMON: Record<keyof CommonOptions, true> = { secret: true, maxFrame: true, window: true, highWaterMark: true, heartbeat: true };
const LISTEN: Record<keyof ListenOptions, true> = { ...COMMON, port: true, host: true, tls: true, resumeTimeout: true };
const CONNECT: Record<keyof ConnectOptions, true> = { ...COMMON, port: true, host: true, tls: true, reconnect: true };
const HEARTBEAT: Record<keyof HeartbeatOptions, true> = { interval: true, timeout: true };
const RECONNECT: Record<keyof ReconnectOptions, true> = { initialDelay: true, maxDelay: true, factor: true, giveUpAfter: true };

/** Connection settings after defaults and validation. */
export interface Settings {
  secret: Buffer | undefined;
  maxFrame: number;
  window: number;
  highWaterMark: number;
  /** Undefined: no heartbeat. */
  heartbeat: HeartbeatSettings | undefined;
}

export interface ListenSettings extends Settings {
  port: number;
  host: string;
  tls: TlsOptions | undefined;
  resumeTimeout: number;
}

export interface ConnectSettings extends Settings {
  port: number;
  host: string;
  tls: TlsConnectionOptions | undefined;
  reconnect: Required<ReconnectOptions> | undefined;
}

/** The default heartbeat interval, ms; the timeout is three of them. */
export const HEARTBEAT_INTERVAL_MS = 5000;
/** The longest delay a Node timer takes (a longer one fires at once). */

/** The largest maxFrame: a frame's length must fit its u32 field. */
export const MAX_MAX_FRAME = 0xffffffff - 9;

export function listenSettings(options: ListenOptions): ListenSettings {
  if (typeof options !== 'object' || options === null) throw new TypeError('tcp.listen: options must be an object');
  checkKnown(options, LISTEN, 'tcp.listen: options');
  const { port = 0, host = '127.0.0.1', tls, resumeTimeout = 30_000 } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError('options.port must be an integer from 0 to 65535');
  return {
    ...common(options),
    port,
    host: hostOf(host),
    tls: tlsOf(tls),
    resumeTimeout: millis(resumeTimeout, 'options.resumeTimeout'),
  };
}

export function connectSettings(options: ConnectOptions): ConnectSettings {
  if (typeof options !== 'object' || options === null) throw new TypeError('tcp.connect: options must be an object');
  checkKnown(options, CONNECT, 'tcp.connect: options');
  const { port, host = '127.0.0.1', tls, reconnect = false } = options;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError('options.port must be an integer from 1 to 65535');
  return { ...common(options), port, host: hostOf(host), tls: tlsOf(tls), reconnect: reconnectOf(reconnect) };
}

function common(options: CommonOptions): Settings {
  const { secret, maxFrame = 4 * MiB, window = 4 * MiB, highWaterMark = MiB } = options;
  if (!Number.isInteger(maxFrame) || maxFrame < 1024 || maxFrame > MAX_MAX_FRAME) {
    throw new RangeError(`options.maxFrame must be an integer from 1024 to ${MAX_MAX_FRAME}`);
  }
  return {
    secret: secretOf(secret),
    maxFrame,
    window: windowOf(window, 'options.window'),
    highWaterMark: positive(highWaterMark, 'options.highWaterMark'),
    heartbeat: heartbeatSettings(options.heartbeat),
  };
}

/**
 * The `heartbeat` option after defaults and checks (undefined: off).
 * @param name the option's name in messages
 * @throws TypeError / RangeError naming the option
 */
export function heartbeatSettings(heartbeat: unknown, name = 'options.heartbeat'): HeartbeatSettings | undefined {
  if (heartbeat === false) return undefined;
  if (heartbeat === undefined || heartbeat === true) heartbeat = {};
  if (typeof heartbeat !== 'object' || heartbeat === null) throw new TypeError(`${name} must be a boolean or { interval, timeout }`);
  checkKnown(heartbeat, HEARTBEAT, name); // a misspelt `timout` would leave the default in silence
  const given = heartbeat as HeartbeatOptions;
  const check = (value: unknown, field: string): number => {
    if (value === Infinity) return value;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_TIMER_MS) {
      throw new RangeError(`${name}.${field} must be an integer number of milliseconds from 1 to ${MAX_TIMER_MS}, or Infinity (off)`);
    }
    return value;
  };
  const interval = given.interval === undefined ? undefined : check(given.interval, 'interval');
  const timeout = given.timeout === undefined ? undefined : check(given.timeout, 'timeout');
  if (interval === Infinity || timeout === Infinity) return undefined;
  const settings =
    interval !== undefined
      ? { interval, timeout: timeout ?? Math.min(3 * interval, MAX_TIMER_MS) }
      : timeout !== undefined
        ? { interval: Math.max(1, Math.floor(timeout / 3)), timeout }
        : { interval: HEARTBEAT_INTERVAL_MS, timeout: 3 * HEARTBEAT_INTERVAL_MS };
  if (settings.timeout <= settings.interval) {
    throw new RangeError(`${name}.timeout (${settings.timeout}) must be more than ${name}.interval (${settings.interval})`);
  }
  return settings;
}

function secretOf(secret: unknown): Buffer | undefined {
  if (secret === undefined) return undefined;
  if (typeof secret === 'string') {
    if (secret.length === 0) throw new RangeError('options.secret must not be empty');
    return Buffer.from(secret, 'utf8');
  }
  if (Buffer.isBuffer(secret)) {
    if (secret.length === 0) throw new RangeError('options.secret must not be empty');
    return Buffer.from(secret);
  }
  throw new TypeError('options.secret must be a string or a Buffer');
}

function hostOf(host: unknown): string {
  if (typeof host !== 'string' || host.length === 0) throw new TypeError('options.host must be a non-empty string');
  return host;
}

function tlsOf<O>(tls: O | undefined): O | undefined {
  if (tls !== undefined && (typeof tls !== 'object' || tls === null)) throw new TypeError('options.tls must be an object of TLS options');
  return tls;
}

function reconnectOf(reconnect: unknown): Required<ReconnectOptions> | undefined {
  if (reconnect === false) return undefined;
  if (reconnect === true) reconnect = {};
  if (typeof reconnect !== 'object' || reconnect === null) {
    throw new TypeError('options.reconnect must be a boolean or { initialDelay, maxDelay, factor, giveUpAfter }');
  }
  checkKnown(reconnect, RECONNECT, 'options.reconnect');
  const { initialDelay = 50, maxDelay = 2000, factor = 2, giveUpAfter = 30_000 } = reconnect as ReconnectOptions;
  const settings = {
    initialDelay: millis(initialDelay, 'options.reconnect.initialDelay'),
    maxDelay: millis(maxDelay, 'options.reconnect.maxDelay'),
    factor: nonNegative(factor, 'options.reconnect.factor'),
    giveUpAfter: millis(giveUpAfter, 'options.reconnect.giveUpAfter'),
  };
  if (settings.factor < 1) throw new RangeError('options.reconnect.factor must be at least 1');
  return settings;
}

/** A receive window: a positive integer a HELLO can carry (checked before anything is made of it). */
export function windowOf(value: unknown, name: string): number {
  if (!Number.isInteger(value) || (value as number) <= 0 || (value as number) > MAX_WINDOW) {
    throw new RangeError(`${name} must be an integer from 1 to ${MAX_WINDOW}`);
  }
  return value as number;
}

export function positive(value: unknown, name: string): number {
  if (!Number.isInteger(value) || (value as number) <= 0) throw new RangeError(`${name} must be a positive integer`);
  return value as number;
}

/** A delay for a timer: Node fires one longer than MAX_TIMER_MS (~24.8 days) after 1 ms, so it is refused. */
function millis(value: unknown, name: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= MAX_TIMER_MS)) {
    throw new RangeError(`${name} must be a number of milliseconds from 0 to ${MAX_TIMER_MS}`);
  }
  return value;
}

function nonNegative(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number`);
  return value;
}
