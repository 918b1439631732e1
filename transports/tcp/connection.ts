/**
 * A TCP connection: one socket (or, for a resumable session, a succession
 * of sockets) carrying many channels. The same class on both sides; the
 * server and the client differ only in how they make it (server.ts,
 * client.ts) and in what a dropped socket means (`Lifeline`).
 *
 * Writing: channel frames are encoded into one buffer (output.ts) and handed
 * to the socket once per turn of the event loop, or as soon as 64 KiB
 * gather. Reading: each 'data' chunk is cut into frames in place
 * (parser.ts); every channel that decoded values gets them as one batch when
 * the chunk is done.
 */
import type { Socket } from 'node:net';
import type { Codec } from '../../core/codec';
import { FrameError, TransportClosedError } from '../../core/errors';
import { WireSubject, type WireOptions } from '../../core/wire-subject';
import type { ChannelHost, TcpChannel } from './channel';
import { Mux } from './mux';
import { denied } from './handshake';
import { BATCH_BYTES, FrameOut, connectionFrame } from './output';
import { FrameParser } from './parser';
import { ReplayBuffer } from './session';
import { positive, type Settings } from './options';
import { LongRecord, MAX_NAME_BYTES, TCP_HEADER, TcpKind } from './wire';

/** A receiver of a resumable session acknowledges (CACK) at least every this many session bytes. */
export const CACK_BYTES = 256 * 1024;
/** The least replay bound: well above CACK_BYTES, so acknowledgements always come before a writer stalls. */
const MIN_REPLAY_BYTES = 4 * CACK_BYTES;
/**
 * Full batches are handed to the socket together, in one writev, once this
 * many bytes of them wait (or at the end of the turn): on loopback a write
 * costs the receiver's side of the stack too, and one write per 64 KiB
 * batch took twice the time per byte of one per group.
 */
const FLUSH_BYTES = 256 * 1024;
/** How long a closing connection waits for the peer to close its side before destroying the socket. */
const CLOSE_GRACE_MS = 2000;

/** An end descriptor: a channel of a connection, for `open(end, codec, options)`. Cannot cross threads. */
export interface TcpEnd {
  readonly transport: 'tcp';
  readonly connection: TcpConnection;
  readonly name: string;
}

/** Options of `conn.open`: the WireSubject's, and this channel's receive window. */
export type TcpOpenOptions = WireOptions & {
  /** This channel's receive window, bytes (default: the connection's `window`). */
  window?: number;
};

/** What a dropped socket means for a connection (server: wait for the client; client: reconnect). */
export interface Lifeline {
  /** The socket dropped without CLOSE: return true if a resume will be tried (the connection waits), false to end it. */
  dropped(conn: TcpConnection): boolean;
  /** The connection ended for good (close, CLOSE, a fatal error, or no resume). */
  gone(conn: TcpConnection, err: Error): void;
}

/** @internal What the server or client knows when it makes a connection. */
export interface ConnectionSetup {
  settings: Settings;
  sessionId: Buffer;
  resumable: boolean;
  peerMaxFrame: number;
  lifeline: Lifeline;
}

/**
 * A connection's state: `live` (a socket is attached), `dropped` (a
 * resumable session waiting for its client to come back) or `gone`.
 */
export type TcpConnectionState = 'live' | 'dropped' | 'gone';
type State = TcpConnectionState;

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

/**
 * One TCP connection, from `tcp.connect` or a server's `connections$`.
 *
 * ## Example
 * ```ts
 * import { tcp } from 'rxwire/transports';
 * const conn = await tcp.connect({ port: 7000, secret: process.env.SECRET });
 * const trades = conn.open('trades', Trade);   // the server opens 'trades' too
 * trades.subscribe(console.log);
 * await trades.send({ id: 1, ts: Date.now(), sym: 'ACME', price: 1, qty: 1 });
 * ```
 */
