/**
 * The reading half of a session: the writer's HELLO and schema, its window
 * policed, values decoded (or held, undecoded, while paused), ACKs paced at a
 * quarter window, the stream's end in order with its values, refusal.
 */
import { guardOfHello, type Guard } from './bounded';
import type { ChannelSink } from './channel';
import type { Codec } from './codec';
import { FrameError, RemoteError, SchemaMismatchError } from './errors';
import { AckRecord, ErrorRecord, FrameKind, RejectRecord, readerForHello, type Hello, MAX_WINDOW } from './frame';
import type { SessionOptions, SessionTransport } from './session-transport';

/** A data frame held while paused. */
interface Held {
  kind: FrameKind;
  buf: Buffer;
  start: number;
  end: number;
}

/** The REJECT path that means "wrong protocol", not a schema field. */
export const PROTOCOL_PATH = '<protocol>';

export class Incoming<T> {
  received = 0;
  receivedBytes = 0;
  paused = true;
  /** Nothing more is delivered (ended, failed, stopped). */
  done = false;
  /** The writer's COMPLETE or ERROR has arrived (it may still be held). */
  peerEnded = false;
  /** Why the stream ends once what is held has been delivered. */
  failure: Error | undefined;
  /** The writer's HELLO has arrived. */
  helloSeen = false;
  /** A STOP waits for the writer's HELLO (a transport may send nothing else before it). */
  stopOwed = false;
  /** No frame may be written any more (the peer is gone). */
  cut = false;
  private reader: Codec<T> | undefined;
  /** The writer's HELLO, and the guard of its values (null: not made yet; undefined: none needed). */
  private writer: Hello | undefined;
  private guard: Guard | undefined | null = null;
  private window: number;
  private ackEvery: number;
  private refused = false;
  /** Why this end refused the writer's schema (its HELLO), once it has. */
  refusal: Error | undefined;
  private held: Held[] = [];
  private consumed = 0;
  private lastAck = 0;
  /** Credit bytes of NEXT frames that have arrived, held or not (to police the writer's window). */
  private arrived = 0;
  /** Decoded and not yet delivered. */
  private values: T[] = [];
  private valueBytes = 0;
  private ending: { error?: Error } | undefined;

  constructor(
    private readonly transport: SessionTransport,
    private readonly codec: Codec<T>,
    private readonly sink: ChannelSink<T>,
    private readonly options: SessionOptions,
  ) {
    this.window = options.window;
    this.ackEvery = this.ackStep();
  }

  /** Whether the stream is over for this end's purposes (delivered, or waiting for a subscriber that may never come). */
  get over(): boolean {
    return this.done || (this.paused && (this.peerEnded || this.failure !== undefined));
  }

  /** Something is decoded and waits for `deliver()`. */
  get pending(): boolean {
    return this.values.length > 0 || this.ending !== undefined;
  }

  /** The writer's HELLO: resolve its schema, accept (ACK 0) or refuse (REJECT). */
  hello(hello: Hello): void {
    if (this.helloSeen) throw new FrameError('a second HELLO on one link');
    this.helloSeen = true;
    if (this.options.announces === 'send') {
      // PROTOCOL.md: 1 to 2^53 − 2. Refused here, not at the first NEXT ("overran its window of −5 bytes").
      if (!Number.isInteger(hello.window) || hello.window < 1 || hello.window > MAX_WINDOW) throw new FrameError(`a HELLO announcing a window of ${hello.window} bytes`);
      this.window = hello.window;
      this.ackEvery = this.ackStep();
    }
    try {
      this.reader = readerForHello(this.codec, hello);
      this.writer = hello;
    } catch (err) {
      this.refuse(err as Error, err instanceof SchemaMismatchError ? err.path : PROTOCOL_PATH);
      return;
    }
    // ACK 0 says "your schema is accepted": the writer sends no value before it.
    this.transport.write(FrameKind.ACK, AckRecord, 0);
    if (this.stopOwed) {
      this.stopOwed = false;
      this.writeStop();
    }
  }

  /**
   * A data frame (NEXT, COMPLETE, ERROR): checks it against the protocol at
   * once; decodes it now, or holds it while paused.
   * @throws FrameError when it breaks the protocol
   */
  data(kind: FrameKind, buf: Buffer, start: number, end: number): void {
    if (kind === FrameKind.NEXT) {
      if (!this.helloSeen) throw new FrameError('a value arrived before the writer said hello');
      this.arrived += end - start + this.options.nextOverhead;
      // (A transport whose room is the credit cannot be overrun: ackEvery is infinite there.)
      if (this.ackEvery !== Number.POSITIVE_INFINITY && this.arrived - this.lastAck > this.window + this.options.maxFrame + this.options.nextOverhead) {
        throw new FrameError(`the writer overran its window of ${this.window} bytes`);
      }
      if (this.done || this.refused || this.peerEnded) return;
      // The hot path: a value decoded as it arrives (no second dispatch on the kind).
      if (this.paused) this.held.push({ kind, buf, start, end });
      else this.decodeValue(buf, start, end);
      return;
    } else {
      if (kind === FrameKind.COMPLETE) expectEmpty(kind, start, end);
      if (this.peerEnded) return;
      this.peerEnded = true;
      if (this.done || this.refused) return;
    }
    if (this.paused) this.held.push({ kind, buf, start, end });
    else this.decode(kind, buf, start, end);
  }

