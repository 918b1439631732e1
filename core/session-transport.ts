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
 * A transport whose own buffer is the window (shm: the reader's cursor frees
 * ring space) says `credit: 'room'`: the session then sends no ACK but
 * `ACK 0` (the acceptance), polices no window, and writes a value while the
 * transport takes it (`write` returns -1 when it has no room). Such a
 * transport reads only while `reading(true)` (its buffer holds the rest) and
 * reports its own bytes in flight.
 *
 * docs/ARCHITECTURE.md shows a toy transport of thirty lines.
 */
import type { Guard } from './bounded';
import type { Codec } from './codec';
import type { FrameKind } from './frame';

export interface SessionTransport {
  /**
   * Appends one frame of `kind` whose body is `value` under `body` (no body:
   * empty). For NEXT, returns the bytes the value costs in credit (the
   * transport's unit: a whole frame, an item); for others, anything. With
   * `credit: 'room'`, a NEXT that finds no room returns -1 having written
   * nothing visible, and the transport calls `session.wake()` once there is room.
   * @throws EncodeError when the value does not fit the schema (nothing written)
   * @throws FrameError when the value is larger than the peer accepts (nothing written)
   */
  write<V>(kind: FrameKind, body?: Codec<V>, value?: V): number;
  /** What was written must go out now (an ending, a refusal), not at the end of the batch. */
  flush(): void;
  /**
   * Decodes the values of one NEXT body (`buf[start, end)`) with `reader`
   * into `into`, each first checked by `guard` (core/bounded.ts: the item
   * counts and lengths a hostile writer claims, before avsc trusts them);
   * returns the bytes of credit they cost.
   * @throws DecodeError when the bytes are not values of the writer's schema
   */
  decodeNext<T>(reader: Codec<T>, guard: Guard | undefined, buf: Buffer, start: number, end: number, into: T[]): number;
  /** The longest encoded value the peer accepts, in bytes (checked before a value is held). */
  readonly maxValueBytes: number;
  /** Optional: the error for a value of `bytes` over `maxValueBytes` (default: a FrameError naming both). */
  tooLarge?(bytes: number): Error;
  /**
   * Optional: what returns a writer's credit. `'ack'` (the default): the
   * reader's ACK frames (docs/PROTOCOL.md, "Flow control"). `'room'`: the
   * transport's own buffer, which the reader frees as it reads (shm's ring):
   * the reader sends `ACK 0` only, the writer counts no credit and writes
   * while `write` takes values, and `inFlightBytes()` reports what is unread.
   */
  readonly credit?: 'ack' | 'room';
  /**
   * Optional: the session wants the peer's data frames now (true: a
   * subscriber reads) or not (false: paused, or the stream is over). A
   * transport that never calls it back pushes everything and the session
   * holds data while paused; one whose buffer can hold the data itself (shm)
   * reads only while true, except the peer's HELLO, which it always passes on.
   */
  reading?(on: boolean): void;
  /**
   * Optional: passes the reader's answer to this end's HELLO to the session
   * now (`ACK 0`, STOP, REJECT) if it is there to be seen without waiting
   * (shm: the reader's state word), instead of at the transport's next
   * step. The session asks before it holds a value: one taken after the
   * reader accepted is then written at once, not held in this thread, where
   * it would die with a thread that ends before that step.
   */
  answerNow?(): void;
  /** Optional, with `credit: 'room'`: bytes written that the reader has not consumed. */
  inFlightBytes?(): number;
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
