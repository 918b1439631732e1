/**
 * The port transport: frames over a `MessagePort`, a `Worker` or a worker's
 * `parentPort`. Frames written in one turn of the event loop are coalesced
 * into one `postMessage`, whose buffer is transferred, not copied.
 *
 * ## Example
 * ```ts
 * import { Worker } from 'node:worker_threads';
 * import { codec, open } from 'rxwire';
 * import { port, transferList } from 'rxwire/transports';
 * const [here, there] = port.pair();
 * const worker = new Worker(file, { workerData: { end: there }, transferList: transferList(there) });
 * const wire = open(here, codec('string'), { worker });
 * ```
 *
 * Flow control is by credit: a writer may have `windowBytes` of frames that
 * the reader has not consumed (delivered to its subscribers); the reader
 * acknowledges in steps of a quarter window. So a slow reader holds the
 * writer's memory at about one window, and the reader's at the same.
 *
 * A `Worker` or `parentPort` end carries one WireSubject and nothing else
 * (any other message on it is a `FrameError`); `port.pair()` gives as many
 * independent links as needed.
 */
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import type { Channel, ChannelSink, WireStats } from '../../core/channel';
import type { Codec } from '../../core/codec';
import { FrameError, RemoteError, SchemaMismatchError, TransportClosedError, toErrorData } from '../../core/errors';
import { PeerWatch } from '../peer-watch';
import {
  AckRecord,
  ErrorRecord,
  FrameKind,
  FrameWriter,
  HelloRecord,
  RejectRecord,
  helloOf,
  FRAME_HEADER,
  isDataKind,
  parseFrames,
  readerForHello,
} from '../../core/frame';
import { describe as describeValue } from '../../core/errors';

/** An end of a port link, as it travels in `workerData` (with `transferList(end)`). */
export interface PortEnd {
  readonly transport: 'port';
  readonly port: MessagePort;
}

/** What `open` accepts as a port end: a pair's end, or a port, worker or `parentPort` itself. */
export type PortLike = PortEnd | MessagePort | Worker;

/** Options of the port transport (with `WireOptions`, given to `open`). */
export interface PortOptions {
  /** Bytes of NEXT frames (headers included) a writer may have in flight, unconsumed by the reader. Default 4 MiB. */
  windowBytes?: number;
  /** A batch is posted as soon as it reaches this size, without waiting for the turn to end. Default 64 KiB. */
  batchBytes?: number;
  /** The largest frame body (the bytes after the kind) either side accepts; a larger one is a `FrameError`. Default 64 MiB. */
  maxFrameBytes?: number;
  /**
   * The worker on the other side. Its `error` or `exit` ends this end with
   * `WorkerError` (message and stack) instead of a bare `TransportClosedError`.
   */
  worker?: Worker;
}

/** Makes a linked pair of port ends: keep one, hand the other to a worker. */
export function pair(): [PortEnd, PortEnd] {
  const { port1, port2 } = new MessageChannel();
  return [
    { transport: 'port', port: port1 },
    { transport: 'port', port: port2 },
  ];
}

/** Is `end` something the port transport can open? */
export function isPortLike(end: unknown): end is PortLike {
  if (typeof end !== 'object' || end === null) return false;
  if ((end as PortEnd).transport === 'port') return true;
  return typeof (end as MessagePort).postMessage === 'function' && typeof (end as MessagePort).on === 'function';
}

/** What must go in a `transferList` for `end` to reach a worker. */
export function portTransferList(end: PortEnd): MessagePort[] {
  return [end.port];
}

/** The moving parts a channel needs from a port, a worker or `parentPort`. */
interface Link {
  post(bytes: Uint8Array): void;
  listen(onMessage: (data: unknown) => void, onClose: () => void): void;
  /** Stops listening; closes the port when the link owns it. */
  close(): void;
  ref(): void;
  unref(): void;
}

function linkOf(end: PortLike): Link {
  const target = (end as PortEnd).transport === 'port' ? (end as PortEnd).port : (end as MessagePort | Worker);
  const isWorker = typeof (target as Worker).terminate === 'function';
  // Only a port of our own pair is ours to close; a Worker or parentPort is the user's.
  const owned = (end as PortEnd).transport === 'port';
  let onMessage: ((data: unknown) => void) | undefined;
  let onClose: (() => void) | undefined;
  return {
    post: (bytes) => target.postMessage(bytes, [bytes.buffer as ArrayBuffer]),
    listen: (message, close) => {
      onMessage = message;
      onClose = close;
      target.on('message', message);
      target.on(isWorker ? 'exit' : 'close', close);
    },
    close: () => {
      if (onMessage) target.off('message', onMessage);
      if (onClose) target.off(isWorker ? 'exit' : 'close', onClose);
      if (owned) (target as MessagePort).close();
    },
    ref: () => target.ref(),
    unref: () => {
      // Unref'ing a Worker object would let the process leave a running worker behind.
      if (!isWorker) target.unref();
    },
  };
}

