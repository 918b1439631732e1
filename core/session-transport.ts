/**
 * What a transport gives the session (core/session.ts). The session is the
 * per-direction protocol of docs/PROTOCOL.md written once: HELLO and schema
 * resolution, credit and ACK, REJECT, STOP, endings, errors as data, held
 * frames while paused, the peer gone, stats. A transport only moves frames:
 *
 * - outgoing, the session calls `write` for each frame (the transport frames
 *   and batches it its own way) and `flush` when a frame must go out now;
 * - incoming, the transport parses its bytes and feeds each frame to
 *   `session.receive(kind, buf, start, end, credit)`, then calls
 *   `session.deliver()` at the end of what it read in one go; a malformed
 *   frame it reports with `session.protocolError(err)` (or ends its
 *   connection); a vanished peer with `session.peerGone(err)`;
 * - the session calls `close()` once, when both directions are over.
 *
 * docs/ARCHITECTURE.md shows a toy transport of thirty lines.
 */
import type { Codec } from './codec';
import type { FrameKind } from './frame';

export interface SessionTransport {
  /**
   * Appends one frame of `kind` whose body is `value` under `body` (no body:
   * empty). For NEXT, returns the bytes the value costs in credit (the
   * transport's unit: a whole frame, an item); for others, anything.
   * @throws EncodeError when the value does not fit the schema (nothing written)
   * @throws FrameError when the value is larger than the peer accepts (nothing written)
   */
  write<V>(kind: FrameKind, body?: Codec<V>, value?: V): number;
  /** What was written must go out now (an ending, a refusal), not at the end of the batch. */
  flush(): void;
  /**
   * Decodes the values of one NEXT body (`buf[start, end)`) with `reader`
   * into `into`; returns the bytes of credit they cost.
   * @throws DecodeError when the bytes are not values of the writer's schema
   */
  decodeNext<T>(reader: Codec<T>, buf: Buffer, start: number, end: number, into: T[]): number;
  /** The longest encoded value the peer accepts, in bytes (checked before a value is held). */
  readonly maxValueBytes: number;
  /**
   * Optional: whether the transport's own buffers (a socket's) can take more
   * now. When it says false, the transport calls `session.wake()` once they
   * drain.
   */
  roomToWrite?(): boolean;
  /** Someone waits on this end (true) or nobody does (false): keep the event loop alive or not. */
  keepAlive(waiting: boolean): void;
  /** Both directions are over (or the peer is gone): release the link. Called once. */
  close(): void;
}

/** How a session paces and polices its link. */
export interface SessionOptions {
  /** This end's window, in credit bytes (the transport's `windowBytes` or `window` option). */
  window: number;
  /**
   * Whose window a HELLO announces. `'send'` (port): the writer announces
   * the window it keeps to; the reader paces ACKs and polices by it.
   * `'receive'` (tcp): each end announces what it will take; the writer keeps
   * to the reader's window.
   */
  announces: 'send' | 'receive';
  /** The largest NEXT body this end accepts (a larger one is a FrameError from the transport). */
  maxFrame: number;
  /** Bytes of credit a NEXT frame costs beyond its body (port: its 5-byte header; tcp: 0). */
  nextOverhead: number;
  /**
   * Send nothing but HELLO before the peer's HELLO (tcp: the peer holds only
   * the HELLO of a channel it has not opened). Else an ending with no value
   * before it, or a STOP, goes out at once. Default false.
   */
  quietUntilHello?: boolean;
}
