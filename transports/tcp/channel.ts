/**
 * One channel of a TCP connection: the `Channel` seam (core/channel.ts) over
 * the connection's multiplexed frames. It follows the port transport's
 * session (docs/PROTOCOL.md) with three differences: every frame carries the
 * sender's channel id; the HELLO also names the channel and announces the
 * sender's RECEIVE window; and a writer sends no data before the reader has
 * accepted its schema (a reader answers an accepted HELLO with `ACK 0`;
 * until then `offer` is false, as on a full window). So a channel the peer
 * has not opened yet costs it only that HELLO, and a schema the reader
 * refuses fails the writer before any value is taken.
 *
 * Flow control is by credit, per channel: the writer may have `window` bytes
 * of items (value bytes plus their length prefixes) that the reader has not
 * consumed; the reader acknowledges in steps of a quarter window. The
 * connection adds its own bound (socket buffer, replay buffer) through
 * `host.roomToWrite()`.
 */
import type { Channel, ChannelSink, WireStats } from '../../core/channel';
import type { Codec } from '../../core/codec';
import { ErrorRecord, RejectRecord, readerForHello } from '../../core/frame';
import { FrameError, RemoteError, SchemaMismatchError, TransportClosedError, toErrorData } from '../../core/errors';
import { guardFor, type Guard } from './bounded';
import type { FrameOut } from './output';
import { LongRecord, TcpKind, readVarLong, type ChannelHello } from './wire';

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
  /** Frames were appended to `out`: write them soon (at once past the batch size). */
  wrote(urgent?: boolean): void;
  /** Calls `channel.deliverPending()` after the current read. */
  deliverLater(channel: TcpChannel<unknown>): void;
  /** Both directions are over: forget the channel (its name may be opened again). */
  retire(channel: TcpChannel<unknown>): void;
}

/** A data frame held while the channel has no subscriber. */
interface Held {
  kind: number;
  buf: Buffer;
  start: number;
  end: number;
}

type Ending = { kind: 'complete' } | { kind: 'error'; error: unknown };

/** The REJECT path that means "wrong protocol", not a schema field. */
const PROTOCOL_PATH = '<protocol>';

export class TcpChannel<T> implements Channel<T> {
  /** The peer's id for this channel, once its HELLO has arrived. */
  remoteId: number | undefined;
  private readonly ackEvery: number;

  // Outgoing.
  private peerWindow: number | undefined;
  /** The reader accepted this end's schema (its first ACK came): data may go out. */
  private accepted = false;
  private sentBytes = 0;
  private ackedBytes = 0;
  private sent = 0;
  private outDone = false;
  private blocked = false;
  /** complete/error asked for before the peer's HELLO: sent when it comes. */
  private pendingEnding: Ending | undefined;

  // Incoming.
  private reader: Codec<T> | undefined;
  private guard: Guard | undefined;
  private paused = true;
  private held: Held[] = [];
  private inDone = false;
  /** STOP owed to the peer once its HELLO comes. */
  private stopOwed = false;
  private peerEnded = false;
  private failure: Error | undefined;
  private refused = false;
  private consumedBytes = 0;
  private ackedConsumed = 0;
  private nextBytesIn = 0;
  private received = 0;
  private receivedBytes = 0;
  /** Decoded in this read, handed to the sink by `deliverPending`. */
  private values: T[] = [];
  private valueBytes = 0;
  private ending: { error?: Error } | undefined;
  private deliveryQueued = false;
  /** The connection is gone: no more frames from or to it. */
  private detached = false;

  constructor(
    private readonly host: ChannelHost,
    readonly localId: number,
    readonly name: string,
    private readonly codec: Codec<T>,
    private readonly sink: ChannelSink<T>,
    readonly window: number,
  ) {
    this.ackEvery = Math.max(1, Math.floor(window / 4));
  }

  // ---- from the connection ------------------------------------------------

