/**
 * The types around a TCP connection (connection.ts): the options of
 * `conn.open`, its state and stats, what the server or client gives it
 * (`ConnectionSetup`, `Lifeline`), and the checks of a channel's name and
 * codec at the door. Generic in the connection's class, which imports them.
 */
import { Buffer } from 'node:buffer';
import type { Codec } from '../../core/codec';
import type { WireOptions } from '../../core/wire-subject';
import type { Settings } from './options';
import { MAX_NAME_BYTES } from './wire';
import { checkKnown } from '../../core/options';

/** What a dropped socket means for a connection `C` (server: wait for the client; client: reconnect). */
export interface Lifeline<C> {
  /** The socket dropped without CLOSE: return true if a resume will be tried (the connection waits), false to end it. */
  dropped(conn: C): boolean;
  /** The connection ended for good (close, CLOSE, a fatal error, or no resume). */
  gone(conn: C, err: Error): void;
}

/** @internal What the server or client knows when it makes a connection `C`. */
export interface ConnectionSetup<C> {
  settings: Settings;
  sessionId: Buffer;
  resumable: boolean;
  peerMaxFrame: number;
  lifeline: Lifeline<C>;
}

/** Options of `conn.open`: the WireSubject's, and this channel's receive window. */
export type TcpOpenOptions = WireOptions & {
  /** This channel's receive window, bytes (default: the connection's `window`). */
  window?: number;
};

const OPEN_OPTIONS: Record<keyof TcpOpenOptions, true> = { maxQueue: true, pauseReadsWhileQueued: true, window: true };

/** `conn.open`'s options: an object of TcpOpenOptions' keys (a misspelt one is a TypeError: core/options.ts). */
export function checkOpenOptions(options: TcpOpenOptions): void {
  checkKnown(options, OPEN_OPTIONS, 'conn.open: options');
}

/**
 * A connection's state: `live` (a socket is attached), `dropped` (a
 * resumable session waiting for its client to come back) or `gone`.
 */
export type TcpConnectionState = 'live' | 'dropped' | 'gone';

/** What `conn.stats()` reports: a snapshot of what the connection holds and has moved. */
export interface TcpConnectionStats {
  readonly state: TcpConnectionState;
  /** Channels open on this end (opened and not yet over both ways). */
  readonly channels: number;
  /**
   * Bytes waiting to go out: frames encoded but not yet handed to the socket,
   * plus the socket's own write buffer. Channels get no room while this is
   * at `highWaterMark`, so it stays within about `highWaterMark` plus one
   * batch (64 KiB) and one frame, however slow the peer reads.
   */
  readonly bufferedBytes: number;
  /**
   * Session bytes sent and not yet acknowledged by the peer. A resumable
   * session keeps them for replay; channels get no room while this is at
   * max(4 × `highWaterMark`, 1 MiB). Without resume, always 0.
   */
  readonly unackedBytes: number;
  /** Session bytes (frames of channels, headers included) sent and received in all. */
  readonly sentBytes: number;
  readonly receivedBytes: number;
}

export function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('a channel name must be a non-empty string');
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) throw new RangeError(`a channel name must be at most ${MAX_NAME_BYTES} bytes of UTF-8`);
}
