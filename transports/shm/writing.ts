/**
 * The writing half of the shm transport (./channel.ts): the frames the
 * session writes on this end's outgoing direction become records in the tx
 * ring (HELLO, NEXT, COMPLETE, ERROR), and the reader's answers, which sit in
 * that ring's header (its state word: ACCEPTED, STOPPED, REJECTED with a
 * RejectRecord in the reason area), go back to the session as the frames
 * they stand for (ACK 0, STOP, REJECT). docs/PROTOCOL.md, "Shared memory",
 * gives the bytes.
 *
 * The ring's room is the credit (`credit: 'room'`): a value that does not fit
 * now is refused (`next` returns -1, nothing written) and the session is
 * woken once the reader has released enough. Records are published in
 * batches (core/batcher.ts). An ending is written however full the ring is:
 * it waits here for room, and the link is released only after it.
 */
import { Buffer } from 'node:buffer';
import { Batcher } from '../../core/batcher';
import type { Codec } from '../../core/codec';
import { FrameError, type ErrorData } from '../../core/errors';
import { AckRecord, ErrorRecord, FrameKind, HelloRecord, type Hello } from '../../core/frame';
import type { Session } from '../../core/session';
import { RecordKind, ReaderState, readReason, type RingMemory } from './layout';
import { RingWriter } from './ring';
import { Pump, type PumpOptions, type Step } from './wait';

/** Unpublished bytes after which a write publishes at once instead of at the end of the turn. */
const PUBLISH_EVERY = 16 * 1024;

/** The bodies of the frames the reader's state word stands for. */
const ACK_ZERO = AckRecord.encode(0);
const EMPTY = Buffer.alloc(0);

/** Room for what waits: now (the pump's check), or as far as the reader's notify is owed (the watchdog's). */
const HAS_ROOM = (writer: RingWriter): boolean => writer.hasRoom();
const WAKE_OWED = (writer: RingWriter): boolean => writer.wakeOwed();

/** What the writing half needs from its transport. */
export interface WritingHost {
  /** The session this end runs (set before anything is written). */
  readonly session: Session<unknown>;
  /** Records went out (for `stats$`). */
  flushed(): void;
  /** Whether an ending is owed changed: the transport may release the link, or its hold on the event loop. */
  changed(): void;
  /**
   * Reads the peer's HELLO now if it is published and unread: the peer wrote
   * it before any answer, so the session must see it first (as frames in
   * order on other transports), e.g. a REJECT of it before a STOP.
   */
  helloFirst(): void;
}

export class ShmWriting {
  private readonly writer: RingWriter;
  private readonly pump: Pump;
  private readonly batcher = new Batcher(() => this.publish(), PUBLISH_EVERY);
  private unpublished = 0;
  /** The reader's state word as last passed on to the session. */
  private answered: number = ReaderState.READING;
  /** A value found no room (or the reader left): the session waits for `wake` or the answer. */
  private blocked = false;
  /** COMPLETE or ERROR waiting for room. */
  private owed: { kind: RecordKind; error?: ErrorData } | undefined;
  /** Nothing more goes out (the link is released, or the reader is gone). */
  private over = false;

  constructor(
    private readonly memory: RingMemory,
    private readonly host: WritingHost,
    pumpOptions: PumpOptions,
  ) {
    this.writer = new RingWriter(memory);
    this.pump = new Pump(
      memory.header,
      pumpOptions,
      () => this.step(),
      () => this.waitsFor(HAS_ROOM),
      () => this.writer.spaceCell(),
      undefined,
      () => this.waitsFor(WAKE_OWED), // for the watchdog: room as the reader's notify counts it
    );
  }

  /** A step would progress: the reader's state changed, or an ending or a blocked write has room (`room` says). */
  private waitsFor(room: (writer: RingWriter) => boolean): boolean {
    return this.writer.readerState() !== this.answered || ((this.blocked || this.owed !== undefined) && room(this.writer));
  }

  /** An ending waits for room: the link stays open (and the thread alive) until it is written. */
  get owes(): boolean {
    return this.owed !== undefined;
  }

  /** Bytes published or written and not yet released by the reader. */
  inFlight(): number {
    return this.writer.used();
  }

  /** Writes this end's HELLO, the ring's first record, and starts watching for the reader's answer. */
  hello(hello: Hello): void {
    if (!this.writer.tryWrite(RecordKind.HELLO, HelloRecord, hello)) {
      throw new FrameError(`the schema (${hello.schema.length} bytes) does not fit a ring of ${this.memory.capacity} bytes`);
    }
    this.publish();
    this.pump.start();
  }

