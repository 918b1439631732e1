/**
 * The one frame parser. Every rxwire frame begins with a u32 LE length (the
 * bytes after that field) and a u8 kind; a transport may add fields of its
 * own before the body (TCP: a u32 LE channel id). A `FrameLayout` says how
 * long that header is and what the kind (and the rest of it) may be; the
 * rest is here, once:
 *
 * - `scan(buf, start, end)` visits the whole frames of a range and returns
 *   where the first frame that is not whole yet begins;
 * - `readBatch(buf)` reads a buffer of whole frames (the port's batches): a
 *   frame cut short is a FrameError;
 * - `push(chunk)` reads a byte stream (TCP's socket chunks): frames whole in
 *   a chunk are visited in place, with no copy; a frame split across chunks
 *   is assembled into a buffer allocated once its length has been checked.
 *   The reader never writes a buffer it has visited: a frame lies either in
 *   the caller's chunk or in a buffer of its own, allocated for it and never
 *   reused (TCP hands large raw values out as views of them).
 *
 * Each frame is checked as soon as its bytes allow, in this order: the
 * length as soon as its 4 bytes are there (below the header, or a body over
 * `maxBody`: so a huge length is refused before any of its body is held),
 * then the header (`layout.checkHeader`, the kind) once it is whole, then
 * the frame is visited once it is whole. At the first bad frame the reader
 * throws a FrameError, the frames before it having been visited (a stream
 * reader then stops for good). spec/core/frame-reader.spec.ts feeds it every split of a byte
 * string, byte by byte, without a network.
 */
import { Buffer } from 'node:buffer';
import { FrameError } from './errors';

/** How one transport's frames begin. */
export interface FrameLayout {
  /** Bytes before the body, the 4 of the length field included (5: length and kind; TCP's 9 add a channel id). */
  readonly header: number;
  /**
   * Checks the fields after the length of the header at `at` (whole in `buf`): the kind, and any field of the transport's own.
   * @throws FrameError when the frame cannot be valid
   */
  checkHeader(buf: Buffer, at: number): void;
}

/** Called for each whole frame, in order: it lies in `buf[start, end)`, header included (the body begins at `start + layout.header`). */
export type WholeFrameVisitor = (buf: Buffer, start: number, end: number) => void;

export class FrameReader {
  /** Bytes of a header that a chunk ended in the middle of (fewer than `layout.header`). */
  private readonly head: Buffer;
  private headLength = 0;
  /** A frame being assembled across chunks, and how much of it has arrived. */
  private partial: Buffer | undefined;
  private partialFill = 0;
  private stopped = false;
  /** What followed the frame during which the reader was detached, in that chunk. */
  private rest: Buffer | undefined;

  /**
   * @param layout the transport's header
   * @param visit called for each whole frame, in order
   * @param maxBody the largest body accepted (the bytes after the header)
   */
  constructor(
    private readonly layout: FrameLayout,
    private readonly visit: WholeFrameVisitor,
    readonly maxBody: number,
  ) {
    this.head = Buffer.alloc(layout.header);
  }

  /** Bytes held of a frame (or header) that is not whole yet: 0 between frames. */
  get pending(): number {
    return this.headLength + this.partialFill;
  }

  /** Stops visiting, now and for good. */
  stop(): void {
    this.stopped = true;
    this.partial = undefined;
    this.partialFill = 0;
    this.headLength = 0;
  }

  /**
   * Called from a visitor: stops after the frame being visited; the bytes of
   * the current chunk after it are kept for `remainder()` (TCP's handshake
   * hands them on to the connection).
   */
  detach(): void {
    this.stopped = true;
  }

  /** After `detach()`: the bytes of the chunk being read that followed the frame visited last. */
  remainder(): Buffer | undefined {
    return this.rest;
  }

