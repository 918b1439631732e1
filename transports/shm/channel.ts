/**
 * A WireSubject's channel over two shared rings, one per direction. After
 * setup nothing is posted: values are encoded straight into the ring with
 * `codec.encodeInto` and decoded straight out of it.
 *
 * Records: HELLO first from each writer (the schema, as on every transport),
 * then NEXT values, then COMPLETE or ERROR. The reader's answer travels in the
 * ring's header, not as records: its cursor is the acknowledgement, and its
 * state word says STOPPED (last subscriber left), REJECTED (schema refused,
 * reason in the header) or GONE. The writing direction is ./writing.ts; this
 * file reads, and ends the channel.
 *
 * Liveness: each end holds one port of a MessageChannel that carries no
 * message; when a thread dies its port closes and the other end is told.
 */
import type { MessagePort, Worker } from 'node:worker_threads';
import type { Channel, ChannelSink, ChannelStats } from '../../core/channel';
import type { Codec } from '../../core/codec';
import { FrameError, RemoteError, SchemaMismatchError } from '../../core/errors';
import { ErrorRecord, HelloRecord, readerForHello } from '../../core/frame';
import { PeerWatch } from '../peer-watch';
import { RECORD_HEADER, RecordKind, ReaderState, align, mapRing, stillReading, writeReason, type RingMemory } from './layout';
import { RingReader } from './ring';
import { Pump, checkStrategy, type Step, type WaitStrategy } from './wait';
import { Writing } from './writing';

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

export class ShmChannel<T> implements Channel<T> {
  private readonly out: Writing<T>;
  private readonly reader: RingReader;
  private readonly rxMemory: RingMemory;
  private readonly readPump: Pump;
  private readonly live: MessagePort;

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
    this.rxMemory = mapRing(link.rx);
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
    this.out = new Writing(mapRing(link.tx), codec, {
      sink,
      peerGone: () => (this.peerGone ? this.watch.failure : undefined),
      changed: () => this.maybeClose(),
    }, pumpOptions);
    this.live.on('close', this.onLiveClosed);
    this.watch = new PeerWatch(worker, () => this.peerLeft());
    this.updateRef();
  }

  // ---- outgoing -----------------------------------------------------------

  offer(value: T): boolean {
    return this.out.offer(value);
  }

  complete(): void {
    this.out.end({ kind: RecordKind.COMPLETE });
  }

  error(err: unknown): void {
    this.out.end({ kind: RecordKind.ERROR, error: err });
  }

  hold(waiting: boolean): void {
    this.holding = waiting;
    this.updateRef();
  }

  stats(): ChannelStats {
    return {
      sent: this.out.sent,
      sentBytes: this.out.sentBytes,
      received: this.received,
      receivedBytes: this.receivedBytes,
      inFlightBytes: this.out.inFlightBytes,
      held: this.out.heldValues,
    };
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
    this.out.publish();
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
          bytes += align(end - start + RECORD_HEADER); // the record as it sits in the ring, padding included
        } else if (kind === RecordKind.HELLO) {
          this.decoder = readerForHello(this.codec, HelloRecord.decode(data, start, end));
          // The schema is accepted: the writer may publish its values.
          if (this.reader.state() === ReaderState.READING) this.reader.setState(ReaderState.ACCEPTED);
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
    this.out.publish();
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
    if (stillReading(this.reader.state())) this.reader.setState(ReaderState.STOPPED);
    this.sink.error(err);
    this.maybeClose();
  }

  // ---- lifecycle ----------------------------------------------------------

  private readonly onLiveClosed = (): void => {
    if (this.closed) return;
    this.watch.linkClosed(!this.inDone || !this.out.done);
  };

  /** The other thread is gone: read what it published, then end both ways. */
  private peerLeft(): void {
    if (this.closed || this.peerGone) return;
    this.peerGone = true;
    if (!this.out.done || this.out.owes || this.out.blocked) this.out.readerLeft();
    if (!this.inDone) {
      if (this.reading) this.readPump.start();
      // Wake our own pump if it sleeps on the ring.
      Atomics.notify(this.rxMemory.header, this.reader.dataCell().index);
    }
    this.maybeClose();
  }

  private maybeClose(): void {
    const incomingOver = this.inDone || (this.peerGone && !this.reading);
    if (this.out.done && !this.out.owes && incomingOver) this.shutdown();
    else this.updateRef();
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.out.stop();
    this.readPump.stop();
    this.watch.unwatch();
    this.live.off('close', this.onLiveClosed);
    this.live.close();
  }

  private updateRef(): void {
    if (this.closed) return;
    const waiting = this.holding || (this.reading && !this.inDone) || this.out.blocked || this.out.owes;
    if (waiting) this.live.ref();
    else this.live.unref();
  }
}
