/**
 * A WireSubject's channel over two shared rings, one per direction. After
 * setup nothing is posted: values are encoded straight into the ring with
 * `codec.encodeInto` and decoded straight out of it.
 *
 * Records: HELLO first from each writer (the schema, as on every transport),
 * then NEXT values, then COMPLETE or ERROR. The reader's answer travels in the
 * ring's header, not as records: its cursor is the acknowledgement, and its
 * state word says STOPPED (last subscriber left), REJECTED (schema refused,
 * reason in the header) or GONE.
 *
 * Liveness: each end holds one port of a MessageChannel that carries no
 * message; when a thread dies its port closes and the other end is told.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Channel, ChannelSink, WireStats } from '../../core/channel';
import type { Codec } from '../../core/codec';
import { FrameError, RemoteError, SchemaMismatchError, TransportClosedError, toErrorData } from '../../core/errors';
import { ErrorRecord, HelloRecord, helloOf, readerForHello } from '../../core/frame';
import { PeerWatch } from '../peer-watch';
import type { Worker } from 'node:worker_threads';
import { RECORD_HEADER, RecordKind, ReaderState, mapRing, readReason, writeReason, type RingMemory } from './layout';
import { RingReader, RingWriter } from './ring';
import { Pump, checkStrategy, type Step, type WaitStrategy } from './wait';

/** Options of the shm transport (with `WireOptions`, given to `open`). */
export interface ShmOptions {
  /** How this end waits for data and for room; see `WaitStrategy`. Default `'auto'`. */
  wait?: WaitStrategy;
  /** How long `'auto'` keeps polling after activity before it sleeps, in µs. Default 50. */
  spinMicros?: number;
  /** As for the port transport: the worker on the other side, for `WorkerError`. */
  worker?: Worker;
}

/** The parts of an shm end a channel uses. */
export interface ShmLink {
  tx: SharedArrayBuffer;
  rx: SharedArrayBuffer;
  live: MessagePort;
}

/** Unpublished bytes after which a write publishes at once instead of at the end of the turn. */
const PUBLISH_EVERY = 16 * 1024;

export class ShmChannel<T> implements Channel<T> {
  private readonly writer: RingWriter;
  private readonly reader: RingReader;
  private readonly txMemory: RingMemory;
  private readonly rxMemory: RingMemory;
  private readonly readPump: Pump;
  private readonly spacePump: Pump;
  private readonly live: MessagePort;
  private publishScheduled: ReturnType<typeof setImmediate> | undefined;
  private unpublished = 0;

  // Outgoing.
  private sent = 0;
  private sentBytes = 0;
  private outDone = false;
  private blocked = false;
  private pendingEnd: { kind: RecordKind; error?: unknown } | undefined;

  // Incoming.
  private decoder: Codec<T> | undefined;
  private inDone = false;
  private reading = false;
  private received = 0;
  private receivedBytes = 0;

  private holding = false;
  private closed = false;
  private peerGone = false;
  private readonly watch: PeerWatch;

  constructor(
    link: ShmLink,
    private readonly codec: Codec<T>,
    private readonly sink: ChannelSink<T>,
    options: ShmOptions,
  ) {
    const { wait = 'auto', spinMicros = 50, worker } = options;
    const strategy = checkStrategy(wait);
    if (!(spinMicros >= 0)) throw new RangeError('options.spinMicros must be a non-negative number');
    this.txMemory = mapRing(link.tx);
    this.rxMemory = mapRing(link.rx);
    this.writer = new RingWriter(this.txMemory);
    this.reader = new RingReader(this.rxMemory, 0);
    this.live = link.live;
    // The live port is this channel's handle on the event loop (see updateRef).
    const pumpOptions = { strategy, spinMicros, sliceMs: 100, keepAlive: false };
    this.readPump = new Pump(
      this.rxMemory.header,
      pumpOptions,
      () => this.drain(),
      () => this.reader.available() > 0 || this.peerGone,
      () => this.reader.dataCell(),
    );
    this.spacePump = new Pump(
      this.txMemory.header,
      pumpOptions,
      () => this.awaitRoom(),
      () => this.writer.hasRoom() || this.writer.readerState() !== ReaderState.READING || this.peerGone,
      () => this.writer.spaceCell(),
    );
    const hello = helloOf(codec, this.txMemory.capacity);
    if (!this.writer.tryWrite(RecordKind.HELLO, HelloRecord, hello)) {
      throw new FrameError(`the schema (${hello.schema.length} bytes) does not fit a ring of ${this.txMemory.capacity} bytes`);
    }
    this.writer.publish();
    this.live.on('close', this.onLiveClosed);
    this.watch = new PeerWatch(worker, () => this.peerLeft());
    this.updateRef();
  }

