/**
 * The write side of a TCP connection: channel frames gathered in `out`
 * (output.ts), handed to the socket in corked groups, bounded by the socket's
 * drain, and recorded for replay (session.ts) when the session is resumable.
 *
 * Contract. Channels write frames into `out` and call `wrote()`; when the
 * bytes go is core/batcher.ts's rule (the one every transport follows): at
 * the end of the turn, or at once when FLUSH_BYTES wait. What this writer
 * adds is the shape of a send: `out` is cut into batches of about 64 KiB as
 * it fills (their buffers are reused once the socket has written them), and
 * the waiting batches go to the socket together, corked, in one writev.
 * Channels ask `roomToWrite()` before writing and, when there is none, wait
 * (`waitForRoom`) until the socket drains or the peer acknowledges replayed
 * bytes. While no socket is attached (a resumable session waiting for its
 * client), frames are still recorded for replay and go out on `attach`.
 * Connection frames (CACK, PING, PONG, CLOSE) bypass `out`: they are not
 * session bytes (`control`).
 */
import type { Socket } from 'node:net';
import { Batcher } from '../../core/batcher';
import { Fifo } from '../../core/fifo';
import type { TcpChannel } from './channel';
import { BATCH_BYTES, FrameOut } from './output';
import { ReplayBuffer } from './session';
import type { Settings } from './options';

/** A receiver of a resumable session acknowledges (CACK) at least every this many session bytes. */
export const CACK_BYTES = 256 * 1024;
/** The least replay bound: well above CACK_BYTES, so acknowledgements always come before a writer stalls. */
const MIN_REPLAY_BYTES = 4 * CACK_BYTES;
/**
 * Batches are handed to the socket together, in one writev, once this many
 * bytes wait (or at the end of the turn): on loopback a write costs the
 * receiver's side of the stack too, and one write per 64 KiB batch took
 * twice the time per byte of one per group.
 */
const FLUSH_BYTES = 256 * 1024;
/** The most written buffers kept for reuse, whatever the highWaterMark (8 MiB of 128 KiB buffers). */
const MAX_SPARE = 64;

export class ConnectionWriter {
  /**
   * Where channels encode their frames. Its spare buffers cover what may be
   * in flight (the highWaterMark, a flush, and the one being filled; at most
   * MAX_SPARE): with 16 at most, a stream of 64 KiB values (one buffer
   * each) outran them and allocated fresh 128 KiB buffers, whose external
   * memory made the sender collect garbage (GC 20 % of its samples).
   */
  readonly out: FrameOut;
  private readonly replay: ReplayBuffer;
  private readonly replayLimit: number;
  private readonly highWaterMark: number;
  /** The socket frames go to; undefined while dropped and once stopped. */
  private socket: Socket | undefined;
  private stopped = false;
  private readonly batcher = new Batcher((atTurnEnd) => this.send(atTurnEnd), FLUSH_BYTES);
  /** Full batches taken from `out` and not yet handed to the socket (see FLUSH_BYTES). */
  private unsent: Buffer[] = [];
  private unsentBytes = 0;
  private readonly waiting = new Set<TcpChannel<unknown>>();
  /** Chunks handed to the socket and not yet given back to `out` (not resumable), oldest first, and their bytes. */
  private readonly inSocket = new Fifo<Buffer>();
  private inSocketBytes = 0;

  constructor(
    settings: Settings,
    private readonly resumable: boolean,
  ) {
    this.out = new FrameOut(undefined, Math.min(MAX_SPARE, Math.ceil((settings.highWaterMark + FLUSH_BYTES) / BATCH_BYTES) + 2));
    this.replay = new ReplayBuffer(resumable);
    this.highWaterMark = settings.highWaterMark;
    this.replayLimit = Math.max(4 * settings.highWaterMark, MIN_REPLAY_BYTES);
  }

  /** Encoded bytes not yet handed to the socket, and the socket's own write buffer. */
  get bufferedBytes(): number {
    return this.out.size + this.unsentBytes + (this.socket ? this.socket.writableLength : 0);
  }

  /** Session bytes sent and not acknowledged (resumable sessions; else 0). */
  get unackedBytes(): number {
    return this.resumable ? this.replay.unacked : 0;
  }

  /** Session bytes taken for sending in all, written or not. */
  get sentBytes(): number {
    return this.replay.sent + this.unsentBytes + this.out.size;
  }