/** Opens the port transport's channel; `open()` in lib calls this. */
export function connectPort<T>(end: PortLike, codec: Codec<T>, options: PortOptions = {}) {
  return (sink: ChannelSink<T>): Channel<T> => new PortChannel(linkOf(end), codec, sink, options);
}

const MiB = 1 << 20;

class PortChannel<T> implements Channel<T> {
  private readonly writer = new FrameWriter();
  private readonly windowBytes: number;
  private readonly batchBytes: number;
  private readonly maxFrameBytes: number;
  private flushScheduled: ReturnType<typeof setImmediate> | undefined;

  // Outgoing.
  private sentBytes = 0;
  private ackedBytes = 0;
  private sent = 0;
  private outDone = false;
  private blocked = false;

  // Incoming.
  private reader: Codec<T> | undefined;
  private peerWindow = 4 * MiB;
  private paused = true;
  private readonly held: Buffer[] = [];
  private inDone = false;
  /** The peer's COMPLETE or ERROR has been seen (it may still wait in `held`). */
  private peerEnded = false;
  /** Why the incoming stream ends once what is held has been delivered. */
  private failure: Error | undefined;
  /** The writer was refused (REJECT): nothing of its may be read. */
  private refused = false;
  private consumedBytes = 0;
  /** Bytes of NEXT frames that have arrived, held or not (to police the writer's window). */
  private nextBytesIn = 0;
  private helloSeen = false;
  private ackedSentBytes = 0;
  private received = 0;
  private receivedBytes = 0;

  private holding = false;
  private closed = false;

  constructor(
    private readonly link: Link,
    private readonly codec: Codec<T>,
    private readonly sink: ChannelSink<T>,
    options: PortOptions,
  ) {
    const { windowBytes = 4 * MiB, batchBytes = 64 * 1024, maxFrameBytes = 64 * MiB, worker } = options;
    this.windowBytes = positive(windowBytes, 'options.windowBytes');
    this.batchBytes = positive(batchBytes, 'options.batchBytes');
    this.maxFrameBytes = positive(maxFrameBytes, 'options.maxFrameBytes');
    this.watch = new PeerWatch(worker, () => this.onPeerGone());
    link.listen(
      (data) => this.onBatch(data),
      () => this.onLinkClosed(),
    );
    this.writer.write(FrameKind.HELLO, HelloRecord, helloOf(codec, this.windowBytes));
    this.scheduleFlush();
    this.updateRef();
  }

  // ---- outgoing -----------------------------------------------------------

  offer(value: T): boolean {
    if (this.outDone) throw new TransportClosedError('the outgoing stream is closed');
    if (this.sentBytes - this.ackedBytes >= this.windowBytes) {
      this.blocked = true;
      return false;
    }
    const before = this.writer.size;
    const bytes = this.writer.write(FrameKind.NEXT, this.codec, value);
    if (bytes - 5 > this.maxFrameBytes) {
      this.writer.truncate(before);
      throw new FrameError(`a value of ${bytes - 5} bytes exceeds options.maxFrameBytes (${this.maxFrameBytes})`);
    }
    this.sentBytes += bytes;
    this.sent++;
    if (this.writer.size >= this.batchBytes) this.flush();
    else this.scheduleFlush();
    return true;
  }

  complete(): void {
    if (this.outDone) return;
    this.outDone = true;
    this.writer.writeEmpty(FrameKind.COMPLETE);
    this.flush();
    this.maybeClose();
  }