export class TcpConnection {
  /** Settles (resolves) when the connection is gone for good and its socket is closed. */
  readonly closed: Promise<void>;
  /** @internal */
  readonly sessionId: Buffer;
  private resolveClosed!: () => void;
  private readonly settings: Settings;
  private readonly lifeline: Lifeline;
  private readonly resumable: boolean;
  private readonly replayLimit: number;
  private peerMaxFrame: number;
  private readonly out = new FrameOut();
  private readonly replay: ReplayBuffer;
  private readonly mux: Mux;
  private readonly host: ChannelHost;
  private socket: Socket | undefined;
  private parser: FrameParser | undefined;
  private generation = 0;
  private state: State = 'live';
  private closing = false;
  private received = 0;
  private lastCack = 0;
  private flushTimer: ReturnType<typeof setImmediate> | undefined;
  /** Full batches taken from `out` and not yet handed to the socket (see FLUSH_BYTES). */
  private unsent: Buffer[] = [];
  private unsentBytes = 0;
  private graceTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly waiting = new Set<TcpChannel<unknown>>();
  private toDeliver: TcpChannel<unknown>[] = [];
  private address = '';
  private portNumber = 0;

  /** @internal Made by `tcp.listen` / `tcp.connect`. */
  constructor(setup: ConnectionSetup) {
    this.settings = setup.settings;
    this.sessionId = setup.sessionId;
    this.resumable = setup.resumable;
    this.peerMaxFrame = setup.peerMaxFrame;
    this.lifeline = setup.lifeline;
    this.replay = new ReplayBuffer(setup.resumable);
    this.replayLimit = Math.max(4 * setup.settings.highWaterMark, MIN_REPLAY_BYTES);
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.host = this.makeHost();
    this.mux = new Mux(this.host);
  }

  /** The peer's address (the last socket's, after a drop). */
  get remoteAddress(): string {
    return this.address;
  }

  /** The peer's port (the last socket's, after a drop). */
  get remotePort(): number {
    return this.portNumber;
  }

  /** A snapshot of what the connection holds and has moved; see {@link TcpConnectionStats}. */
  stats(): TcpConnectionStats {
    return {
      state: this.state,
      channels: this.mux.size,
      bufferedBytes: this.bufferedBytes,
      unackedBytes: this.resumable ? this.replay.unacked : 0,
      sentBytes: this.replay.sent + this.unsentBytes + this.out.size,
      receivedBytes: this.received,
    };
  }

  /**
   * Opens the channel `name` as a WireSubject. The peer opens the same name
   * (with its own codec: the schemas are resolved by Avro's rules, or both
   * ends fail with `SchemaMismatchError`). Values sent before the peer has
   * opened it wait, as on a full window.
   * @throws TypeError for a bad name or codec, or a name already open on this connection
   * @throws RangeError for a bad option
   * @throws TransportClosedError when the connection is closed
   */
  open<T>(name: string, codec: Codec<T>, options: TcpOpenOptions = {}): WireSubject<T> {
    checkName(name);
    if (!looksLikeCodec(codec)) throw new TypeError('conn.open: codec must be a Codec (from codec(), raw, rpcCodec(), ...)');
    const window = options.window === undefined ? this.settings.window : positive(options.window, 'options.window');
    if (this.state === 'gone' || this.closing) throw new TransportClosedError(`conn.open("${name}"): the connection is closed`);
    if (this.mux.has(name)) throw new TypeError(`conn.open: a channel named "${name}" is already open on this connection`);
    let channel: TcpChannel<T> | undefined;
    const wire = new WireSubject<T>((sink) => (channel = this.mux.add(name, codec, sink, window)), codec, options);
    // Only now: binding may call the sink, which needs the WireSubject whole.
    this.mux.bindWaiting(channel as TcpChannel<unknown>);
    return wire;
  }

  /** An end descriptor for the channel `name`: `open(conn.end(name), codec)` is `conn.open(name, codec)`. */
  end(name: string): TcpEnd {
    checkName(name);
    return Object.freeze({ transport: 'tcp' as const, connection: this, name });
  }

  /**
   * Ends the connection: what was sent goes out first, then CLOSE; open
   * channels end with `TransportClosedError` at both ends. Resolves when the
   * socket is closed.
   */
  close(): Promise<void> {
    if (this.state === 'gone' || this.closing) return this.closed;
    this.closing = true;
    this.flush();
    if (this.socket && this.state === 'live') this.socket.end(connectionFrame(TcpKind.CLOSE, Buffer.from('conn.close()', 'utf8')));
    this.endForGood(new TransportClosedError('this end closed the connection'));
    return this.closed;
  }