  // ---- outgoing -----------------------------------------------------------

  offer(value: T): boolean {
    if (this.outDone) throw new TransportClosedError('the outgoing stream is closed');
    if (this.writer.readerState() !== ReaderState.READING) {
      this.readerLeft();
      throw new TransportClosedError('the reader is not reading');
    }
    const before = this.writer.position;
    if (!this.writer.tryWrite(RecordKind.NEXT, this.codec, value)) {
      this.blocked = true;
      this.spacePump.start();
      this.updateRef();
      return false;
    }
    const bytes = (this.writer.position - before) | 0;
    this.sent++;
    this.sentBytes += bytes;
    this.unpublished += bytes;
    // Publish in batches: at once past PUBLISH_EVERY bytes, else at the end
    // of this turn of the event loop (not a microtask: a loop of
    // `await send()` would then publish every single record), and after each
    // drain of the reader, so a reply written while delivering goes out at once.
    if (this.unpublished >= PUBLISH_EVERY) this.publish();
    else if (!this.publishScheduled) this.publishScheduled = setImmediate(this.publish);
    return true;
  }

  complete(): void {
    this.end({ kind: RecordKind.COMPLETE });
  }

  error(err: unknown): void {
    this.end({ kind: RecordKind.ERROR, error: err });
  }

  hold(waiting: boolean): void {
    this.holding = waiting;
    this.updateRef();
  }

  stats(): Omit<WireStats, 'queued' | 'dropped'> {
    return {
      sent: this.sent,
      sentBytes: this.sentBytes,
      received: this.received,
      receivedBytes: this.receivedBytes,
      inFlightBytes: this.writer.used(),
    };
  }

  private readonly publish = (): void => {
    if (this.publishScheduled) clearImmediate(this.publishScheduled);
    this.publishScheduled = undefined;
    this.unpublished = 0;
    if (!this.writer.pending) return;
    this.writer.publish();
    this.sink.flushed();
  };

  private end(ending: { kind: RecordKind; error?: unknown }): void {
    if (this.outDone) return;
    this.outDone = true;
    this.pendingEnd = ending;
    this.writeEnd();
  }

  /** Writes the pending COMPLETE or ERROR, now or when room appears. */
  private writeEnd(): void {
    const ending = this.pendingEnd;
    if (!ending) return;
    const written =
      ending.kind === RecordKind.ERROR
        ? this.writeError(ending.error)
        : this.writer.tryWriteEmpty(RecordKind.COMPLETE);
    if (!written) {
      this.spacePump.start();
      this.updateRef();
      return;
    }
    this.pendingEnd = undefined;
    this.publish();
    this.maybeClose();
  }

  private writeError(error: unknown): boolean {
    const data = toErrorData(error);
    try {
      return this.writer.tryWrite(RecordKind.ERROR, ErrorRecord, data);
    } catch {
      // A stack too large for the ring: the message alone still crosses.
      return this.writer.tryWrite(RecordKind.ERROR, ErrorRecord, { ...data, stack: null, message: data.message.slice(0, 256) });
    }
  }

  /** One step of the space pump: room, or the reader gone. */
  private awaitRoom(): Step {
    if (this.writer.readerState() !== ReaderState.READING || this.peerGone) {
      this.readerLeft();
      return 'done';
    }
    if (!this.writer.hasRoom()) return 'idle';
    if (this.pendingEnd) {
      this.writeEnd();
      return this.pendingEnd ? 'idle' : 'done';
    }
    this.blocked = false;
    this.updateRef();
    this.sink.writable();
    // The sink may have ended the stream meanwhile, with no room for the ending: keep waiting for it.
    return this.blocked || this.pendingEnd ? 'idle' : 'done';
  }

  /** The reader stopped, refused the schema or is gone: close the outgoing side. */
  private readerLeft(): void {
    const state = this.writer.readerState();
    let err: Error;
    if (state === ReaderState.STOPPED) err = new TransportClosedError('the reader stopped: its last subscriber left');
    else if (state === ReaderState.REJECTED) err = rejection(readReason(this.txMemory));
    else err = this.watch.failure;
    this.closeOutgoing(err, state === ReaderState.STOPPED);
  }

  private closeOutgoing(err: Error, stopped: boolean): void {
    if (this.outDone && !this.pendingEnd && !this.blocked) {
      this.maybeClose();
      return;
    }
    this.outDone = true;
    this.pendingEnd = undefined;
    this.blocked = false;
    this.spacePump.stop();
    this.sink.writeClosed(err, stopped);
    this.maybeClose();
  }

  // ---- incoming -----------------------------------------------------------

