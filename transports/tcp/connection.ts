/**
 * A TCP connection: one socket (or, for a resumable session, a succession of sockets) carrying many channels.
 * The same class on both sides; the server and the client differ only in how they make it (server.ts,
 * client.ts) and in what a dropped socket means (`Lifeline`).
 *
 * Writing is writer.ts's: channel frames are encoded into one buffer
 * (output.ts) and handed to the socket in corked groups when core/batcher.ts
 * says, bounded by its drain. Reading: each 'data' chunk is cut into frames
 * in place (parser.ts, over core/frame-reader.ts); a channel delivers a full
 * NEXT frame's values at once, the rest it decoded as one batch when the
 * chunk is done. A heartbeat (heartbeat.ts) notices a silent peer.
 */
import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { isCodec, type Codec } from '../../core/codec';
import { ChannelTakenError, TransportClosedError } from '../../core/errors';
import { WireSubject } from '../../core/wire-subject';
import type { ChannelHost, TcpChannel } from './channel';
import { checkName, checkOpenOptions, type ConnectionSetup, type Lifeline, type TcpConnectionState, type TcpConnectionStats, type TcpOpenOptions } from './connection-types';
import { Heartbeat } from './heartbeat';
import { Mux } from './mux';
import { connectionFrame } from './output';
import { windowOf, type Settings } from './options';
import { ConnectionReader, PING } from './reader';
import { TcpKind, reasonBytes } from './wire';
import { ConnectionWriter } from './writer';

export type { TcpConnectionState, TcpConnectionStats, TcpOpenOptions } from './connection-types';

/** How long a closing connection waits for the peer to close its side before destroying the socket. */
const CLOSE_GRACE_MS = 2000;

/** An end descriptor: a channel of a connection, for `open(end, codec, options)`. Cannot cross threads. */
export interface TcpEnd {
  readonly transport: 'tcp';
  readonly connection: TcpConnection;
  readonly name: string;
}

