/**
 * The outgoing side of a connection's byte stream: frames are encoded
 * straight into one growing buffer (no per-value allocation), which is
 * handed off whole as one socket write. Consecutive values of one channel
 * share a NEXT frame: each is an item (Avro long byte count, then the value),
 * appended to the open frame while it stays within ITEMS_BYTES.
 *
 * Only channel frames (channel id ≠ 0) are written here, so every byte taken
 * is a session byte (see session.ts); connection frames go to the socket
 * directly (`connectionFrame`).
 */
import { Buffer } from 'node:buffer';
import type { Codec } from '../../core/codec';
import { FrameError } from '../../core/errors';
import { EncodeBuffer, writeFrameHeader } from '../../core/frame';
import { varLongBytes, writeVarLong } from '../../core/varint';
import { TCP_HEADER, TcpKind } from './wire';

/** A batch (one buffer of frames) is handed off once it reaches this many bytes. */
export const BATCH_BYTES = 64 * 1024;
/**
 * Items are appended to the open NEXT frame while its body stays at most
 * this many bytes (and within the peer's maxFrame). Smaller than a batch on
 * purpose: the receiver reads the socket in chunks of about 64 KiB, and a
 * frame that straddles two chunks is copied whole into a buffer of its own
 * before it is read. With 64 KiB frames nearly every frame straddled, so
 * every byte was copied once more (9 % of the receiver's time with Trades);
 * with 8 KiB frames about one byte in eight is, for 9 more header bytes per
 * 8 KiB.
 */
export const ITEMS_BYTES = 8 * 1024;
/** Bytes an item's length prefix takes at most (an Avro long below 2^35). */
const MAX_PREFIX = 5;
/** Room kept after an encoded item: its prefix may grow to MAX_PREFIX bytes, and the item may move into a frame of its own. */
const SLACK = MAX_PREFIX + TCP_HEADER;
/** Written buffers kept for reuse, at most, unless the writer asks for more (`maxSpare`). */
const MAX_SPARE = 16;

export class FrameOut extends EncodeBuffer {
  /** Where the NEXT frame that items are appended to begins, or -1. */
  private openStart = -1;
  private openChannel = 0;
  /**
   * Bytes the last item's length prefix took: the next value is encoded
   * after as many. Guessing 1 for a 64 KiB value cost a second copy of it
   * (its bytes moved up by the 3-byte prefix), 2 for a Trade a move of each.
   */
  private prefixGuess = 1;
  /**
   * Buffers given back once the socket wrote them, for `take` to reuse:
   * fresh memory costs a page fault per 4 KiB the first time it is written,
   * which made copying a 64 KiB value into a new buffer twice as slow.
   */
  private readonly spare: Buffer[] = [];

  /**
   * @param capacity bytes of each buffer (a value that does not fit grows it, and that buffer is not reused)
   * @param maxSpare written buffers kept for reuse, at most: as many as may
   *   be in flight at once (the writer's highWaterMark over BATCH_BYTES, and
   *   a flush's worth), so a steady stream allocates none
   */
  constructor(
    private readonly capacity = 2 * BATCH_BYTES,
    private readonly maxSpare = MAX_SPARE,
  ) {
    super(capacity);
  }