  /**
   * One value, encoded straight into the ring; returns its bytes there
   * (padding included), or -1 with nothing written when the ring is full or
   * the reader no longer takes values (the pump then tells the session).
   */
  next<V>(codec: Codec<V>, value: V): number {
    // One atomic load a value: a reader that stopped is noticed at the next value, not a ring later.
    if (this.writer.readerState() !== ReaderState.ACCEPTED) return this.refuse();
    const before = this.writer.position;
    if (!this.writer.tryWrite(RecordKind.NEXT, codec, value)) return this.refuse();
    const bytes = (this.writer.position - before) | 0;
    this.unpublished += bytes;
    // Published at the end of this turn (not a microtask: a loop of `await send()` would then publish
    // every single record), at once past PUBLISH_EVERY, and after each drain of this end's reader.
    this.batcher.wrote(this.unpublished);
    return bytes;
  }

  /** COMPLETE or ERROR (its ErrorRecord): now, or as soon as there is room. */
  end(kind: RecordKind, error?: ErrorData): void {
    if (this.over) return;
    this.owed = { kind, error };
    this.writeOwed();
    if (!this.owed) return;
    this.start();
    this.host.changed();
  }

  /**
   * Publishes what is written (one store, one notify at most); false if nothing was waiting. The batcher's
   * end-of-turn send stays scheduled and finds nothing: the next write of the turn needs no new one (a pump's
   * hop publishes after every delivery, and a `setImmediate` and its cancel per record was ~0.2 KB of garbage).
   */
  publish(): boolean {
    this.unpublished = 0;
    if (!this.writer.pending) return false;
    this.writer.publish();
    this.host.flushed();
    return true;
  }

  /** The link is released: what is written goes out, nothing more does. */
  stop(): void {
    this.publish();
    this.batcher.cancel();
    this.over = true;
    this.pump.stop();
  }

  /**
   * The peer is gone: a STOP or REJECT it left in the state word still
   * counts (it came first); then nothing more is written, an owed ending is dropped.
   */
  drop(): void {
    const state = this.writer.readerState();
    if (!this.over && state !== this.answered && (state === ReaderState.STOPPED || state === ReaderState.REJECTED)) this.answer(state);
    this.over = true;
    this.owed = undefined;
    this.blocked = false;
    this.batcher.cancel();
    this.pump.stop();
  }

  private refuse(): number {
    this.blocked = true;
    // A full ring of unpublished records would wait for the turn to end: the reader may have them now.
    this.publish();
    this.start();
    return -1;
  }

  private start(): void {
    if (!this.pump.running) this.pump.start();
  }

  /** The reader's answer, if its state word has one this end has not passed on yet (see SessionTransport.answerNow). */
  answerNow(): void {
    if (this.over) return;
    const state = this.writer.readerState();
    if (state !== this.answered) this.answer(state);
  }

  /** One step of the pump: the reader's answer, then room for the ending or for a refused value. */
  private step(): Step {
    if (this.over) return 'done';
    this.answerNow();
    if (this.over) return 'done';
    if (this.owed && this.writer.hasRoom()) this.writeOwed();
    if (this.blocked && !this.owed && this.answered === ReaderState.ACCEPTED && this.writer.hasRoom()) {
      this.blocked = false;
      this.host.session.wake(); // may refuse a value again (blocked, and the pump goes on)
    }
    return this.answered === ReaderState.READING || this.blocked || this.owed ? 'idle' : 'done';
  }

  /** Passes a new state word on to the session as the frame it stands for. */
  private answer(state: number): void {
    const { session } = this.host;
    this.host.helloFirst();
    if (this.over) return; // reading it ended this direction
    const was = this.answered;
    this.answered = state;
    try {
      if (state === ReaderState.ACCEPTED && was === ReaderState.READING) {
        session.receive(FrameKind.ACK, ACK_ZERO, 0, ACK_ZERO.length);
      } else if (state === ReaderState.STOPPED || state === ReaderState.REJECTED) {
        this.readerLeft();
        if (state === ReaderState.STOPPED) session.receive(FrameKind.STOP, EMPTY, 0, 0);
        else {
          const reject = readReason(this.memory);
          session.receive(FrameKind.REJECT, reject, 0, reject.length);
        }
      } else {
        throw new FrameError(`the reader's state word went from ${was} to ${state}`);
      }
    } catch (err) {
      // A state word or reason that makes no sense: the link is malformed.
      this.readerLeft();
      session.protocolError(err as Error);
    }
  }

  /** The reader takes nothing more: what waits here is dropped. */
  private readerLeft(): void {
    this.over = true;
    this.blocked = false;
    if (this.owed) {
      this.owed = undefined;
      this.host.changed();
    }
  }

  private writeOwed(): void {
    const { kind, error } = this.owed!;
    // An ERROR's record is cut to this ring's largest value by the session already (core/error-fit.ts).
    const written = kind === RecordKind.ERROR ? this.writer.tryWrite(RecordKind.ERROR, ErrorRecord, error!) : this.writer.tryWriteEmpty(kind);
    if (!written) return;
    this.owed = undefined;
    this.publish();
    this.host.changed();
  }
}