  /** Hands what is decoded to the sink, then acknowledges it or ends the stream. */
  deliver(): void {
    const { values, valueBytes: bytes, ending } = this;
    this.values = [];
    this.valueBytes = 0;
    this.ending = undefined;
    this.received += values.length;
    this.receivedBytes += bytes;
    if (values.length > 0) this.sink.batch(values);
    if (this.done) return;
    if (ending) {
      this.done = true;
      if (ending.error) this.sink.error(ending.error);
      else this.sink.complete();
      return;
    }
    this.consumed += bytes;
    if (this.consumed - this.lastAck >= this.ackEvery && !this.cut) {
      this.lastAck = this.consumed;
      this.transport.write(FrameKind.ACK, AckRecord, this.consumed);
    }
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const held = this.held;
    this.held = [];
    for (const frame of held) {
      if (this.done || this.ending) break;
      this.decode(frame.kind, frame.buf, frame.start, frame.end);
    }
    if (this.pending) this.deliver();
    if (this.failure && !this.done) this.fail(this.failure);
  }

  pause(): void {
    if (!this.done) this.paused = true;
  }

  /** The last subscriber left: tell the writer to stop, drop what arrives. */
  stop(): void {
    if (this.done) return;
    this.done = true;
    this.held = [];
    if (!this.peerEnded) this.writeStop();
  }

  /** Ends the stream with `err` now (after what is decoded), or for the first subscriber when paused. */
  fail(err: Error): void {
    if (this.done) return;
    if (this.paused) {
      this.failure ??= err;
      return;
    }
    if (this.pending) this.deliver();
    if (this.done) return;
    this.done = true;
    this.held = [];
    this.sink.error(err);
  }

  /** Refuses the rest of the writer's stream (a value did not decode, the link is malformed). */
  refuseFurther(): void {
    if (!this.peerEnded) this.writeStop();
  }

  /** Bytes consumed between ACKs: a quarter window; none but ACK 0 where the transport's room is the credit. */
  private ackStep(): number {
    return this.transport.credit === 'room' ? Number.POSITIVE_INFINITY : Math.max(1, Math.floor(this.window / 4));
  }

  private writeStop(): void {
    if (this.cut) return;
    if (!this.helloSeen && this.options.quietUntilHello) {
      this.stopOwed = true;
      return;
    }
    this.transport.write(FrameKind.STOP);
    this.transport.flush();
  }

  private decode(kind: FrameKind, buf: Buffer, start: number, end: number): void {
    if (kind === FrameKind.NEXT) return this.decodeValue(buf, start, end);
    if (this.ending) return;
    try {
      if (kind === FrameKind.COMPLETE) this.ending = {};
      else this.ending = { error: new RemoteError(ErrorRecord.decode(buf, start, end)) };
    } catch (err) {
      this.failDecode(err as Error);
    }
  }

  private decodeValue(buf: Buffer, start: number, end: number): void {
    if (this.ending) return;
    try {
      // Made at the first value (a HELLO's schema text is parsed once, and only when values come).
      if (this.guard === null) this.guard = guardOfHello(this.reader!, this.writer!);
      this.valueBytes += this.transport.decodeNext(this.reader!, this.guard, buf, start, end, this.values);
    } catch (err) {
      this.failDecode(err as Error);
    }
  }

  /** A value (or an ErrorRecord) that does not decode ends the incoming stream; the writer is told to stop. */
  private failDecode(err: Error): void {
    this.ending = { error: err };
    this.refuseFurther();
  }

  /** The writer's schema or protocol cannot be read: tell it, and fail our subscribers. */
  private refuse(err: Error, path: string): void {
    const reason = err instanceof SchemaMismatchError ? err.reason : err.message;
    this.transport.write(FrameKind.REJECT, RejectRecord, { path, message: reason });
    this.transport.flush();
    this.held = [];
    this.refused = true;
    this.refusal = err;
    this.stopOwed = false; // a STOP owed since before the HELLO: the REJECT stops the writer as surely
    this.fail(err);
  }
}


export function expectEmpty(kind: number, start: number, end: number): void {
  if (end !== start) throw new FrameError(`frame kind 0x${kind.toString(16)} must have an empty body, has ${end - start} bytes`);
}