  /**
   * Writes to `socket` from now on: first what the peer had not received of
   * a resumed session (from `peerReceived` on), then what waits.
   * @throws FrameError when `peerReceived` is outside what was sent and not acknowledged
   */
  attach(socket: Socket, peerReceived: number): void {
    // Record what waits before replaying, so it goes out once, after what came before it.
    const pending = this.take();
    const replayed = this.replay.replayFrom(peerReceived);
    this.socket = socket;
    this.write(this.resumable ? replayed : pending);
    this.notifyRoom();
  }

  /** The socket is gone: frames are recorded for a replay (resumable) until the next `attach`. */
  detach(): void {
    this.socket = undefined;
    this.forgetInSocket();
  }

  /** The connection is over: what waits goes to the socket (if any), and nothing more is written. */
  stop(): void {
    this.flush();
    this.stopped = true;
    this.socket = undefined;
    this.forgetInSocket();
    this.waiting.clear();
  }

  /** Writes a connection frame (channel 0) to the socket now, if one is attached. */
  control(frame: Buffer): void {
    this.socket?.write(frame);
  }

  /** The peer has received `received` session bytes in all (CACK). @throws FrameError when out of range */
  ack(received: number): void {
    this.replay.ack(received);
    this.notifyRoom();
  }

  roomToWrite(): boolean {
    if (this.stopped) return true; // the channel's own state refuses
    if (this.bufferedBytes >= this.highWaterMark) return false;
    if (this.resumable && this.replay.unacked + this.out.size >= this.replayLimit) return false;
    return true;
  }

  waitForRoom(channel: TcpChannel<unknown>): void {
    this.waiting.add(channel);
  }

  /** A channel wrote to `out`: a full batch is set aside for the next send, which the batcher times. */
  wrote(): void {
    if (this.stopped) return;
    if (this.out.size >= BATCH_BYTES) {
      const chunk = this.out.take();
      this.unsent.push(chunk);
      this.unsentBytes += chunk.length;
    }
    this.batcher.wrote(this.unsentBytes + this.out.size);
  }

  /** Wakes the channels that found no room, if there is room now. */
  notifyRoom(): void {
    this.reclaim();
    if (this.waiting.size === 0 || !this.roomToWrite()) return;
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const channel of waiting) channel.roomAvailable();
  }

  /** Hands the waiting batches and what `out` holds to the socket now, in one writev (recording them for replay). */
  flush(): void {
    this.batcher.flush();
  }

  private send(atTurnEnd: boolean): void {
    if (this.stopped) return;
    this.write(this.take());
    // The bytes just handed over may have left room without a 'drain' (the kernel took them all).
    if (atTurnEnd) this.notifyRoom();
  }

  /** Takes what waits (full batches and `out`), recorded as sent. */
  private take(): Buffer[] {
    const chunks = this.unsent;
    if (this.out.size > 0) chunks.push(this.out.take());
    if (chunks.length === 0) return chunks;
    this.unsent = [];
    this.unsentBytes = 0;
    for (const chunk of chunks) this.replay.record(chunk);
    return chunks;
  }

  private write(chunks: Buffer[]): void {
    const socket = this.socket;
    if (!socket || chunks.length === 0) return;
    socket.cork();
    for (const chunk of chunks) socket.write(chunk);
    socket.uncork();
    // Once written, a chunk's buffer is reused, unless the replay buffer keeps it.
    if (this.resumable) return;
    for (const chunk of chunks) {
      this.inSocket.push(chunk);
      this.inSocketBytes += chunk.length;
    }
    this.reclaim();
  }

  /**
   * Gives `out` back the chunks the socket has written. Chunks complete in
   * order, so the bytes it still holds (`writableLength`, connection frames
   * written after a chunk included) are the last ones handed to it: a chunk
   * followed by at least that many bytes of later chunks is written. Asked
   * after each write (the kernel usually takes a writev whole, at once) and
   * on 'drain', not in write callbacks, which Node runs only once the
   * writing loop yields: a burst of a whole window (64 values of 64 KiB)
   * then needed a fresh buffer per value.
   */
  private reclaim(): void {
    const socket = this.socket;
    if (!socket) return;
    const pending = socket.writableLength;
    for (let head = this.inSocket.peek(); head && this.inSocketBytes - head.length >= pending; head = this.inSocket.peek()) {
      this.inSocket.shift();
      this.inSocketBytes -= head.length;
      this.out.recycle(head);
    }
  }

  /** The socket is gone: what it held is not known to be written, so none of it is reused. */
  private forgetInSocket(): void {
    this.inSocket.drain();
    this.inSocketBytes = 0;
  }
}