  /**
   * Appends `value` as an item of `channel`'s open NEXT frame, or of a new
   * one. Returns the item's bytes (prefix included), the unit of credit.
   * @param maxBody the largest body the peer accepts
   * @throws FrameError when one item alone exceeds `maxBody`; nothing is written
   * @throws EncodeError when the value does not fit the schema; nothing is written
   */
  appendItem<T>(channel: number, codec: Codec<T>, value: T, maxBody: number): number {
    const joins = this.openStart >= 0 && this.openChannel === channel;
    if (!joins) this.closeFrame();
    // Nothing below moves `pos` before the item is whole: a value that does
    // not fit its schema, or is too large, leaves only bytes past `pos`.
    const before = this.pos;
    const at = joins ? before : before + TCP_HEADER;
    // The value goes straight after as many bytes as the last item's length
    // took (a stream's values tend to be alike in size): the common case,
    // room enough with the slack after it, is one encodeInto and no move.
    const guess = this.prefixGuess;
    const from = at + guess;
    let end = from + SLACK <= this.buf.length ? codec.encodeInto(value, this.buf, from) : -1;
    if (end < 0 || end + SLACK > this.buf.length) end = this.encode(codec, value, from);
    const n = end - from;
    const prefix = n < 64 ? 1 : varLongBytes(n);
    if (prefix !== guess) {
      // Another length: the bytes move once (SLACK covers a longer prefix).
      this.buf.copyWithin(at + prefix, from, end);
      end += prefix - guess;
      this.prefixGuess = prefix;
    }
    if (prefix === 1) this.buf[at] = n << 1; // an Avro long below 64 is one byte: n zigzagged
    else writeVarLong(this.buf, at, n);
    const item = prefix + n;
    if (item > maxBody) throw new FrameError(`a value of ${item} bytes exceeds the peer's maxFrame (${maxBody})`);
    if (!joins) {
      this.startFrame(before, channel);
    } else if (end - this.openStart - TCP_HEADER > (maxBody < ITEMS_BYTES ? maxBody : ITEMS_BYTES)) {
      // Too much for the open frame: move the item into a frame of its own.
      this.buf.copyWithin(at + TCP_HEADER, at, end);
      this.closeFrameAt(before);
      this.startFrame(before, channel);
      end += TCP_HEADER;
    }
    this.pos = end;
    return item;
  }

  /** Appends a frame whose body is `value` under `bodyCodec` (closes any open NEXT frame). */
  writeFrame<T>(kind: TcpKind, channel: number, bodyCodec: Codec<T>, value: T): number {
    this.closeFrame();
    const start = this.pos;
    const end = this.encode(bodyCodec, value, start + TCP_HEADER);
    writeHeader(this.buf, start, kind, channel, end - start - TCP_HEADER);
    this.pos = end;
    return end - start;
  }

  /** Appends a frame with an empty body. */
  writeEmpty(kind: TcpKind, channel: number): number {
    this.closeFrame();
    this.ensure(this.pos + TCP_HEADER);
    writeHeader(this.buf, this.pos, kind, channel, 0);
    this.pos += TCP_HEADER;
    return TCP_HEADER;
  }

  /** Hands off what was written (the caller owns it) and starts a fresh buffer. */
  take(): Buffer {
    this.closeFrame();
    const out = this.buf.subarray(0, this.pos);
    this.buf = this.spare.pop() ?? Buffer.allocUnsafeSlow(this.capacity);
    this.pos = 0;
    return out;
  }

  /**
   * Gives back a chunk from `take` that nothing reads any more (the socket
   * has written it, and no replay buffer keeps it), so its memory is reused.
   * A chunk of a grown buffer is left to the garbage collector.
   */
  recycle(chunk: Buffer): void {
    const whole = chunk.buffer;
    if (whole.byteLength !== this.capacity || chunk.byteOffset !== 0 || this.spare.length >= this.maxSpare) return;
    this.spare.push(Buffer.from(whole, 0, this.capacity));
  }

  private startFrame(start: number, channel: number): void {
    this.openStart = start;
    this.openChannel = channel;
  }

  /** Writes the header of the open NEXT frame, which ends at `this.pos`. */
  private closeFrame(): void {
    this.closeFrameAt(this.pos);
  }

  private closeFrameAt(end: number): void {
    if (this.openStart < 0) return;
    writeHeader(this.buf, this.openStart, TcpKind.NEXT, this.openChannel, end - this.openStart - TCP_HEADER);
    this.openStart = -1;
  }

  /** Encodes at `offset`, growing the buffer until the value fits with room for a prefix and a header after it. */
  private encode<T>(codec: Codec<T>, value: T, offset: number): number {
    return this.encodeAt(codec, value, offset, SLACK);
  }
}

/** Makes one connection frame (channel 0) as a buffer of its own. */
export function connectionFrame(kind: TcpKind, body: Uint8Array = EMPTY): Buffer {
  const frame = Buffer.allocUnsafe(TCP_HEADER + body.length);
  writeHeader(frame, 0, kind, 0, body.length);
  frame.set(body, TCP_HEADER);
  return frame;
}

const EMPTY = new Uint8Array(0);

function writeHeader(buf: Buffer, at: number, kind: number, channel: number, bodyLength: number): void {
  writeFrameHeader(buf, at, kind, bodyLength, channel);
}
