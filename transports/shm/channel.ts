/**
 * The shm transport: the core session (core/session.ts) over two shared
 * rings, one per direction. This file is only shm's own part; the session
 * decides everything else (HELLO and the schema, acceptance, REJECT, STOP,
 * endings, errors as data, the peer gone, stats).
 *
 * - Each end writes its outgoing direction's HELLO, NEXT, COMPLETE and ERROR
 *   as records in its tx ring (./writing.ts), values encoded straight into it.
 * - The reader's answers (ACK 0, STOP, REJECT) are words in the header of
 *   the ring it reads, not records: a reader that holds a full ring unread
 *   could not write a record past it. Its cursor is the credit
 *   (`credit: 'room'`): no ACK beyond ACK 0.
 * - It reads its rx ring only while the session wants data (`reading`),
 *   except the first record, the writer's HELLO, which it reads at once, as
 *   every reader must. While paused, the ring itself holds what arrives.
 *
 * Liveness: each end holds one port of a MessageChannel that carries no
 * message; when a thread dies its port closes and the other end is told.
 * docs/PROTOCOL.md, "Shared memory", gives the bytes.
 */
import { Buffer } from 'node:buffer';
import type { MessagePort, Worker } from 'node:worker_threads';
import type { Channel, ChannelSink } from '../../core/channel';
import type { Codec } from '../../core/codec';
import { FrameError, type ErrorData } from '../../core/errors';
import { truncateUtf8 } from '../../core/error-fit';
import { FrameKind, HelloRecord, RejectRecord, helloOf, type Hello } from '../../core/frame';
import { Session } from '../../core/session';
import type { SessionTransport } from '../../core/session-transport';
import type { Guard } from '../../core/bounded';
import { claimEnd, releaseEnd } from '../claims';
import { PeerWatch } from '../peer-watch';
import { REASON_BYTES, RECORD_HEADER, RecordKind, ReaderState, align, largestValue, mapRing, stillReading, writeReason, type RingMemory } from './layout';
import { Lending, lendingOf } from './lending';
import { ShmReading } from './reading';
import { checkStrategy, type PumpOptions, type WaitStrategy } from './wait';
import { ShmWriting } from './writing';

/** Options of the shm transport (with `WireOptions`, given to `open`). */
export interface ShmOptions {
  /** How this end waits for data and for room; see `WaitStrategy`. Default `'auto'`. */
  wait?: WaitStrategy;
  /** How long `'auto'` keeps polling after activity before it sleeps, in µs (finite), as it starts: the window then adapts (README, "How `auto`'s spinning adapts"). Default 50. */
  spinMicros?: number;
  /** As for the port transport: the worker on the other side, for `WorkerError`. */
  worker?: Worker;
  /**
   * Borrowed delivery, for the `raw` codec only: each value delivered is a
   * `Buffer` view into the ring itself, not a copy, valid only until the
   * `next` callback that received it returns (the ring's bytes then go back
   * to the writer, which overwrites them). Copy what you keep
   * (`Buffer.from(view)`). `'debug'`: each value is a copy instead, detached
   * once that callback returns, so a kept view fails loudly (its length is 0;
   * `Buffer` reads throw `RangeError`). Default false: each value is its own
   * copy. See README, "Borrowed delivery".
   */
  borrow?: boolean | 'debug';
}

/** The parts of an shm end a channel uses. */
export interface ShmLink {
  tx: SharedArrayBuffer;
  rx: SharedArrayBuffer;
  live: MessagePort;
}

/**
 * Checks `spinMicros`: a non-negative finite number (`Infinity` would keep
 * `'auto'` polling for good: that is `wait: 'spin'`).
 * @throws RangeError naming `name`
 */
export function checkSpinMicros(spinMicros: unknown, name = 'options.spinMicros'): void {
  // typeof first: `'5' >= 0` holds, and a string would be coerced where it is used (as startNode refuses it).
  if (typeof spinMicros !== 'number' || !(spinMicros >= 0) || spinMicros === Infinity) {
    throw new RangeError(`${name} must be a non-negative finite number of µs (wait: 'spin' never sleeps)`);
  }
}

/** Opens a session over `link`; `connectShm` gives this to WireSubject. */
export function openShmChannel<T>(link: ShmLink, codec: Codec<T>, sink: ChannelSink<T>, options: ShmOptions): Channel<T> {
  const { wait = 'auto', spinMicros = 50, worker } = options;
  const strategy = checkStrategy(wait);
  checkSpinMicros(spinMicros);
  const lending = lendingOf(options.borrow, codec);
  claimEnd(link.live); // for good once open: a released ring is not read again
  try {
    const transport = new ShmTransport(link, sink, { strategy, spinMicros, sliceMs: 100, keepAlive: false }, lending);
    // The window is the writer's ring (values held before acceptance: at most one ring of them).
    const window = transport.capacity;
    const session = new Session(transport, codec, sink, { window, announces: 'send', maxFrame: transport.maxValueBytes, nextOverhead: RECORD_HEADER });
    transport.start(session, helloOf(codec, window), worker);
    return session;
  } catch (err) {
    // Nothing started yet (the HELLO is written first: a schema too large for the ring throws there): a retry may open it.
    releaseEnd(link.live);
    throw err;
  }
}