  /**
   * Visits the whole frames of `buf[start, end)`, in place, and returns where
   * the bytes it did not visit begin: the first frame not whole yet, or the
   * frame after the one during which the reader was detached (`end` when
   * every byte was visited).
   * @throws FrameError at the first frame that cannot be valid, as soon as
   *   its bytes show it (the frames before it have been visited)
   */
  scan(buf: Buffer, start: number, end: number): number {
    const { header } = this.layout;
    const least = header - 4;
    const most = least + this.maxBody;
    let pos = start;
    while (!this.stopped && pos < end) {
      const left = end - pos;
      if (left < 4) return pos;
      // The u32 LE length, read inline: this loop runs once per frame.
      const length = (buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16)) + buf[pos + 3] * 0x1000000;
      if (length < least || length > most) this.frameSize(length);
      if (left < header) return pos;
      this.layout.checkHeader(buf, pos);
      const size = 4 + length;
      if (left < size) return pos;
      this.visit(buf, pos, pos + size);
      pos += size;
    }
    return pos;
  }

  /**
   * Reads a buffer that holds whole frames only (a port batch).
   * @throws FrameError at the first bad frame, or when the last one is cut short; the frames before it have been visited
   */
  readBatch(buf: Buffer): void {
    const end = buf.length;
    const pos = this.scan(buf, 0, end);
    if (pos === end || this.stopped) return;
    const left = end - pos;
    if (left < this.layout.header) throw new FrameError(`truncated frame header: ${left} bytes left at offset ${pos}`);
    throw new FrameError(`frame at offset ${pos} declares ${buf.readUInt32LE(pos)} bytes but only ${left - 4} follow`);
  }

  /**
   * Reads the next chunk of a byte stream: visits every frame it completes,
   * and holds what it begins.
   * @throws FrameError at the first bad frame (the frames before it have been visited); the reader stops
   */
  push(chunk: Buffer): void {
    if (this.stopped) return;
    try {
      const end = chunk.length;
      let pos = this.pending > 0 ? this.continuePending(chunk) : 0;
      pos = this.scan(chunk, pos, end);
      if (pos === end) return;
      if (this.stopped) this.rest = chunk.subarray(pos);
      else this.hold(chunk, pos, end);
    } catch (err) {
      this.stop();
      throw err;
    }
  }

  /** Finishes the header or frame begun in earlier chunks; returns where this chunk's own frames begin. */
  private continuePending(chunk: Buffer): number {
    const { header } = this.layout;
    let pos = 0;
    if (this.headLength > 0) {
      const take = Math.min(header - this.headLength, chunk.length);
      chunk.copy(this.head, this.headLength, 0, take);
      this.headLength += take;
      pos = take;
      if (this.headLength >= 4) this.frameSize(this.head.readUInt32LE(0));
      if (this.headLength < header) return pos;
      this.layout.checkHeader(this.head, 0);
      this.partial = Buffer.allocUnsafe(this.frameSize(this.head.readUInt32LE(0)));
      this.head.copy(this.partial, 0, 0, header);
      this.partialFill = header;
      this.headLength = 0;
    }
    const partial = this.partial!;
    const take = Math.min(partial.length - this.partialFill, chunk.length - pos);
    chunk.copy(partial, this.partialFill, pos, pos + take);
    this.partialFill += take;
    pos += take;
    if (this.partialFill === partial.length) {
      this.partial = undefined;
      this.partialFill = 0;
      this.visit(partial, 0, partial.length);
    }
    return pos;
  }

  /** Holds the start of a frame that `chunk` ends in the middle of (its length and header already checked, as far as they go). */
  private hold(chunk: Buffer, pos: number, end: number): void {
    if (end - pos < this.layout.header) {
      chunk.copy(this.head, 0, pos, end);
      this.headLength = end - pos;
      return;
    }
    this.partial = Buffer.allocUnsafe(this.frameSize(chunk.readUInt32LE(pos)));
    chunk.copy(this.partial, 0, pos, end);
    this.partialFill = end - pos;
  }

  /**
   * The whole size of a frame (4 + length) from its length field.
   * @throws FrameError for a length below the header or a body over `maxBody`
   */
  private frameSize(length: number): number {
    const least = this.layout.header - 4;
    if (length < least) throw new FrameError(`frame length ${length} is below the minimum of ${least}`);
    if (length - least > this.maxBody) {
      throw new FrameError(`a frame body of ${length - least} bytes exceeds the limit of ${this.maxBody} bytes`);
    }
    return 4 + length;
  }
}
