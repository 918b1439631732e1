/**
 * A NATS channel: the core session (core/session.ts) over two NATS subjects,
 * one per direction. Only NATS's own part is here: frames (core/frame.ts,
 * as on a port) written into one NATS message per batch behind a sequence
 * number; each message's number checked (NATS core may drop: a hole ends
 * the link with GapError); a heartbeat for a peer that vanished; BYE when
 * the link is released. Pairing (pairing.ts) finds the peer first.
 */
import { Buffer } from 'node:buffer';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { Batcher } from '../../core/batcher';
import type { ChannelSink } from '../../core/channel';
import { raw, type Codec } from '../../core/codec';
import { FrameError, GapError, TransportClosedError } from '../../core/errors';
import { FRAME_HEADER, FrameKind, FrameWriter, HelloRecord, decodeFrameValue, parseFrames, type Hello } from '../../core/frame';
import type { Session } from '../../core/session';
import type { SessionTransport } from '../../core/session-transport';
import { Heartbeat, type HeartbeatSettings } from '../tcp/heartbeat';
import { MESSAGE_HEADER, MessageType, controlMessage, readHeader, writeHeader, type ChannelSubjects } from './wire';

/** What a channel needs to know of its place. */
export interface NatsChannelSetup {
  readonly nc: NatsConnection;
  readonly subjects: ChannelSubjects;
  /** This end's id (its data subject is `subjects.data(id)`). */
  readonly id: string;
  /** Bytes past which a batch is published at once. */
  readonly batchBytes: number;
  /** The server's max_payload: no message is larger. */
  readonly maxPayload: number;
  readonly heartbeat: HeartbeatSettings | undefined;
  /** Called once when the link is released. */
  readonly released: () => void;
}

/** Data messages taken while the pairing settles (the peer may speak first): at most this many. */
const EARLY_LIMIT = 16;

export class NatsTransport implements SessionTransport {
  session!: Session<unknown>;
  readonly maxValueBytes: number;
  private readonly writer = new FrameWriter();
  private readonly batcher: Batcher;
  private readonly heartbeat: Heartbeat | undefined;
  private sub: Subscription | undefined;
  /** The peer's data subject, once paired. */
  private peer: string | undefined;
  private early: Buffer[] | undefined = [];
  private seqOut = 0;
  private seqIn = 0;
  private closed = false;
  /** Why the link was released, for the peer (BYE). */
  private reason = 'the other end released the link';

  constructor(
    private readonly setup: NatsChannelSetup,
    private readonly sink: ChannelSink<unknown>,
  ) {
    this.maxValueBytes = setup.maxPayload - MESSAGE_HEADER - FRAME_HEADER;
    this.batcher = new Batcher(() => this.post(), Math.min(setup.batchBytes, setup.maxPayload));
    const { heartbeat } = setup;
    this.heartbeat = heartbeat && new Heartbeat(heartbeat, () => this.control(MessageType.PING), (ms) => this.silent(ms, heartbeat.timeout));
  }

