/**
 * Cuts a byte stream (a socket's 'data' chunks) into TCP frames. Frames that
 * lie whole in a chunk are visited in place, with no copy; only a frame that
 * spans chunks is assembled, into a buffer allocated once its length has been
 * checked against the limit. Tested byte by byte without a network
 * (spec/transports/tcp/parser.spec.ts).
 */
import { FrameError } from '../../core/errors';
import { TCP_HEADER, kindFits } from './wire';

/** Called for each whole frame: its kind, the sender's channel id, and where its body lies in `buf`. */
export type TcpFrameVisitor = (kind: number, channel: number, buf: Buffer, bodyStart: number, bodyEnd: number) => void;

export class FrameParser {
  /** Bytes of a header that a chunk ended in the middle of (fewer than TCP_HEADER). */
  private readonly head = Buffer.alloc(TCP_HEADER);
  private headLength = 0;
  /** A frame being assembled across chunks, and how much of it has arrived. */
  private partial: Buffer | undefined;
  private partialFill = 0;
  private stopped = false;
  /** What followed the frame during which the parser was stopped, in that chunk. */
  private rest: Buffer | undefined;

  /**
   * @param visit called for each frame, in order
   * @param maxFrame the largest body accepted; a longer announced frame is a
   *   FrameError before any of its body is held
   */
  constructor(
    private readonly visit: TcpFrameVisitor,
    public maxFrame: number,
  ) {}

  /** Stops visiting, now and for good (the connection is done with this stream). */
  stop(): void {
    this.stopped = true;
    this.partial = undefined;
  }

  /**
   * Stops after the current frame and returns nothing; the bytes of the
   * current chunk after it are kept for `remainder()` (the handshake hands
   * them on to the connection).
   */
  detach(): void {
    this.stopped = true;
  }

  /** After `detach()` from a visitor: the bytes of that chunk after the frame being visited. */
  remainder(): Buffer | undefined {
    return this.rest;
  }

  /** Bytes held for a frame or header not yet complete. */
  get pending(): number {
    return this.headLength + this.partialFill;
  }

  /**
   * Visits every frame `chunk` completes.
   * @throws FrameError at the first frame that is malformed or too large;
   *   the frames before it have been visited, and the parser stops.
   */
  push(chunk: Buffer): void {
    if (this.stopped) return;
    let pos = 0;
    try {
      if (this.partial || this.headLength > 0) {
        pos = this.continuePending(chunk);
        if (this.stopped && pos < chunk.length) this.rest = chunk.subarray(pos);
      }
      const end = chunk.length;
      while (!this.stopped && pos < end) {
        if (end - pos < TCP_HEADER) {
          // A length alone is enough to refuse a frame that is too large or too small.
          if (end - pos >= 4) this.checkLength(chunk.readUInt32LE(pos));
          chunk.copy(this.head, 0, pos, end);
          this.headLength = end - pos;
          return;
        }
        const size = this.frameSize(chunk, pos);
        if (pos + size > end) {
          this.startPartial(chunk, pos, size);
          return;
        }
        this.emit(chunk, pos, size);
        pos += size;
        if (this.stopped && pos < end) this.rest = chunk.subarray(pos);
      }
    } catch (err) {
      this.stop();
      throw err;
    }
  }

  /** Finishes a header or frame begun in an earlier chunk; returns where this chunk's own frames begin. */
  private continuePending(chunk: Buffer): number {
    let pos = 0;
    if (this.headLength > 0) {
      const take = Math.min(TCP_HEADER - this.headLength, chunk.length);
      chunk.copy(this.head, this.headLength, 0, take);
      this.headLength += take;
      pos = take;
      if (this.headLength < TCP_HEADER) {
        if (this.headLength >= 4) this.checkLength(this.head.readUInt32LE(0));
        return pos;
      }
      const size = this.frameSize(this.head, 0);
      this.headLength = 0;
      this.partial = Buffer.allocUnsafe(size);
      this.head.copy(this.partial, 0, 0, TCP_HEADER);
      this.partialFill = TCP_HEADER;
    }
    const partial = this.partial!;
    const take = Math.min(partial.length - this.partialFill, chunk.length - pos);
    chunk.copy(partial, this.partialFill, pos, pos + take);
    this.partialFill += take;
    pos += take;
    if (this.partialFill === partial.length) {
      this.partial = undefined;
      this.partialFill = 0;
      this.emit(partial, 0, partial.length);
    }
    return pos;
  }

  private startPartial(chunk: Buffer, pos: number, size: number): void {
    this.partial = Buffer.allocUnsafe(size);
    chunk.copy(this.partial, 0, pos);
    this.partialFill = chunk.length - pos;
  }

  /** Checks the header at `pos` (whole in `buf`) and returns the frame's total size. */
  private frameSize(buf: Buffer, pos: number): number {
    const length = buf.readUInt32LE(pos);
    this.checkLength(length);
    const kind = buf[pos + 4];
    const channel = buf.readUInt32LE(pos + 5);
    if (!kindFits(kind, channel)) {
      throw new FrameError(`frame kind 0x${kind.toString(16)} is not valid on ${channel === 0 ? 'the connection (channel 0)' : `channel ${channel}`}`);
    }
    return 4 + length;
  }

  /** @throws FrameError for a length field below the header or a body over the limit */
  private checkLength(length: number): void {
    if (length < TCP_HEADER - 4) throw new FrameError(`frame length ${length} is below the minimum of ${TCP_HEADER - 4}`);
    const body = length - (TCP_HEADER - 4);
    if (body > this.maxFrame) {
      throw new FrameError(`a frame body of ${body} bytes exceeds the limit of ${this.maxFrame} bytes`);
    }
  }

  private emit(buf: Buffer, pos: number, size: number): void {
    this.visit(buf[pos + 4], buf.readUInt32LE(pos + 5), buf, pos + TCP_HEADER, pos + size);
  }
}
