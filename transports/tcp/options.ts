/**
 * The options of `tcp.listen` and `tcp.connect`, their defaults, and their
 * validation at the door (TypeError / RangeError naming the option).
 */
import type { TlsOptions, ConnectionOptions as TlsConnectionOptions } from 'node:tls';

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
}

/** Options of `tcp.listen`. */
export interface ListenOptions extends CommonOptions {
  /** The port; default 0 (an ephemeral port, see `server.port`). */
  port?: number;
  /** The address to bind; default `127.0.0.1` (loopback only). */
  host?: string;
  /** TLS: `{ key, cert, ... }` for `tls.createServer`. Without it, plain TCP. */
  tls?: TlsOptions;
  /** Milliseconds a dropped client's session is kept for it to resume. Default 30 000. */
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
  /** Milliseconds after the drop when the client gives up (its channels end with `TransportClosedError`). Default 30 000. */
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

/** Connection settings after defaults and validation. */
export interface Settings {
  secret: Buffer | undefined;
  maxFrame: number;
  window: number;
  highWaterMark: number;
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

/** The largest maxFrame: a frame's length must fit its u32 field. */
export const MAX_MAX_FRAME = 0xffffffff - 9;

export function listenSettings(options: ListenOptions): ListenSettings {
  if (typeof options !== 'object' || options === null) throw new TypeError('tcp.listen: options must be an object');
  const { port = 0, host = '127.0.0.1', tls, resumeTimeout = 30_000 } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError('options.port must be an integer from 0 to 65535');
  return {
    ...common(options),
    port,
    host: hostOf(host),
    tls: tlsOf(tls),
    resumeTimeout: nonNegative(resumeTimeout, 'options.resumeTimeout'),
  };
}

export function connectSettings(options: ConnectOptions): ConnectSettings {
  if (typeof options !== 'object' || options === null) throw new TypeError('tcp.connect: options must be an object');
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
    window: positive(window, 'options.window'),
    highWaterMark: positive(highWaterMark, 'options.highWaterMark'),
  };
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
  const { initialDelay = 50, maxDelay = 2000, factor = 2, giveUpAfter = 30_000 } = reconnect as ReconnectOptions;
  const settings = {
    initialDelay: nonNegative(initialDelay, 'options.reconnect.initialDelay'),
    maxDelay: nonNegative(maxDelay, 'options.reconnect.maxDelay'),
    factor: nonNegative(factor, 'options.reconnect.factor'),
    giveUpAfter: nonNegative(giveUpAfter, 'options.reconnect.giveUpAfter'),
  };
  if (settings.factor < 1) throw new RangeError('options.reconnect.factor must be at least 1');
  return settings;
}

export function positive(value: unknown, name: string): number {
  if (!Number.isInteger(value) || (value as number) <= 0) throw new RangeError(`${name} must be a positive integer`);
  return value as number;
}

function nonNegative(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number`);
  return value;
}