  /** The peer's HELLO for this channel: learn its window and schema, then send what waited for it. */
  bind(remoteId: number, hello: ChannelHello): void {
    this.remoteId = remoteId;
    this.peerWindow = hello.window;
    try {
      this.reader = readerForHello(this.codec, hello);
      this.guard = this.reader.fingerprint === 'raw' ? undefined : guardFor(JSON.parse(hello.schema));
    } catch (err) {
      this.refuse(err as Error, err instanceof SchemaMismatchError ? err.path : PROTOCOL_PATH);
    }
    if (!this.refused) {
      // ACK 0 says "your schema is accepted": the writer sends no value before it.
      this.host.out.writeFrame(TcpKind.ACK, this.localId, LongRecord, 0);
      this.host.wrote();
    }
    if (this.pendingEnding) this.writeEnding(this.pendingEnding);
    this.pendingEnding = undefined;
    if (this.stopOwed) {
      this.stopOwed = false;
      this.writeControl(TcpKind.STOP);
    }
    this.roomAvailable();
    this.maybeRetire();
  }

  /**
   * A NEXT frame: checks its items and the writer's window at once; decodes
   * now, or holds it until the first subscriber.
   * @throws FrameError when the body is not a sequence of items or the writer overran its window
   */
  onNext(buf: Buffer, start: number, end: number): void {
    const bytes = checkItems(buf, start, end);
    this.nextBytesIn += bytes;
    if (this.nextBytesIn - this.ackedConsumed > this.window + this.host.maxFrame) {
      throw new FrameError(`the writer of channel "${this.name}" overran its window of ${this.window} bytes`);
    }
    if (this.inDone || this.refused || this.peerEnded) return;
    if (this.paused) this.held.push({ kind: TcpKind.NEXT, buf, start, end });
    else this.decodeNext(buf, start, end);
  }

  /** COMPLETE or ERROR: the end of the peer's stream, in order with its values. */
  onEnding(kind: number, buf: Buffer, start: number, end: number): void {
    if (kind === TcpKind.COMPLETE) expectEmpty(kind, start, end);
    if (this.peerEnded) return;
    this.peerEnded = true;
    if (this.inDone || this.refused) return;
    if (this.paused) {
      // Held for a later subscriber; the name is free once this end's writing is over too.
      this.held.push({ kind, buf, start, end });
      this.maybeRetire();
    } else {
      this.decodeEnding(kind, buf, start, end);
    }
  }

  /** ACK: the reader consumed `acked` bytes in all. */
  onAck(buf: Buffer, start: number, end: number): void {
    const acked = LongRecord.decode(buf, start, end);
    if (acked < this.ackedBytes || acked > this.sentBytes) {
      throw new FrameError(`ACK of ${acked} bytes on channel "${this.name}" is outside [${this.ackedBytes}, ${this.sentBytes}]`);
    }
    this.ackedBytes = acked;
    this.accepted = true;
    this.roomAvailable();
  }

  onStop(start: number, end: number): void {
    expectEmpty(TcpKind.STOP, start, end);
    this.closeOutgoing(new TransportClosedError('the reader stopped: its last subscriber left'), true);
  }

  onReject(buf: Buffer, start: number, end: number): void {
    const reject = RejectRecord.decode(buf, start, end);
    const err =
      reject.path === PROTOCOL_PATH
        ? new FrameError(`the reader refused this end: ${reject.message}`)
        : new SchemaMismatchError(reject.path, `the reader refused this schema: ${reject.message}`);
    this.closeOutgoing(err, false);
  }

  /** The connection has room again, or credit came back: wake a blocked writer. */
  roomAvailable(): void {
    if (!this.blocked || this.outDone || !this.accepted) return;
    if (this.sentBytes - this.ackedBytes >= this.peerWindow!) return;
    this.blocked = false;
    this.sink.writable();
  }

  /** Hands what this read decoded to the sink, then acknowledges it or ends the stream. */
  deliverPending(): void {
    this.deliveryQueued = false;
    const values = this.values;
    const bytes = this.valueBytes;
    const ending = this.ending;
    this.values = [];
    this.valueBytes = 0;
    this.ending = undefined;
    this.received += values.length;
    this.receivedBytes += bytes;
    if (values.length > 0) this.sink.batch(values);
    if (this.inDone) return;
    if (ending) {
      this.inDone = true;
      if (ending.error) this.sink.error(ending.error);
      else this.sink.complete();
      this.maybeRetire();
      return;
    }
    this.consumedBytes += bytes;
    if (this.consumedBytes - this.ackedConsumed >= this.ackEvery && !this.detached) {
      this.ackedConsumed = this.consumedBytes;
      this.host.out.writeFrame(TcpKind.ACK, this.localId, LongRecord, this.consumedBytes);
      this.host.wrote();
    }
  }

