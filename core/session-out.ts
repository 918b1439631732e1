/**
 * The writing half of a session: credit, acceptance, the held values and the
 * ending. Rules (docs/PROTOCOL.md, "Flow control" and "HELLO"):
 *
 * - A writer sends no value before the reader has accepted its schema (the
 *   reader's first ACK, `ACK 0`, answers an accepted HELLO). Until then it
 *   takes up to one window of values (its own `window` option, in bytes, on
 *   every transport) and holds them, encoded, here; a REJECT discards them
 *   unsent and fails the writer. `sink.accepted()` tells WireSubject when
 *   they are accepted, so a `send` resolves only then (or rejects).
 * - Then it keeps `sent − acked < window`; an ACK outside
 *   `[acked, sent]` is a FrameError. Where the transport's room is the
 *   credit (`credit: 'room'`, shm) it writes while the transport takes
 *   values instead, and a held value counts its transport overhead too.
 * - After acceptance a new value never joins values still held: it waits
 *   for room until they are all out.
 * - COMPLETE or ERROR goes out after every value taken before it.
 */
import type { ChannelSink } from './channel';
import type { Ending } from './ending';
import { raw, type Codec } from './codec';
import { FrameError, TransportClosedError, toErrorData } from './errors';
import { errorWithin } from './error-fit';
import { ErrorRecord, FrameKind } from './frame';
import { HeldValues } from './held';
import type { SessionTransport } from './session-transport';

export type { Ending } from './ending';

export class Outgoing<T> {
  sent = 0;
  sentBytes = 0;
  ackedBytes = 0;
  /** No more values are taken (ended, stopped, refused, gone). */
  done = false;
  /** The window this end keeps to; undefined until known (the reader's HELLO, where the reader announces it). */
  private window: number | undefined;
  /** The reader accepted the schema (its first ACK came). */
  private accepted = false;
  private blocked = false;
  private readonly held = new HeldValues();
  private heldBytes = 0;
  /** `pump` is running (a nested call returns at once). */
  private pumping = false;
  /** complete/error asked for and not yet written (it waits for acceptance and the held values). */
  private ending: Ending | undefined;
  /** No frame may be written any more (the peer is gone). */
  private cut = false;
  constructor(
    private readonly transport: SessionTransport,
    private readonly codec: Codec<T>,
    private readonly sink: ChannelSink<T>,
    ownWindow: number | undefined,
    /** Bytes of values taken before acceptance, at most: this end's own window option. */
    private readonly holdLimit: number,
    private readonly quiet = false,
    /**
     * Bytes a held value counts beyond its own: 0, or, where the transport's
     * room is the credit, its per-value overhead (shm: the record header), so
     * what is held fits about one window of that room.
     */
    private readonly holdOverhead = 0,
  ) {
    // A transport whose room is the credit (shm) is never short of credit: `write` says when it is full.
    this.window = transport.credit === 'room' ? Number.POSITIVE_INFINITY : ownWindow;
  }

  /** Values taken before acceptance and not sent yet. */
  get heldValues(): number {
    return this.held.length;
  }

  /** Held values dropped unsent at `close` (stats: `dropped`). */
  droppedHeld = 0;

  /** Everything this direction owes is written (or will never be). */
  get finished(): boolean {
    return this.done && this.ending === undefined;
  }

  /** A writer waits for room, or values or the ending wait to go out (for acceptance, for credit). */
  get waiting(): boolean {
    return (this.blocked && !this.done) || this.held.length > 0 || this.ending !== undefined;
  }

  /** The reader's HELLO announced its receive window (where the reader announces it). */
  readerWindow(window: number): void {
    if (this.transport.credit !== 'room') this.window = window;
  }

  offer(value: T): boolean {
    if (this.done) throw new TransportClosedError('the outgoing stream is closed');
    if (!this.accepted) {
      this.transport.answerNow?.(); // may accept now (and write what was held), or end this direction
      if (this.done) throw new TransportClosedError('the outgoing stream is closed');
      if (!this.accepted) return this.hold(value);
    }
    // After acceptance, values still held from before go first: a new one waits for room like any other
    // (holding it too would keep every later value on the slow, copying path while any are left).
    if (this.held.length > 0 || !this.hasCredit() || !this.transportRoom()) {
      this.blocked = true;
      return false;
    }
    const cost = this.transport.write(FrameKind.NEXT, this.codec, value);
    if (cost < 0) {
      // The transport's room is the credit, and it is full: it wakes us when there is room.
      this.blocked = true;
      return false;
    }
    this.sentBytes += cost;
    this.sent++;
    return true;
  }

