/**
 * The writing direction of an shm channel: values encoded straight into the
 * ring, published in batches (core/batcher.ts), the ending written however
 * full the ring is (it waits for room), and the reader's state word (STOPPED,
 * REJECTED) turned into the outgoing side's end.
 *
 * As on every transport, a writer sends no value before the reader has
 * accepted its schema: only the HELLO is published until the reader's state
 * word says ACCEPTED. Values written meanwhile wait unpublished in the ring
 * (so at most one ring of them: the window), and a REJECTED reader makes
 * the writer drop them unsent and fail with SchemaMismatchError.
 */
import { Batcher } from '../../core/batcher';
import type { ChannelSink } from '../../core/channel';
import type { Codec } from '../../core/codec';
import { FrameError, TransportClosedError, toErrorData } from '../../core/errors';
import { ErrorRecord, HelloRecord, helloOf } from '../../core/frame';
import { PROTOCOL_PATH, rejectionError } from '../../core/session';
import { RecordKind, ReaderState, readReason, stillReading, type RingMemory } from './layout';
import { RingWriter } from './ring';
import { Pump, type PumpOptions, type Step } from './wait';

/** Unpublished bytes after which a write publishes at once instead of at the end of the turn. */
const PUBLISH_EVERY = 16 * 1024;

/** What the writing side needs from its channel. */
export interface WritingHost<T> {
  readonly sink: ChannelSink<T>;
  /** The peer is gone (its thread died), and why. */
  peerGone(): Error | undefined;
  /** Something changed that may end the channel or change its hold on the event loop. */
  changed(): void;
}

export class Writing<T> {
  sent = 0;
  sentBytes = 0;
  /** No more values are taken. */
  done = false;
  blocked = false;
  private readonly writer: RingWriter;
  private readonly pump: Pump;
  private readonly batcher = new Batcher(() => this.publish(), PUBLISH_EVERY);
  private unpublished = 0;
  /** The reader accepted the schema: what is written may be published. */
  private accepted = false;
  /** Values (and their bytes) written before acceptance: not sent after all if the reader refuses. */
  private heldCount = 0;
  private heldBytes = 0;
  private pendingEnd: { kind: RecordKind; error?: unknown } | undefined;

  constructor(
    private readonly memory: RingMemory,
    private readonly codec: Codec<T>,
    private readonly host: WritingHost<T>,
    pumpOptions: PumpOptions,
  ) {
    this.writer = new RingWriter(memory);
    this.pump = new Pump(
      memory.header,
      pumpOptions,
      () => this.awaitRoom(),
      () => ((this.blocked || this.pendingEnd !== undefined) && this.writer.hasRoom()) || this.readerMoved() || host.peerGone() !== undefined,
      () => this.writer.spaceCell(),
    );
    const hello = helloOf(codec, memory.capacity);
    if (!this.writer.tryWrite(RecordKind.HELLO, HelloRecord, hello)) {
      throw new FrameError(`the schema (${hello.schema.length} bytes) does not fit a ring of ${memory.capacity} bytes`);
    }
    this.writer.publish();
  }

  /** The ending waits for room. */
  get ending(): boolean {
    return this.pendingEnd !== undefined;
  }

  /** Something written still has to go out: the ending, or records waiting for acceptance. */
  get owes(): boolean {
    return this.pendingEnd !== undefined || (!this.accepted && this.heldCount > 0 && this.writer.pending);
  }

  /** Bytes published and not yet released by the reader. */
  /** Values written before the reader accepted, not published yet. */
  get heldValues(): number {
    return this.accepted ? 0 : this.heldCount;
  }

  get inFlightBytes(): number {
    return this.writer.used();
  }

  offer(value: T): boolean {
    if (this.done) throw new TransportClosedError('the outgoing stream is closed');
    if (!stillReading(this.writer.readerState())) {
      this.readerLeft();
      throw new TransportClosedError('the reader is not reading');
    }
    const before = this.writer.position;
    if (!this.writer.tryWrite(RecordKind.NEXT, this.codec, value)) {
      this.blocked = true;
      this.pump.start();
      this.host.changed();
      return false;
    }
    const bytes = (this.writer.position - before) | 0;
    this.sent++;
    this.sentBytes += bytes;
    this.unpublished += bytes;
    if (!this.accepted) {
      this.heldCount++;
      this.heldBytes += bytes;
      // Values that wait for acceptance keep this thread alive.
      if (this.heldCount === 1) this.host.changed();
    }
    // Published at the end of this turn (not a microtask: a loop of `await send()` would then publish
    // every single record), at once past PUBLISH_EVERY, and after each drain of the reader.
    this.batcher.wrote(this.unpublished);
    return true;
  }

  end(ending: { kind: RecordKind; error?: unknown }): void {
    if (this.done) return;
    this.done = true;
    this.pendingEnd = ending;
    this.writeEnd();
  }