  /**
   * The connection is gone for good with `err`. Values and an ending already
   * received are still delivered; a stream not ended fails with `err`
   * (at once, or for the first subscriber).
   */
  connectionLost(err: Error): void {
    if (this.detached) return;
    this.detached = true;
    if (!this.paused) this.flushDecoded();
    if (!this.inDone && !this.peerEnded) {
      if (this.paused) {
        this.held.length = 0;
        this.failure ??= err;
      } else {
        this.fail(err);
      }
    }
    this.closeOutgoing(err, false);
  }

  // ---- Channel ------------------------------------------------------------

  offer(value: T): boolean {
    if (this.outDone) throw new TransportClosedError('the outgoing stream is closed');
    if (!this.accepted || this.sentBytes - this.ackedBytes >= this.peerWindow!) {
      this.blocked = true;
      return false;
    }
    if (!this.host.roomToWrite()) {
      this.blocked = true;
      this.host.waitForRoom(this as TcpChannel<unknown>);
      return false;
    }
    const bytes = this.host.out.appendItem(this.localId, this.codec, value, this.host.peerMaxFrame);
    this.sentBytes += bytes;
    this.sent++;
    this.host.wrote();
    return true;
  }

  complete(): void {
    this.endOutgoing({ kind: 'complete' });
  }

  error(err: unknown): void {
    this.endOutgoing({ kind: 'error', error: err });
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const held = this.held;
    this.held = [];
    for (const frame of held) {
      if (this.inDone || this.ending) break;
      if (frame.kind === TcpKind.NEXT) this.decodeNext(frame.buf, frame.start, frame.end);
      else this.decodeEnding(frame.kind, frame.buf, frame.start, frame.end);
    }
    if (this.values.length > 0 || this.ending) this.deliverPending();
    if (this.failure && !this.inDone) this.fail(this.failure);
  }

  pause(): void {
    if (this.inDone) return;
    this.paused = true;
  }

  stop(): void {
    if (this.inDone) return;
    this.inDone = true;
    this.held.length = 0;
    if (!this.peerEnded && !this.detached) {
      if (this.remoteId === undefined) this.stopOwed = true;
      else this.writeControl(TcpKind.STOP);
    }
    this.maybeRetire();
  }

  hold(): void {
    // The socket keeps the process alive while the connection is open; nothing to do per channel.
  }

  stats(): Omit<WireStats, 'queued' | 'dropped'> {
    return {
      sent: this.sent,
      sentBytes: this.sentBytes,
      received: this.received,
      receivedBytes: this.receivedBytes,
      inFlightBytes: this.sentBytes - this.ackedBytes,
    };
  }

  // ---- internals ----------------------------------------------------------

  private endOutgoing(ending: Ending): void {
    if (this.outDone) return;
    this.outDone = true;
    if (this.detached) return;
    if (this.remoteId === undefined) this.pendingEnding = ending;
    else this.writeEnding(ending);
    this.maybeRetire();
  }

  private writeEnding(ending: Ending): void {
    if (this.detached) return;
    if (ending.kind === 'complete') this.host.out.writeEmpty(TcpKind.COMPLETE, this.localId);
    else this.host.out.writeFrame(TcpKind.ERROR, this.localId, ErrorRecord, toErrorData(ending.error));
    this.host.wrote(true);
  }

  private writeControl(kind: TcpKind): void {
    if (this.detached) return;
    this.host.out.writeEmpty(kind, this.localId);
    this.host.wrote(true);
  }