  resume(): void {
    if (this.inDone) return;
    this.reading = true;
    if (!this.readPump.running) this.readPump.start();
    this.updateRef();
  }

  pause(): void {
    this.readPump.stop();
  }

  stop(): void {
    if (this.inDone) return;
    this.inDone = true;
    this.readPump.stop();
    this.reader.setState(ReaderState.STOPPED);
    this.maybeClose();
  }

  /** One step of the read pump: everything published so far, decoded, released, delivered. */
  private drain(): Step {
    if (this.inDone) return 'done';
    // A reply sent from a promise continuation since the last drain goes out now.
    if (this.writer.pending) this.publish();
    if (this.reader.available() === 0) {
      if (!this.peerGone) return 'idle';
      // The writer's thread is gone and everything it published has been read.
      this.fail(this.watch.failure);
      return 'done';
    }
    const values: T[] = [];
    let bytes = 0;
    let ending: { error?: Error } | undefined;
    try {
      this.reader.read((kind, data, start, end) => {
        if (ending) return;
        if (kind === RecordKind.NEXT) {
          if (!this.decoder) throw new FrameError('a value arrived before the writer said hello');
          values.push(this.decoder.decode(data, start, end));
          bytes += (end - start + RECORD_HEADER + 7) & ~7; // the record as it sits in the ring, padding included
        } else if (kind === RecordKind.HELLO) {
          this.decoder = readerForHello(this.codec, HelloRecord.decode(data, start, end));
        } else if (kind === RecordKind.COMPLETE) {
          ending = {};
        } else if (kind === RecordKind.ERROR) {
          ending = { error: new RemoteError(ErrorRecord.decode(data, start, end)) };
        } else {
          throw new FrameError(`unknown record kind ${kind}`);
        }
      });
    } catch (err) {
      ending = { error: err as Error };
      if (err instanceof SchemaMismatchError) {
        writeReason(this.rxMemory, ReaderState.REJECTED, 0, JSON.stringify({ path: err.path, reason: err.reason }));
      }
    }
    // Decoded values own their memory: give the bytes back before delivering.
    this.reader.release();
    this.received += values.length;
    this.receivedBytes += bytes;
    if (values.length > 0) this.sink.batch(values);
    this.publish();
    if (ending && !this.inDone) {
      if (ending.error) this.fail(ending.error);
      else this.finish();
      return 'done';
    }
    return this.inDone ? 'done' : 'progress';
  }

  private finish(): void {
    this.inDone = true;
    this.readPump.stop();
    this.sink.complete();
    this.maybeClose();
  }

  private fail(err: Error): void {
    if (this.inDone) return;
    this.inDone = true;
    this.readPump.stop();
    // Tell the writer to stop, unless the state already says why (REJECTED).
    if (this.reader.state() === ReaderState.READING) this.reader.setState(ReaderState.STOPPED);
    this.sink.error(err);
    this.maybeClose();
  }

  // ---- lifecycle ----------------------------------------------------------

  private readonly onLiveClosed = (): void => {
    if (this.closed) return;
    this.watch.linkClosed(!this.inDone || !this.outDone);
  };

  /** The other thread is gone: read what it published, then end both ways. */
  private peerLeft(): void {
    if (this.closed || this.peerGone) return;
    this.peerGone = true;
    if (!this.outDone || this.pendingEnd || this.blocked) this.readerLeft();
    if (!this.inDone) {
      if (this.reading) this.readPump.start();
      // Wake our own pump if it sleeps on the ring.
      Atomics.notify(this.rxMemory.header, this.reader.dataCell().index);
    }
    this.maybeClose();
  }

  private maybeClose(): void {
    const incomingOver = this.inDone || (this.peerGone && !this.reading);
    if (this.outDone && !this.pendingEnd && incomingOver) this.shutdown();
    else this.updateRef();
  }

  private shutdown(): void {
    if (this.closed) return;
    this.publish();
    this.closed = true;
    this.readPump.stop();
    this.spacePump.stop();
    this.watch.unwatch();
    this.live.off('close', this.onLiveClosed);
    this.live.close();
  }

  private updateRef(): void {
    if (this.closed) return;
    const waiting = this.holding || (this.reading && !this.inDone) || this.blocked || this.pendingEnd !== undefined;
    if (waiting) this.live.ref();
    else this.live.unref();
  }
}

function rejection(reason: string): Error {
  try {
    const { path, reason: why } = JSON.parse(reason) as { path: string; reason: string };
    return new SchemaMismatchError(path, `the reader refused this schema: ${why}`);
  } catch {
    return new FrameError(`the reader refused this end: ${reason}`);
  }
}