  /** Publishes what is written (a reply written while delivering goes out at once). */
  publish(): void {
    this.batcher.cancel();
    this.unpublished = 0;
    if (!this.writer.pending) return;
    // Values wait for acceptance; an ending with no value before it does not.
    if (!this.accepted && this.heldCount > 0 && !this.checkAccepted()) return;
    this.writer.publish();
    this.host.sink.flushed();
  }

  /** The reader stopped, refused the schema or is gone: close the outgoing side. */
  readerLeft(): void {
    const state = this.writer.readerState();
    let err: Error;
    if (state === ReaderState.STOPPED) err = new TransportClosedError('the reader stopped: its last subscriber left');
    else if (state === ReaderState.REJECTED) err = refusal(readReason(this.memory));
    else err = this.host.peerGone() ?? new TransportClosedError('the other end is gone');
    this.close(err, state === ReaderState.STOPPED);
  }

  /** Nothing more goes out: the pump stops. */
  stop(): void {
    this.publish();
    this.pump.stop();
  }

  /** Has the reader accepted the schema? If it is still deciding, the pump watches its state word. */
  private checkAccepted(): boolean {
    const state = this.writer.readerState();
    if (state === ReaderState.ACCEPTED) {
      this.accepted = true;
      this.heldCount = this.heldBytes = 0;
      this.host.sink.accepted();
      return true;
    }
    if (state === ReaderState.READING && !this.host.peerGone()) this.pump.start();
    else this.readerLeft();
    return false;
  }

  /** The reader's state word says something this side has not acted on yet. */
  private readerMoved(): boolean {
    const state = this.writer.readerState();
    return !stillReading(state) || (state === ReaderState.ACCEPTED && !this.accepted);
  }

  private close(err: Error, stopped: boolean): void {
    if (!this.accepted && this.writer.pending) {
      // Refused (or gone) before acceptance: what waited was never sent.
      this.writer.discard();
      this.sent -= this.heldCount;
      this.sentBytes -= this.heldBytes;
      this.heldCount = this.heldBytes = 0;
    }
    if (this.done && !this.pendingEnd && !this.blocked) return this.host.changed();
    this.done = true;
    this.pendingEnd = undefined;
    this.blocked = false;
    this.pump.stop();
    this.host.sink.writeClosed(err, stopped);
    this.host.changed();
  }

  /** Writes the pending COMPLETE or ERROR, now or when room appears. */
  private writeEnd(): void {
    const ending = this.pendingEnd;
    if (!ending) return;
    const written = ending.kind === RecordKind.ERROR ? this.writeError(ending.error) : this.writer.tryWriteEmpty(RecordKind.COMPLETE);
    if (!written) {
      this.pump.start();
      this.host.changed();
      return;
    }
    this.pendingEnd = undefined;
    this.publish();
    this.host.changed();
  }

  private writeError(error: unknown): boolean {
    const data = toErrorData(error);
    try {
      return this.writer.tryWrite(RecordKind.ERROR, ErrorRecord, data);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
    }
    // Too large for the ring as a whole: the stack goes first, and only a
    // message that alone cannot fit is cut, to what the ring holds.
    const bare = { ...data, stack: null };
    try {
      return this.writer.tryWrite(RecordKind.ERROR, ErrorRecord, bare);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      const room = Math.max(64, this.memory.capacity - 64 - Buffer.byteLength(data.name) - Buffer.byteLength(data.code ?? ''));
      return this.writer.tryWrite(RecordKind.ERROR, ErrorRecord, { ...bare, message: truncateUtf8(data.message, room) });
    }
  }

  /** One step of the space pump: acceptance, room, or the reader gone. */
  private awaitRoom(): Step {
    if (!stillReading(this.writer.readerState()) || this.host.peerGone()) {
      this.readerLeft();
      return 'done';
    }
    if (!this.accepted && this.writer.readerState() === ReaderState.ACCEPTED) {
      // Accepted: what waited goes out.
      this.publish();
      this.host.changed();
    }
    if (this.pendingEnd) {
      if (this.writer.hasRoom()) this.writeEnd();
    } else if (this.blocked && this.writer.hasRoom()) {
      this.blocked = false;
      this.host.changed();
      this.host.sink.writable();
    }
    // The sink may have ended the stream meanwhile, with no room for the ending: keep waiting for it.
    return this.blocked || this.pendingEnd || this.owes ? 'idle' : 'done';
  }
}

/** The reader's refusal, as its state word's reason says (JSON `{ path, reason }`). */
function refusal(text: string): Error {
  let reject = { path: PROTOCOL_PATH, message: text };
  try {
    const { path, reason } = JSON.parse(text) as { path: string; reason: string };
    reject = { path, message: reason };
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
  }
  return rejectionError(reject);
}

/** The longest prefix of `text` whose UTF-8 form fits `bytes`, whole characters only. */
function truncateUtf8(text: string, bytes: number): string {
  let cut = Math.min(text.length, bytes);
  while (cut > 0 && Buffer.byteLength(text.slice(0, cut)) > bytes) cut = Math.floor(cut * 0.9);
  if (cut > 0 && /[\uD800-\uDBFF]/.test(text[cut - 1])) cut--;
  return text.slice(0, cut);
}