  private decodeNext(buf: Buffer, start: number, end: number): void {
    if (this.ending) return;
    let pos = start;
    try {
      while (pos < end) {
        // checkItems has vouched for every prefix. One byte (a value under 64 bytes) is the common case: no object.
        const b = buf[pos];
        let start = pos + 1;
        let itemEnd = start + (b >> 1);
        if (b & 0x80) {
          const prefix = readVarLong(buf, pos, end)!;
          start = prefix.next;
          itemEnd = start + prefix.value;
        }
        this.guard?.(buf, start, itemEnd);
        this.values.push(this.reader!.decode(buf, start, itemEnd));
        this.valueBytes += itemEnd - pos;
        pos = itemEnd;
      }
    } catch (err) {
      // A value that does not decode ends the incoming stream; the others go on.
      this.ending = { error: err as Error };
      this.refuseFurther();
    }
    this.queueDelivery();
  }

  private decodeEnding(kind: number, buf: Buffer, start: number, end: number): void {
    if (this.ending) return;
    if (kind === TcpKind.COMPLETE) this.ending = {};
    else {
      try {
        this.ending = { error: new RemoteError(ErrorRecord.decode(buf, start, end)) };
      } catch (err) {
        this.ending = { error: err as Error };
      }
    }
    this.queueDelivery();
  }

  private queueDelivery(): void {
    if (this.deliveryQueued) return;
    this.deliveryQueued = true;
    this.host.deliverLater(this as TcpChannel<unknown>);
  }

  /** Delivers at once what is decoded but not yet delivered (before an error is delivered). */
  private flushDecoded(): void {
    if (this.values.length > 0 || this.ending) this.deliverPending();
  }

  /** The writer's schema or protocol cannot be read: tell it, and fail our subscribers. */
  private refuse(err: Error, path: string): void {
    const reason = err instanceof SchemaMismatchError ? err.reason : err.message;
    this.host.out.writeFrame(TcpKind.REJECT, this.localId, RejectRecord, { path, message: reason });
    this.host.wrote(true);
    this.held.length = 0;
    this.refused = true;
    this.failure = err;
    if (!this.paused) this.fail(err);
  }

  private refuseFurther(): void {
    if (this.peerEnded || this.detached) return;
    this.writeControl(TcpKind.STOP);
  }

  private fail(err: Error): void {
    if (this.inDone) return;
    this.inDone = true;
    this.held.length = 0;
    this.sink.error(err);
    this.maybeRetire();
  }

  private closeOutgoing(err: Error, stopped: boolean): void {
    if (this.outDone && !this.pendingEnding) {
      this.maybeRetire();
      return;
    }
    this.outDone = true;
    this.pendingEnding = undefined;
    this.sink.writeClosed(err, stopped);
    this.maybeRetire();
  }

  private maybeRetire(): void {
    if (this.detached || this.remoteId === undefined || this.pendingEnding || this.stopOwed) return;
    const incomingOver = this.inDone || (this.paused && (this.peerEnded || this.failure !== undefined));
    if (this.outDone && incomingOver) this.host.retire(this as TcpChannel<unknown>);
  }
}

/**
 * Checks that a NEXT body is a sequence of whole items (Avro long length,
 * then that many bytes) and returns its size.
 * @throws FrameError when a length is malformed, negative or runs past the body
 */
function checkItems(buf: Buffer, start: number, end: number): number {
  if (start === end) throw new FrameError('a NEXT frame with no item');
  let pos = start;
  while (pos < end) {
    const b = buf[pos];
    if ((b & 0x81) === 0) {
      // A one-byte, non-negative length: the common case, checked without an object.
      pos += 1 + (b >> 1);
      if (pos > end) throw new FrameError(`a malformed item length in a NEXT body`);
      continue;
    }
    const prefix = readVarLong(buf, pos, end);
    if (!prefix || prefix.value < 0 || prefix.next + prefix.value > end) {
      throw new FrameError(`a malformed item length in a NEXT body at offset ${pos - start}`);
    }
    pos = prefix.next + prefix.value;
  }
  return end - start;
}

function expectEmpty(kind: number, start: number, end: number): void {
  if (end !== start) throw new FrameError(`frame kind 0x${kind.toString(16)} must have an empty body, has ${end - start} bytes`);
}