type State = TcpConnectionState;

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
  private readonly lifeline: Lifeline<TcpConnection>;
  /** @internal Keeps a replay: the session may be resumed. */ readonly resumable: boolean;
  private readonly peerMaxFrame: number;
  private readonly writer: ConnectionWriter;
  private readonly reader: ConnectionReader;
  private readonly heartbeat: Heartbeat | undefined;
  private readonly mux: Mux;
  private socket: Socket | undefined;
  private generation = 0;
  private state: State = 'live';
  private closing = false;
  private graceTimer: ReturnType<typeof setTimeout> | undefined;
  private address = '';
  private portNumber = 0;

  /** @internal Made by `tcp.listen` / `tcp.connect`. */
  constructor(setup: ConnectionSetup<TcpConnection>) {
    this.settings = setup.settings;
    this.sessionId = setup.sessionId;
    this.resumable = setup.resumable;
    this.peerMaxFrame = setup.peerMaxFrame;
    this.lifeline = setup.lifeline;
    this.writer = new ConnectionWriter(setup.settings, setup.resumable);
    const { heartbeat } = setup.settings;
    this.heartbeat = heartbeat && new Heartbeat(heartbeat, () => this.writer.control(PING), (ms) => this.peerSilent(ms));
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.mux = new Mux(this.makeHost());
    this.reader = new ConnectionReader({
      mux: this.mux,
      writer: this.writer,
      settings: setup.settings,
      resumable: setup.resumable,
      heartbeat: this.heartbeat,
      ended: (err) => this.endForGood(err),
      fail: (err) => this.fail(err),
    });
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
      bufferedBytes: this.writer.bufferedBytes,
      unackedBytes: this.writer.unackedBytes,
      sentBytes: this.writer.sentBytes,
      receivedBytes: this.reader.received,
    };
  }

  /**
   * Opens the channel `name` as a WireSubject. The peer opens the same name
   * (with its own codec: the schemas are resolved by Avro's rules, or both
   * ends fail with `SchemaMismatchError`). Values sent before the peer has
   * opened it wait, as on a full window.
   * @throws TypeError for a bad name or codec
   * @throws ChannelTakenError for a name already open on this connection (one WireSubject per channel, as `open` and NATS say)
   * @throws RangeError for a bad option
   * @throws TransportClosedError when the connection is closed
   */
  open<T, In = never>(name: string, codec: Codec<T, In>, options: TcpOpenOptions = {}): WireSubject<T, In> {
    checkName(name);
    checkOpenOptions(options);
    if (!isCodec(codec)) throw new TypeError('conn.open: codec must be a Codec (from codec(), raw, rpcCodec(), ...)');
    const window = options.window === undefined ? this.settings.window : windowOf(options.window, 'options.window');
    if (this.state === 'gone' || this.closing) throw new TransportClosedError(`conn.open("${name}"): the connection is closed`);
    if (this.mux.has(name)) throw new ChannelTakenError(`conn.open: a channel named "${name}" is already open on this connection (close that one first)`);
    let channel: TcpChannel<T> | undefined;
    const wire = new WireSubject<T, In>((sink) => (channel = this.mux.add(name, codec as Codec<T>, sink, window)), codec, options);
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
   * Ends the connection: what was sent goes out first, then CLOSE; open channels end with
   * `TransportClosedError` at both ends. Resolves when the socket is closed.
   */
  close(): Promise<void> {
    if (this.state === 'gone' || this.closing) return this.closed;
    this.closing = true;
    this.writer.flush();
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
    this.reader.attach();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => generation === this.generation && this.reader.read(chunk));
    socket.on('drain', () => generation === this.generation && this.writer.notifyRoom());
    socket.on('error', () => {}); // 'close' follows and decides: the error says no more than that the socket is gone
    socket.on('close', () => generation === this.generation && this.lost(new TransportClosedError('the connection dropped')));
    try {
      this.writer.attach(socket, peerReceived);
    } catch (err) {
      return this.fail(err as Error);
    }
    this.heartbeat?.start();
    if (leftover) this.reader.read(leftover);
    socket.resume();
    this.writer.notifyRoom();
  }

  /** @internal The socket dropped and will not be resumed (resume timeout, reconnect gave up). */
  abandon(err: Error): void {
    this.endForGood(err);
  }

  /** @internal The peer will never open `name` (a cluster worker that finished): that channel, if still unpaired, fails with `err`. */
  neverOpened(name: string, err: Error): void {
    this.mux.neverOpened(name, err);
  }

  /** @internal Session bytes received from the peer in all (where a resume starts). */
  get receivedBytes(): number {
    return this.reader.received;
  }

  /** @internal Is the connection waiting for a resume? */
  get isDropped(): boolean {
    return this.state === 'dropped';
  }

  private makeHost(): ChannelHost {
    const { writer } = this;
    return {
      out: writer.out,
      peerMaxFrame: this.peerMaxFrame,
      maxFrame: this.settings.maxFrame,
      roomToWrite: () => writer.roomToWrite(),
      waitForRoom: (channel) => writer.waitForRoom(channel),
      wrote: (urgent) => (urgent ? writer.flush() : writer.wrote()),
      deliverLater: (channel) => this.reader.deliverLater(channel),
      retire: (channel) => this.mux.retire(channel),
    };
  }

  // ---- lifecycle ----------------------------------------------------------

  /**
   * The socket is gone without CLOSE: it closed, or the heartbeat heard nothing from the peer for too long
   * (`peerSilent`: the socket goes at once, since a silent peer would not answer a CLOSE). A resumable
   * session waits for a resume (`lifeline`); any other ends with `err`.
   */
  private lost(err: Error): void {
    this.detachSocket();
    this.writer.detach();
    this.heartbeat?.stop();
    this.reader.stop();
    if (this.state !== 'live') return;
    if (this.resumable && this.lifeline.dropped(this)) {
      this.state = 'dropped';
      return;
    }
    this.endForGood(err);
  }

  private peerSilent(ms: number): void {
    this.lost(new TransportClosedError(`the peer was silent for ${ms} ms (heartbeat timeout ${this.settings.heartbeat!.timeout} ms)`));
  }

  /** A fatal error on the connection (malformed frame, bad acknowledgement): tell the peer, end. */
  private fail(err: Error): void {
    if (this.state === 'gone') return;
    this.reader.stop();
    this.writer.stop(); // what was written goes before the CLOSE; nothing after it (a write after end destroys the socket)
    const socket = this.socket;
    if (socket && this.state === 'live') socket.end(connectionFrame(TcpKind.CLOSE, reasonBytes(err.message)));
    this.endForGood(err);
  }

  private endForGood(err: Error): void {
    if (this.state === 'gone') return;
    this.writer.stop();
    this.heartbeat?.stop();
    this.state = 'gone';
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

/** Is `end` a TCP end descriptor (from `conn.end(name)`)? */
export function isTcpEnd(end: unknown): end is TcpEnd {
  return typeof end === 'object' && end !== null && (end as TcpEnd).transport === 'tcp' && (end as TcpEnd).connection instanceof TcpConnection;
}