  end(ending: Ending): void {
    if (this.done) return;
    this.done = true;
    this.ending = ending;
    this.pump();
  }

  /** ACK: the reader consumed `acked` bytes in all; the first one accepts the schema. */
  ack(acked: number): void {
    if (acked < this.ackedBytes || acked > this.sentBytes) {
      throw new FrameError(`ACK of ${acked} bytes is outside [${this.ackedBytes}, ${this.sentBytes}]`);
    }
    this.ackedBytes = acked;
    const first = !this.accepted;
    this.accepted = true;
    this.pump();
    if (first) this.sink.accepted();
    this.wake();
  }

  /** The transport has room again, or credit came back: wake a blocked writer. */
  wake(): void {
    this.pump();
    if (!this.blocked || this.done) return;
    const room = this.accepted ? this.held.length === 0 && this.hasCredit() && this.transportRoom() : this.heldBytes < this.holdLimit;
    if (!room) return;
    this.blocked = false;
    this.sink.writable();
  }

  /**
   * The reader stopped (`stopped`), refused the schema, or is gone: nothing
   * more is written; held values are dropped unsent.
   */
  close(err: Error, stopped: boolean, cut = false, reported = cut): void {
    this.cut ||= cut;
    if (this.done && this.ending === undefined) return;
    this.done = true;
    this.ending = undefined;
    this.droppedHeld += this.held.length;
    this.held.drain();
    this.heldBytes = 0;
    this.blocked = false;
    this.sink.writeClosed(err, stopped, reported);
  }

  private hold(value: T): boolean {
    if (this.heldBytes >= this.holdLimit) {
      this.blocked = true;
      return false;
    }
    const { maxValueBytes } = this.transport;
    const size = this.held.push(this.codec, value, maxValueBytes);
    if (size < 0) {
      throw this.transport.tooLarge?.(-size) ?? new FrameError(`a value of ${-size} bytes exceeds the largest frame the peer accepts (${maxValueBytes})`);
    }
    this.heldBytes += this.holdCost(size);
    return true;
  }

  /** What a held value of `size` bytes counts against the bound: at least 1, so values of zero bytes are bounded too. */
  private holdCost(size: number): number {
    return Math.max(size + this.holdOverhead, 1);
  }

  /**
   * Writes what waited for acceptance and credit, then the ending once
   * nothing waits before it. A write may flush, and a `stats$` subscriber
   * may then end or close this end: a nested call returns at once and the
   * running one goes on with what changed (before, it wrote the held head a
   * second time).
   */
  private pump(): void {
    if (this.cut || this.pumping) return;
    this.pumping = true;
    try {
      this.pumpNow();
    } finally {
      this.pumping = false;
    }
  }

  private pumpNow(): void {
    if (!this.accepted) {
      // An ending with no value before it needs no acceptance (unless the transport must stay quiet).
      if (this.ending && this.held.length === 0 && !this.quiet) this.writeEnding();
      return;
    }
    while (this.held.length > 0 && this.hasCredit() && this.transportRoom()) {
      const bytes = this.held.peek();
      const cost = this.transport.write(FrameKind.NEXT, raw, bytes);
      if (cost < 0) return; // no room (credit 'room'): the transport wakes us
      this.sentBytes += cost;
      this.sent++;
      if (this.held.length === 0) continue; // dropped during the write (`close`): nothing left to shift
      this.held.shift();
      this.heldBytes -= this.holdCost(bytes.length);
    }
    if (this.ending && this.held.length === 0) this.writeEnding();
  }

  private writeEnding(): void {
    const ending = this.ending!;
    this.ending = undefined;
    if (ending.kind === 'complete') this.transport.write(FrameKind.COMPLETE);
    else this.transport.write(FrameKind.ERROR, ErrorRecord, errorWithin(toErrorData(ending.error), this.transport.maxValueBytes));
    this.transport.flush();
  }

  private hasCredit(): boolean {
    return this.sentBytes - this.ackedBytes < (this.window ?? 0);
  }

  private transportRoom(): boolean {
    return this.transport.roomToWrite ? this.transport.roomToWrite() : true;
  }
}