  /**
   * @internal Puts `socket` (handshake done) under this connection, resending
   * what the peer had not received (`peerReceived`) and reading `leftover`
   * (bytes that came with the last handshake frame) first.
   */
  attach(socket: Socket, leftover: Buffer | undefined, peerReceived: number): void {
    if (this.state === 'gone') {
      socket.destroy();
      return;
    }
    this.detachSocket();
    const generation = ++this.generation;
    this.socket = socket;
    this.state = 'live';
    this.address = socket.remoteAddress ?? '';
    this.portNumber = socket.remotePort ?? 0;
    this.parser = new FrameParser((kind, channel, buf, start, end) => this.onFrame(kind, channel, buf, start, end), this.settings.maxFrame);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => generation === this.generation && this.onData(chunk));
    socket.on('drain', () => generation === this.generation && this.notifyRoom());
    socket.on('error', () => {
      // 'close' follows and decides; the error itself says no more than that the socket is gone.
    });
    socket.on('close', () => generation === this.generation && this.onSocketClosed());
    this.flush();
    try {
      for (const chunk of this.replay.replayFrom(peerReceived)) socket.write(chunk);
    } catch (err) {
      return this.fail(err as Error);
    }
    this.lastCack = this.received;
    if (leftover) this.onData(leftover);
    socket.resume();
    this.notifyRoom();
  }

  /** @internal The socket dropped and will not be resumed (resume timeout, reconnect gave up). */
  abandon(err: Error): void {
    this.endForGood(err);
  }

  /** @internal Session bytes received from the peer in all (where a resume starts). */
  get receivedBytes(): number {
    return this.received;
  }

  /** @internal Is the connection waiting for a resume? */
  get isDropped(): boolean {
    return this.state === 'dropped';
  }

  // ---- reading ------------------------------------------------------------

  private onData(chunk: Buffer): void {
    try {
      this.parser!.push(chunk);
    } catch (err) {
      this.deliverQueued();
      return this.fail(err instanceof FrameError ? err : new FrameError(`bad frame: ${(err as Error).message}`, { cause: err }));
    }
    this.deliverQueued();
    if (this.resumable && this.state === 'live' && this.received - this.lastCack >= CACK_BYTES) this.sendCack();
  }

  private onFrame(kind: number, channel: number, buf: Buffer, start: number, end: number): void {
    if (channel !== 0) {
      this.received += end - start + TCP_HEADER;
      this.mux.onFrame(kind, channel, buf, start, end);
      return;
    }
    switch (kind) {
      case TcpKind.CACK:
        this.replay.ack(LongRecord.decode(buf, start, end));
        this.notifyRoom();
        return;
      case TcpKind.CLOSE: {
        const reason = buf.toString('utf8', start, Math.min(end, start + 200));
        this.parser!.stop();
        this.endForGood(new TransportClosedError(`the peer closed the connection${reason ? `: ${reason}` : ''}`));
        return;
      }
      case TcpKind.DENY:
        // The client refused this server's WELCOME (its proof did not match): AuthError, reported on errors$.
        this.parser!.stop();
        this.endForGood(denied(buf.subarray(start, Math.min(end, start + 201))));
        return;
      default:
        throw new FrameError(`handshake frame kind 0x${kind.toString(16)} after the handshake`);
    }
  }

  private deliverQueued(): void {
    while (this.toDeliver.length > 0) {
      const batch = this.toDeliver;
      this.toDeliver = [];
      for (const channel of batch) channel.deliverPending();
    }
  }

  private sendCack(): void {
    this.lastCack = this.received;
    this.socket!.write(connectionFrame(TcpKind.CACK, LongRecord.encode(this.received)));
  }

  // ---- writing ------------------------------------------------------------

  private makeHost(): ChannelHost {
    const conn = this;
    return {
      out: this.out,
      get peerMaxFrame() {
        return conn.peerMaxFrame;
      },
      maxFrame: this.settings.maxFrame,
      roomToWrite: () => this.roomToWrite(),
      waitForRoom: (channel) => void this.waiting.add(channel),
      wrote: () => this.wrote(),
      deliverLater: (channel) => void this.toDeliver.push(channel),
      retire: (channel) => this.mux.retire(channel),
    };
  }

  private roomToWrite(): boolean {
    if (this.state === 'gone') return true; // the channel's own state refuses
    if (this.bufferedBytes >= this.settings.highWaterMark) return false;
    if (this.resumable && this.replay.unacked + this.out.size >= this.replayLimit) return false;
    return true;
  }

  /** Encoded bytes not yet handed to the socket, and the socket's own write buffer. */
  private get bufferedBytes(): number {
    const socketBytes = this.state === 'live' && this.socket ? this.socket.writableLength : 0;
    return this.out.size + this.unsentBytes + socketBytes;
  }

  /** A channel wrote to `out`: a full batch waits with the others, which go out at FLUSH_BYTES or at the end of the turn. */
  private wrote(): void {
    if (this.out.size >= BATCH_BYTES) {
      const chunk = this.out.take();
      this.unsent.push(chunk);
      this.unsentBytes += chunk.length;
      if (this.unsentBytes >= FLUSH_BYTES) return this.flush();
    }
    this.scheduleFlush();
  }

  /** Wakes the channels that found no room, if there is room now. */
  private notifyRoom(): void {
    if (this.waiting.size === 0 || !this.roomToWrite()) return;
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const channel of waiting) channel.roomAvailable();
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.state === 'gone') return;
    this.flushTimer = setImmediate(() => {
      this.flushTimer = undefined;
      this.flush();
      // The bytes just handed over may have left room without a 'drain' (the kernel took them all).
      this.notifyRoom();
    });
  }

  /**
   * Hands the waiting batches and what `out` holds to the socket, in one
   * writev (and to the replay buffer of a resumable session).
   */
  private flush(): void {
    if (this.flushTimer) {
      clearImmediate(this.flushTimer);
      this.flushTimer = undefined;
    }
    if (this.state === 'gone') return;
    const chunks = this.unsent;
    if (this.out.size > 0) chunks.push(this.out.take());
    if (chunks.length === 0) return;
    this.unsent = [];
    this.unsentBytes = 0;
    for (const chunk of chunks) this.replay.record(chunk);
    const socket = this.state === 'live' ? this.socket : undefined;
    if (!socket) return;
    // Once written, a chunk's buffer is reused, unless the replay buffer keeps it.
    const recycle = !this.resumable;
    socket.cork();
    for (const chunk of chunks) socket.write(chunk, recycle ? () => this.out.recycle(chunk) : undefined);
    socket.uncork();
  }

  // ---- lifecycle ----------------------------------------------------------

  private onSocketClosed(): void {
    this.socket = undefined;
    this.parser?.stop();
    if (this.state !== 'live') return;
    if (this.resumable && this.lifeline.dropped(this)) {
      this.state = 'dropped';
      return;
    }
    this.endForGood(new TransportClosedError('the connection dropped'));
  }

  /** A fatal error on the connection (malformed frame, bad acknowledgement): tell the peer, end. */
  private fail(err: Error): void {
    if (this.state === 'gone') return;
    this.parser?.stop();
    const socket = this.socket;
    if (socket && this.state === 'live') socket.end(connectionFrame(TcpKind.CLOSE, Buffer.from(err.message.slice(0, 200), 'utf8')));
    this.endForGood(err);
  }

  private endForGood(err: Error): void {
    if (this.state === 'gone') return;
    this.flush();
    this.state = 'gone';
    if (this.flushTimer) clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
    this.waiting.clear();
    const channels = this.mux.channels();
    this.mux.clear();
    for (const channel of channels) channel.connectionLost(err);
    this.lifeline.gone(this, err);
    const socket = this.socket;
    if (!socket || socket.destroyed) return this.finish();
    if (!socket.writableEnded) socket.end();
    socket.once('close', () => this.finish());
    this.graceTimer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
  }

  private finish(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    this.socket = undefined;
    this.resolveClosed();
  }

  private detachSocket(): void {
    const old = this.socket;
    if (!old) return;
    this.generation++;
    this.socket = undefined;
    old.destroy();
  }
}

/** A codec by its shape: codecs made outside core/codec.ts (rpcCodec) are codecs too. */
function looksLikeCodec(x: unknown): x is Codec<unknown> {
  const c = x as Codec<unknown> | undefined;
  return typeof c === 'object' && c !== null && typeof c.encodeInto === 'function' && typeof c.decode === 'function' && typeof c.fingerprint === 'string';
}

function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('a channel name must be a non-empty string');
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) throw new RangeError(`a channel name must be at most ${MAX_NAME_BYTES} bytes of UTF-8`);
}

/** Is `end` a TCP end descriptor (from `conn.end(name)`)? */
export function isTcpEnd(end: unknown): end is TcpEnd {
  return typeof end === 'object' && end !== null && (end as TcpEnd).transport === 'tcp' && (end as TcpEnd).connection instanceof TcpConnection;
}