  /** Listens on this end's data subject and says HELLO (it goes out once paired). */
  start(session: Session<unknown>, hello: Hello): void {
    this.session = session;
    const { nc, subjects, id } = this.setup;
    // HELLO first: one too large for max_payload throws (FrameError, at `conn.open`) before there is a subscription to leak.
    this.write(FrameKind.HELLO, HelloRecord, hello);
    this.sub = nc.subscribe(subjects.data(id), { callback: (err, msg) => (err ? this.lost(err) : this.onMessage(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength))) });
    session.hold(false);
  }

  /** Is this end still unpaired, on the channel of `subjects`? */
  unpairedOn(subjects: ChannelSubjects): boolean {
    return this.peer === undefined && this.setup.subjects.open === subjects.open;
  }

  /** Paired with the end `partner`: what waited goes out, what it sent early is read. */
  paired(partner: string): void {
    if (this.closed) return;
    this.peer = this.setup.subjects.data(partner);
    this.heartbeat?.start();
    this.batcher.flush();
    const early = this.early!;
    this.early = undefined;
    for (const message of early) this.onMessage(message);
  }

  /**
   * The link is over with `err` (pairing failed, the connection closed or
   * dropped, a hole, the heartbeat): both directions end; `bye` is what the
   * peer is told.
   */
  lost(err: Error, bye = `the other end's link ended: ${err.message}`): void {
    if (this.closed) return;
    this.reason = bye;
    this.session.peerGone(err);
  }

  // ---- SessionTransport ---------------------------------------------------

  write<V>(kind: FrameKind, body?: Codec<V>, value?: V): number {
    if (this.closed) return 0;
    const { writer } = this;
    if (writer.size === 0) writer.reserve(MESSAGE_HEADER);
    const before = writer.size;
    const bytes = writer.writeWithin(kind, this.maxValueBytes, body, value);
    if (bytes < 0) {
      throw new FrameError(
        `a value of ${-bytes} bytes exceeds the largest a NATS channel carries here (${this.maxValueBytes} bytes: the server's max_payload of ${this.setup.maxPayload} less ${MESSAGE_HEADER + FRAME_HEADER} bytes of headers)`,
      );
    }
    if (writer.size > this.setup.maxPayload) this.moveToNextMessage(before, bytes);
    this.batcher.wrote(writer.size);
    return bytes;
  }

  flush(): void {
    this.batcher.flush();
  }

  readonly decodeNext = decodeFrameValue;

  keepAlive(): void {
    // The NATS connection keeps the process alive while it is open; nothing to do per channel.
  }

  close(): void {
    if (this.closed) return;
    this.batcher.flush();
    this.control(MessageType.BYE, this.reason);
    this.closed = true;
    this.batcher.cancel();
    this.heartbeat?.stop();
    this.sub?.unsubscribe();
    this.setup.released();
  }

  // ---- NATS ---------------------------------------------------------------

  /** The frame just written (`bytes` at `before`) would make the message too large: it starts the next one. */
  private moveToNextMessage(before: number, bytes: number): void {
    const taken = this.writer.take();
    const frame = Buffer.from(taken.buffer, taken.byteOffset + before, bytes);
    this.publish(taken.subarray(0, before), MessageType.FRAMES);
    this.writer.reserve(MESSAGE_HEADER);
    this.writer.write(frame[4] as FrameKind, raw, frame.subarray(FRAME_HEADER));
  }

  private post(): void {
    if (this.closed || this.peer === undefined || this.writer.size <= MESSAGE_HEADER) return;
    this.publish(this.writer.take(), MessageType.FRAMES);
    this.sink.flushed();
  }

  private control(type: MessageType, text?: string): void {
    if (this.closed || this.peer === undefined) return;
    this.publish(controlMessage(0, type, text), type);
  }

  private publish(message: Uint8Array, type: MessageType): void {
    writeHeader(message, this.seqOut, type);
    this.seqOut = (this.seqOut + 1) >>> 0;
    try {
      this.setup.nc.publish(this.peer!, message);
    } catch (err) {
      // The connection is closed or closing: the link is over.
      queueMicrotask(() => this.lost(new TransportClosedError(`the NATS connection refused a publish: ${(err as Error).message}`, { cause: err })));
    }
  }

  /** One data message from the peer. */
  private onMessage(message: Buffer): void {
    if (this.closed) return;
    const { session } = this;
    if (this.early) {
      if (this.early.push(message) > EARLY_LIMIT) session.protocolError(new FrameError(`more than ${EARLY_LIMIT} messages arrived before this end was paired`));
      return;
    }
    this.heartbeat?.alive();
    let header: ReturnType<typeof readHeader>;
    try {
      header = readHeader(message);
    } catch (err) {
      return this.malformed(err as Error);
    }
    if (header.seq !== this.seqIn) {
      const err = new GapError(this.seqIn, header.seq, `NATS lost messages of this channel: message ${this.seqIn} was expected, ${header.seq} came (a slow consumer or a server restart); the stream ends here`);
      return this.lost(err);
    }
    this.seqIn = (this.seqIn + 1) >>> 0;
    switch (header.type) {
      case MessageType.PING:
        return this.control(MessageType.PONG);
      case MessageType.PONG:
        return;
      case MessageType.BYE:
        return this.lost(new TransportClosedError(message.toString('utf8', MESSAGE_HEADER, Math.min(message.length, MESSAGE_HEADER + 500)) || 'the other end released the link'));
    }
    try {
      parseFrames(
        message.subarray(MESSAGE_HEADER),
        (kind, start, end) => {
          const at = MESSAGE_HEADER;
          if (kind === FrameKind.HELLO) session.hello(HelloRecord.decode(message, at + start, at + end));
          else session.receive(kind, message, at + start, at + end);
        },
        this.maxValueBytes,
      );
    } catch (err) {
      return this.malformed(err as Error);
    }
    session.deliver();
  }

  /** Bytes that are not a message of this protocol: what came before stands, both directions end. */
  private malformed(err: Error): void {
    this.session.deliver();
    this.session.protocolError(err);
  }

  private silent(ms: number, timeout: number): void {
    this.lost(new TransportClosedError(`the other end was silent for ${ms} ms (heartbeat timeout ${timeout} ms)`));
  }
}
