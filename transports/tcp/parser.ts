/**
 * Cuts a byte stream (a socket's 'data' chunks) into TCP frames: the one
 * frame parser (core/frame-reader.ts) with TCP's header, which adds the
 * sender's channel id (`TCP_LAYOUT`, wire.ts). Frames that lie whole in a
 * chunk are visited in place, with no copy; only a frame that spans chunks
 * is assembled, into a buffer allocated once its length has been checked.
 * Tested byte by byte without a network (spec/core/frame-reader.spec.ts,
 * spec/transports/tcp/parser.spec.ts).
 */
import { FrameReader } from '../../core/frame-reader';
import { TCP_HEADER, TCP_LAYOUT } from './wire';

/** Called for each whole frame: its kind, the sender's channel id, and where its body lies in `buf`. */
export type TcpFrameVisitor = (kind: number, channel: number, buf: Buffer, bodyStart: number, bodyEnd: number) => void;

export class FrameParser extends FrameReader {
  /**
   * @param visit called for each frame, in order
   * @param maxFrame the largest body accepted; a longer announced frame is a
   *   FrameError before any of its body is held
   */
  constructor(visit: TcpFrameVisitor, maxFrame: number) {
    super(TCP_LAYOUT, (buf, start, end) => visit(buf[start + 4], buf.readUInt32LE(start + 5), buf, start + TCP_HEADER, end), maxFrame);
  }
}