  error(err: unknown): void {
    if (this.outDone) return;
    this.outDone = true;
    this.writer.write(FrameKind.ERROR, ErrorRecord, toErrorData(err));
    this.flush();
    this.maybeClose();
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
      inFlightBytes: this.sentBytes - this.ackedBytes,
    };
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = setImmediate(() => {
      this.flushScheduled = undefined;
      this.flush();
    });
  }

  private flush(): void {
    if (this.flushScheduled) {
      clearImmediate(this.flushScheduled);
      this.flushScheduled = undefined;
    }
    if (this.writer.size === 0 || this.closed) return;
    this.link.post(this.writer.take());
    this.sink.flushed();
  }

  // ---- incoming -----------------------------------------------------------

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.updateRef();
    while (this.held.length > 0 && !this.inDone) {
      const scan = this.scan(this.held.shift()!, false, true);
      this.deliver(scan);
    }
    if (this.failure && !this.inDone) this.fail(this.failure);
  }

  pause(): void {
    if (this.inDone || this.paused) return;
    this.paused = true;
    this.updateRef();
  }

  stop(): void {
    if (this.inDone) return;
    this.inDone = true;
    this.held.length = 0;
    if (!this.peerEnded) {
      this.writer.writeEmpty(FrameKind.STOP);
      this.flush();
    }
    this.maybeClose();
  }

  private onBatch(data: unknown): void {
    if (!(data instanceof Uint8Array)) {
      this.protocolError(new FrameError(`expected a batch of frames, got ${describeValue(data)}`));
      return;
    }
    const batch = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    // One pass: control frames act at once; data frames are decoded now, or
    // held (undecoded, unacknowledged) until the first subscriber.
    const scan = this.scan(batch, true, !this.paused);
    if (this.paused) {
      if (!this.inDone && !this.refused && scan.goodEnd > 0) this.held.push(batch.subarray(0, scan.goodEnd));
    } else {
      this.deliver(scan);
    }
    if (scan.bad) this.protocolError(scan.bad);
  }

  /**
   * Walks a batch's frames. With `control`, acts on control frames and
   * polices the writer; with `data`, decodes values up to the stream's end.
   * A frame error stops the walk: what came before it stands.
   */
  private scan(batch: Buffer, control: boolean, data: boolean): Scan<T> {
    const result: Scan<T> = { values: [], bytes: 0, ending: undefined, goodEnd: 0, bad: undefined };
    try {
      parseFrames(
        batch,
        (kind, start, end) => {
          if (control) this.police(kind, batch, start, end);
          if (data && isDataKind(kind) && !result.ending && !this.inDone && !this.refused) {
            this.readData(kind, batch, start, end, result);
          }
          result.goodEnd = end;
        },
        this.maxFrameBytes,
      );
    } catch (err) {
      result.bad = err as Error;
    }
    return result;
  }

  /** Acts on control frames; checks that data frames keep to the protocol. */
  private police(kind: FrameKind, batch: Buffer, start: number, end: number): void {
    switch (kind) {
      case FrameKind.NEXT:
        this.nextBytesIn += end - start + FRAME_HEADER;
        if (this.nextBytesIn - this.ackedSentBytes > this.peerWindow + this.maxFrameBytes + FRAME_HEADER) {
          throw new FrameError(`the writer overran its window of ${this.peerWindow} bytes`);
        }
        return;
      case FrameKind.COMPLETE:
        expectEmpty(kind, start, end);
        this.peerEnded = true;
        return;
      case FrameKind.ERROR:
        this.peerEnded = true;
        return;
      case FrameKind.ACK: {
        const acked = AckRecord.decode(batch, start, end);
        if (acked < this.ackedBytes || acked > this.sentBytes) {
          throw new FrameError(`ACK of ${acked} bytes is outside [${this.ackedBytes}, ${this.sentBytes}]`);
        }
        this.ackedBytes = acked;
        if (this.blocked && this.sentBytes - this.ackedBytes < this.windowBytes) {
          this.blocked = false;
          this.sink.writable();
        }
        return;
      }
      case FrameKind.STOP:
        expectEmpty(kind, start, end);
        this.closeOutgoing(new TransportClosedError('the reader stopped: its last subscriber left'), true);
        return;
      case FrameKind.REJECT: {
        const reject = RejectRecord.decode(batch, start, end);
        const err =
          reject.path === PROTOCOL_PATH
            ? new FrameError(`the reader refused this end: ${reject.message}`)
            : new SchemaMismatchError(reject.path, `the reader refused this schema: ${reject.message}`);
        this.closeOutgoing(err, false);
        return;
      }
      case FrameKind.HELLO: {
        if (this.helloSeen) throw new FrameError('a second HELLO on one link');
        this.helloSeen = true;
        const hello = HelloRecord.decode(batch, start, end);
        this.peerWindow = hello.window;
        try {
          this.reader = readerForHello(this.codec, hello);
        } catch (err) {
          this.refuse(err as Error, err instanceof SchemaMismatchError ? err.path : PROTOCOL_PATH);
        }
        return;
      }
    }
  }

  /** Decodes one data frame into `into`; a value that does not decode ends the stream. */
  private readData(kind: FrameKind, batch: Buffer, start: number, end: number, into: Scan<T>): void {
    try {
      if (kind === FrameKind.NEXT) {
        if (!this.reader) throw new FrameError('a value arrived before the writer said hello');
        into.values.push(this.reader.decode(batch, start, end));
        into.bytes += end - start + FRAME_HEADER;
      } else if (kind === FrameKind.COMPLETE) {
        into.ending = {};
      } else {
        into.ending = { error: new RemoteError(ErrorRecord.decode(batch, start, end)) };
      }
    } catch (err) {
      into.ending = { error: err as Error };
      this.refuseFurther();
    }
  }

  /** Hands decoded values to the sink, then acknowledges them or ends the stream. */
  private deliver(scan: Scan<T>): void {
    const { values, bytes, ending } = scan;
    this.received += values.length;
    this.receivedBytes += bytes;
    if (values.length > 0) this.sink.batch(values);
    if (this.inDone) return;
    if (ending) {
      this.inDone = true;
      if (ending.error) this.sink.error(ending.error);
      else this.sink.complete();
      this.updateRef();
      this.maybeClose();
      return;
    }
    this.consumedBytes += bytes;
    if (this.consumedBytes - this.ackedSentBytes >= Math.max(1, Math.floor(this.peerWindow / 4))) {
      this.ackedSentBytes = this.consumedBytes;
      this.writer.write(FrameKind.ACK, AckRecord, this.consumedBytes);
      this.scheduleFlush();
    }
  }

  /** The writer's schema or protocol cannot be read: tell it, and fail our subscribers. */
  private refuse(err: Error, path: string): void {
    const reason = err instanceof SchemaMismatchError ? err.reason : err.message;
    this.writer.write(FrameKind.REJECT, RejectRecord, { path, message: reason });
    this.flush();
    this.held.length = 0;
    this.refused = true;
    this.failure = err;
    if (!this.paused) this.fail(err);
  }

  private refuseFurther(): void {
    if (this.peerEnded) return;
    this.writer.writeEmpty(FrameKind.STOP);
    this.scheduleFlush();
  }

  /** Malformed bytes on the link: both directions end with the error. */
  private protocolError(err: Error): void {
    this.refuseFurther();
    this.failure ??= err;
    this.closeOutgoing(err, false);
    if (!this.paused) this.fail(err);
  }

  private fail(err: Error): void {
    if (this.inDone) return;
    this.inDone = true;
    this.held.length = 0;
    this.sink.error(err);
    this.updateRef();
    this.maybeClose();
  }

  private closeOutgoing(err: Error, stopped: boolean): void {
    if (this.outDone) return;
    this.outDone = true;
    this.sink.writeClosed(err, stopped);
    this.maybeClose();
  }

  // ---- lifecycle ----------------------------------------------------------

  private readonly watch: PeerWatch;

  private onLinkClosed(): void {
    if (this.closed) return;
    this.watch.linkClosed(!this.inDone || !this.outDone);
  }

  private onPeerGone(): void {
    if (this.closed) return;
    const err = this.watch.failure;
    if (!this.inDone) {
      // Whatever arrived before the end was seen is still delivered.
      if (!this.paused) this.fail(err);
      else this.failure ??= err;
    }
    this.closeOutgoing(err, false);
    this.shutdown();
  }

  private maybeClose(): void {
    // While paused, what is held stays readable after the link closes.
    const incomingOver = this.inDone || (this.paused && (this.peerEnded || this.failure !== undefined));
    if (this.outDone && incomingOver) this.shutdown();
    else this.updateRef();
  }

  private shutdown(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.watch.unwatch();
    this.link.close();
  }

  private updateRef(): void {
    if (this.closed) return;
    const waiting = this.holding || (!this.paused && !this.inDone) || (this.blocked && !this.outDone);
    if (waiting) this.link.ref();
    else this.link.unref();
  }
}

/** What one walk over a batch found. */
interface Scan<T> {
  values: T[];
  /** Bytes of the NEXT frames decoded. */
  bytes: number;
  /** The stream's end, if the batch held it (`error` unset for complete). */
  ending: { error?: Error } | undefined;
  /** Where the last well-formed frame ends. */
  goodEnd: number;
  /** The frame error that stopped the walk, if any. */
  bad: Error | undefined;
}

/** The REJECT path that means "wrong protocol", not a schema field. */
const PROTOCOL_PATH = '<protocol>';

function expectEmpty(kind: FrameKind, start: number, end: number): void {
  if (end !== start) throw new FrameError(`frame kind 0x${kind.toString(16)} must have an empty body, has ${end - start} bytes`);
}

function positive(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer`);
  return value;
}
