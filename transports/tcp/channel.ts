/**
 * One channel of a TCP connection: the core session (core/session.ts) over
 * the connection's multiplexed frames. Only TCP's own part is here: every
 * frame carries the sender's channel id; values travel as items of NEXT
 * frames (an Avro long byte count, then the value), checked before anything
 * is decoded; the HELLO names the channel and announces the sender's
 * RECEIVE window (the session's `announces: 'receive'`), so a writer sends
 * nothing before the reader's HELLO, and no value before its `ACK 0`. A
 * channel the peer has not opened yet costs it only that HELLO.
 *
 * The connection adds its own bound (socket buffer, replay buffer) through
 * `host.roomToWrite()`.
 */
import type { Channel, ChannelSink, ChannelStats } from '../../core/channel';
import type { Codec } from '../../core/codec';
import { FrameKind } from '../../core/frame';
import { Session } from '../../core/session';
import type { SessionTransport } from '../../core/session-transport';
import { varLongBytes } from '../../core/varint';
import type { Guard } from '../../core/bounded';
import { checkItems, decodeItems } from './items';
import { ITEMS_BYTES, type FrameOut } from './output';
import type { ChannelHello } from './wire';

/** What a channel needs from its connection. */
export interface ChannelHost {
  readonly out: FrameOut;
  /** The largest body the peer accepts. */
  readonly peerMaxFrame: number;
  /** The largest body this end accepts. */
  readonly maxFrame: number;
  /** Whether the connection can take more data now (socket buffer and replay buffer below their bounds). */
  roomToWrite(): boolean;
  /** Calls `channel.roomAvailable()` once the connection has room again. */
  waitForRoom(channel: TcpChannel<unknown>): void;
  /** Frames were appended to `out`: write them soon (at once past the batch size, or when `urgent`). */
  wrote(urgent?: boolean): void;
  /** Calls `channel.deliverPending()` after the current read. */
  deliverLater(channel: TcpChannel<unknown>): void;
  /** Both directions are over: forget the channel (its name may be opened again). */
  retire(channel: TcpChannel<unknown>): void;
}

/**
 * A NEXT frame with a body of at least this many bytes (half a full frame,
 * ITEMS_BYTES) is delivered as soon as it is read; smaller ones, and the
 * endings, when the socket read that holds them is done. A 64 KiB read of
 * small values decoded about 2 300 of them before any was delivered, so
 * each lived through more of the young generation: the receiver's
 * scavenges copied them (GC 15 % of its samples against 12 % for the bare
 * baseline). Values of one channel still arrive in order: delivering hands
 * over everything decoded before, and an ending waits for the end of the read.
 */
const DELIVER_NOW_BYTES = ITEMS_BYTES / 2;

export class TcpChannel<T> implements Channel<T>, SessionTransport {
  /** The peer's id for this channel, once its HELLO has arrived. */
  remoteId: number | undefined;
  private readonly session: Session<T>;
  private deliveryQueued = false;
  /** The connection is gone: no more frames to it. */
  private detached = false;

  constructor(
    private readonly host: ChannelHost,
    readonly localId: number,
    readonly name: string,
    codec: Codec<T>,
    sink: ChannelSink<T>,
    readonly window: number,
  ) {
    this.session = new Session(this, codec, sink, { window, announces: 'receive', maxFrame: host.maxFrame, nextOverhead: 0, quietUntilHello: true });
  }

  // ---- from the connection ------------------------------------------------

  /** The peer's HELLO for this channel: its window and schema. */
  bind(remoteId: number, hello: ChannelHello): void {
    this.remoteId = remoteId;
    this.session.hello(hello);
  }

  /**
   * A frame of this channel from the peer (not HELLO: see `bind`).
   * @throws FrameError on a protocol violation (the connection ends)
   */
  onFrame(kind: number, buf: Buffer, start: number, end: number): void {
    if (kind === FrameKind.NEXT) {
      checkItems(buf, start, end);
      this.session.receive(kind, buf, start, end);
      // A full frame's values go out now, not with the rest of the read (see DELIVER_NOW_BYTES).
      if (end - start >= DELIVER_NOW_BYTES) return this.session.deliver();
    } else this.session.receive(kind, buf, start, end);
    if (kind <= FrameKind.ERROR && !this.deliveryQueued) {
      this.deliveryQueued = true;
      this.host.deliverLater(this as TcpChannel<unknown>);
    }
  }

  /** The connection has room again: wake a blocked writer. */
  roomAvailable(): void {
    this.session.wake();
  }

  /** Hands what this read decoded to the subscribers, then acknowledges it or ends the stream. */
  deliverPending(): void {
    this.deliveryQueued = false;
    this.session.deliver();
  }

  /**
   * The connection is gone for good with `err`. Values and an ending already
   * received are still delivered; a stream not ended fails with `err`.
   */
  connectionLost(err: Error): void {
    if (this.detached) return;
    this.detached = true;
    this.session.peerGone(err);
  }

  // ---- SessionTransport ---------------------------------------------------

  write<V>(kind: FrameKind, body?: Codec<V>, value?: V): number {
    if (this.detached) return 0;
    const { out } = this.host;
    let bytes: number;
    if (kind === FrameKind.NEXT) bytes = out.appendItem(this.localId, body!, value as V, this.host.peerMaxFrame);
    else if (body) bytes = out.writeFrame(kind, this.localId, body, value as V);
    else bytes = out.writeEmpty(kind, this.localId);
    // An ACK goes out at once, not at the end of the turn: a turn may read
    // up to 32 socket chunks (libuv's read loop), 2 MiB more to decode and
    // deliver before the writer, perhaps waiting for this credit, hears of it.
    this.host.wrote(kind === FrameKind.ACK);
    return bytes;
  }

  flush(): void {
    // The connection writes at the end of the turn, or at once past its batch size.
  }

  decodeNext<V>(reader: Codec<V>, guard: Guard | undefined, buf: Buffer, start: number, end: number, into: V[]): number {
    return decodeItems(reader, guard, buf, start, end, into);
  }

  get maxValueBytes(): number {
    const max = this.host.peerMaxFrame;
    return max - varLongBytes(max);
  }

  roomToWrite(): boolean {
    if (this.host.roomToWrite()) return true;
    this.host.waitForRoom(this as TcpChannel<unknown>);
    return false;
  }

  keepAlive(): void {
    // The socket keeps the process alive while the connection is open; nothing to do per channel.
  }

  close(): void {
    if (!this.detached) this.host.retire(this as TcpChannel<unknown>);
  }

  // ---- Channel ------------------------------------------------------------

  offer(value: T): boolean {
    return this.session.offer(value);
  }

  complete(): void {
    this.session.complete();
  }

  error(err: unknown): void {
    this.session.error(err);
  }

  resume(): void {
    this.session.resume();
  }

  pause(): void {
    this.session.pause();
  }

  stop(): void {
    this.session.stop();
  }

  hold(waiting: boolean): void {
    this.session.hold(waiting);
  }

  stats(): ChannelStats {
    return this.session.stats();
  }
}