class ShmTransport implements SessionTransport {
  readonly credit = 'room';
  readonly maxValueBytes: number;
  /** Bytes of the tx ring's data region. */
  readonly capacity: number;
  session!: Session<unknown>;
  private readonly rx: RingMemory;
  private readonly in: ShmReading;
  private readonly out: ShmWriting;
  private readonly live: MessagePort;
  private watch!: PeerWatch;
  private gone = false;
  private kept = false;
  /** The session is over; the link is released once an owed ending is written. */
  private closing = false;
  private closed = false;

  constructor(
    link: ShmLink,
    private readonly sink: ChannelSink<unknown>,
    pumpOptions: PumpOptions,
    /** Borrowed delivery (`options.borrow`): values are lent out of the ring, not decoded; undefined: decoded. */
    private readonly lending: Lending | undefined,
  ) {
    const tx = mapRing(link.tx);
    this.capacity = tx.capacity;
    this.maxValueBytes = largestValue(tx.capacity);
    this.rx = mapRing(link.rx);
    this.live = link.live;
    this.in = new ShmReading(this.rx, () => this.out.publish(), pumpOptions, lending);
    this.out = new ShmWriting(tx, this, pumpOptions);
  }

  /** Says HELLO, reads the peer's, and watches the peer's thread. */
  start<T>(session: Session<T>, hello: Hello, worker: Worker | undefined): void {
    this.session = this.in.session = session as Session<unknown>;
    this.write(FrameKind.HELLO, HelloRecord, hello);
    this.in.start();
    this.live.on('close', this.onLiveClosed);
    this.watch = new PeerWatch(worker, () => this.peerLeft());
    session.hold(false);
  }

  // ---- SessionTransport -----------------------------------------------------

  write<V>(kind: FrameKind, body?: Codec<V>, value?: V): number {
    if (kind === FrameKind.NEXT) return this.out.next(body!, value as V);
    if (this.closed) return 0;
    switch (kind) {
      case FrameKind.HELLO:
        this.out.hello(value as Hello);
        break;
      case FrameKind.COMPLETE:
        this.out.end(RecordKind.COMPLETE);
        break;
      case FrameKind.ERROR:
        this.out.end(RecordKind.ERROR, value as ErrorData);
        break;
      case FrameKind.ACK:
        // Only ACK 0 (credit is room): the schema is accepted, unless this end stopped first.
        if (value === 0 && this.in.state === ReaderState.READING) this.in.setState(ReaderState.ACCEPTED);
        break;
      case FrameKind.STOP:
        // A REJECT already said why the writer must stop.
        if (stillReading(this.in.state)) this.in.setState(ReaderState.STOPPED);
        break;
      case FrameKind.REJECT:
        writeReason(this.rx, 0, rejectBody(value as { path: string; message: string }));
        break;
    }
    return 0;
  }

  flush(): void {
    this.out.publish();
  }

  answerNow(): void {
    if (!this.closed) this.out.answerNow();
  }

  decodeNext<T>(reader: Codec<T>, guard: Guard | undefined, buf: Buffer, start: number, end: number, into: T[]): number {
    if (this.lending) into.push(this.lending.lend(buf, start, end) as T);
    else {
      guard?.(buf, start, end);
      into.push(reader.decode(buf, start, end));
    }
    return align(end - start + RECORD_HEADER); // the record as it sits in the ring, padding included
  }

  tooLarge(bytes: number): Error {
    return new FrameError(`a record of ${bytes} bytes can never fit a ring of ${this.capacity} bytes`);
  }

  reading(on: boolean): void {
    if (!this.closed) this.in.reading(on);
  }

  inFlightBytes(): number {
    return this.out.inFlight();
  }

  keepAlive(waiting: boolean): void {
    this.kept = waiting;
    this.updateRef();
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.in.stop();
    this.changed();
  }

  // ---- WritingHost ----------------------------------------------------------

  flushed(): void {
    this.sink.flushed();
  }

  changed(): void {
    if (this.closing && !this.out.owes) this.release();
    else this.updateRef();
  }

  helloFirst(): void {
    this.in.helloFirst();
  }

  // ---- lifecycle ----------------------------------------------------------------

  private readonly onLiveClosed = (): void => {
    if (this.closed) return;
    this.watch.linkClosed(!this.closing);
  };

  /** The other thread is gone: what it published is still read (now, or held for the first subscriber), then both ways end. */
  private peerLeft(): void {
    if (this.closed || this.gone) return;
    this.gone = true;
    this.out.drop();
    if (this.closing) return this.release();
    this.in.readRest();
    this.session.peerGone(this.watch.failure);
  }

  private release(): void {
    if (this.closed) return;
    this.closed = true;
    this.out.stop();
    this.in.stop();
    this.watch.unwatch();
    this.live.off('close', this.onLiveClosed);
    this.live.close();
  }

  private updateRef(): void {
    if (this.closed) return;
    if (this.kept || this.out.owes) this.live.ref();
    else this.live.unref();
  }
}

/** A REJECT's body for the ring's reason area: a RejectRecord, its text cut to fit REASON_BYTES. */
function rejectBody(reject: { path: string; message: string }): Buffer {
  const path = truncateUtf8(reject.path, 256);
  // Each string's Avro length takes at most 2 bytes below 8 KiB.
  const room = REASON_BYTES - 4 - Buffer.byteLength(path);
  return RejectRecord.encode({ path, message: truncateUtf8(reject.message, room) });
}
