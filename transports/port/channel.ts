/**
 * A port channel: the core session (core/session.ts) over a `MessagePort`.
 * This file is only the port's own part: frames (core/frame.ts) written into
 * one buffer per batch (core/batcher.ts decides when it goes), posted with
 * its memory transferred, and each posted batch parsed (core/frame-reader.ts)
 * and fed to the session.
 */
import type { Worker } from 'node:worker_threads';
import { Batcher } from '../../core/batcher';
import type { Channel, ChannelSink } from '../../core/channel';
import type { Codec } from '../../core/codec';
import { FrameError, describe as describeValue } from '../../core/errors';
import { FRAME_HEADER, FRAME_LAYOUT, FrameKind, FrameWriter, HelloRecord, MAX_WINDOW, decodeFrameValue, helloOf } from '../../core/frame';
import { FrameReader } from '../../core/frame-reader';
import { Session } from '../../core/session';
import type { SessionTransport } from '../../core/session-transport';
import { PeerWatch } from '../peer-watch';
import { batchBytes, type Link } from './link';

/** Options of the port transport (with `WireOptions`, given to `open`). */
export interface PortOptions {
  /**
   * Bytes of NEXT frames (headers included) this end may have in flight,
   * unconsumed by the reader; announced in HELLO, so the reader paces its
   * ACKs by it. Default 4 MiB.
   */
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

const MiB = 1 << 20;
/**
 * A batch of at most this many bytes is posted as a latin1 string (copied;
 * the writer keeps its buffer); a larger one hands over the writer's own
 * buffer, transferred, uncopied. Measured on the port round trip of one
 * Trade (CPU profiles of both threads, bench/README.md): posting the
 * writer's transferred 4 KiB buffer made `postMessage` a quarter of each
 * thread's time, and the round trip p50 about 1.3× raw postMessage's.
 */
const COPY_BELOW = 2048;

/** Opens a session over `link`; `connectPort` gives this to WireSubject. */
export function openPortChannel<T>(link: Link, codec: Codec<T>, sink: ChannelSink<T>, options: PortOptions): Channel<T> {
  const { windowBytes = 4 * MiB, batchBytes = 64 * 1024, maxFrameBytes = 64 * MiB, worker } = options;
  const window = positive(windowBytes, 'options.windowBytes', MAX_WINDOW);
  const maxFrame = positive(maxFrameBytes, 'options.maxFrameBytes');
  const transport = new PortTransport(link, sink, positive(batchBytes, 'options.batchBytes'), maxFrame);
  const session = new Session(transport, codec, sink, { window, announces: 'send', maxFrame, nextOverhead: FRAME_HEADER });
  transport.start(session, helloOf(codec, window), worker);
  return session;
}

class PortTransport implements SessionTransport {
  private readonly writer = new FrameWriter();
  private readonly batcher: Batcher;
  private readonly reader: FrameReader;
  private session!: Session<unknown>;
  private watch!: PeerWatch;
  private closed = false;

  constructor(
    private readonly link: Link,
    private readonly sink: ChannelSink<unknown>,
    batchBytes: number,
    readonly maxValueBytes: number,
  ) {
    this.batcher = new Batcher(() => this.post(), batchBytes, true);
    this.reader = new FrameReader(FRAME_LAYOUT, (buf, start, end) => this.onFrame(buf, start, end), maxValueBytes);
  }

  /** Says HELLO and starts listening. */
  start<T>(session: Session<T>, hello: ReturnType<typeof helloOf>, worker: Worker | undefined): void {
    this.session = session as Session<unknown>;
    this.watch = new PeerWatch(worker, () => this.session.peerGone(this.watch.failure));
    this.link.listen(
      (data) => this.onBatch(data),
      () => this.onLinkClosed(),
    );
    this.write(FrameKind.HELLO, HelloRecord, hello);
    session.hold(false);
  }

  write<V>(kind: FrameKind, body?: Codec<V>, value?: V): number {
    if (this.closed) return 0;
    const bytes = this.writer.writeWithin(kind, this.maxValueBytes, body, value);
    if (bytes < 0) throw new FrameError(`a value of ${-bytes} bytes exceeds options.maxFrameBytes (${this.maxValueBytes})`);
    this.batcher.wrote(this.writer.size);
    return bytes;
  }

  flush(): void {
    this.batcher.flush();
  }

  readonly decodeNext = decodeFrameValue;

  keepAlive(waiting: boolean): void {
    if (this.closed) return;
    if (waiting) this.link.ref();
    else this.link.unref();
  }

  close(): void {
    if (this.closed) return;
    this.batcher.flush();
    this.closed = true;
    this.watch.unwatch();
    this.link.close();
  }

  private post(): void {
    if (this.writer.size === 0 || this.closed) return;
    const { writer } = this;
    this.link.post(writer.size <= COPY_BELOW ? writer.takeLatin1() : writer.take());
    this.sink.flushed();
  }

  /** One posted batch: each frame to the session, then what it decoded to the subscribers. */
  private onBatch(data: unknown): void {
    const { session } = this;
    this.batcher.newTurn();
    const batch = batchBytes(data);
    if (!batch) {
      session.protocolError(new FrameError(`expected a batch of frames, got ${describeValue(data)}`));
      return;
    }
    try {
      this.reader.readBatch(batch);
    } catch (err) {
      // What came before the bad frame stands.
      session.deliver();
      session.protocolError(err as Error);
      return;
    }
    session.deliver();
  }

  private onFrame(buf: Buffer, start: number, end: number): void {
    const kind = buf[start + 4] as FrameKind;
    if (kind === FrameKind.HELLO) this.session.hello(HelloRecord.decode(buf, start + FRAME_HEADER, end));
    else this.session.receive(kind, buf, start + FRAME_HEADER, end);
  }

  private onLinkClosed(): void {
    if (this.closed) return;
    this.watch.linkClosed(true);
  }
}

function positive(value: number, name: string, most = Number.POSITIVE_INFINITY): number {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer`);
  if (value > most) throw new RangeError(`${name} must be at most ${most}`);
  return value;
}
