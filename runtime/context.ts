/**
 * A worker's side of the runtime: its index, its peers, and `allocate`, which
 * opens one typed channel to every peer (itself included), as timely's
 * `Allocate` does. Used in a worker thread (process config) and in the
 * calling thread (thread config) alike.
 *
 * Links. A channel between workers i and j is one shared-memory pair (a ring
 * each way). The lower index makes it when it allocates the channel and
 * posts the other end over the mesh port between the two (a MessageChannel
 * the parent made for them); the higher index may allocate first, and then
 * holds a deferred end, whose `next` values wait and whose `send` waits,
 * until that end arrives. A worker's channel to itself is a pair whose both
 * ends it holds, so what it sends itself is encoded and checked as any other.
 * In a cluster, a worker of another process is reached over TCP instead (see
 * `RemoteLinks`, made by runtime/cluster.ts).
 */
import { merge, type Observable, type Observer } from 'rxjs';
import type { MessagePort } from 'node:worker_threads';
import { codec as codecOf, isCodec, type Codec } from '../core/codec';
import { DeferredChannel } from '../core/deferred-channel';
import { TransportClosedError } from '../core/errors';
import type { Infer, Schema } from '../core/schema';
import { WireSubject, type WireOptions } from '../core/wire-subject';
import type { WireStats } from '../core/channel';
import { transferList } from '../transports';
import { checkKnown, checkMaxQueue } from '../core/options';
import type { Failure } from '../threads/run';
import { channelKey, closeEnd, linkKind, type End, type LinkKind, type LinkOptions } from './link-kinds';

/** A channel's name: the same in every worker. */
export type ChannelId = string | number;

/** One worker's sender to one peer: an RxJS observer that can also wait for room. */
export interface Sender<T> extends Observer<T> {
  /** Sends `value`, waiting for room; rejects with the typed error (`EncodeError`, `TransportClosedError`). */
  send(value: T): Promise<void>;
  /** Sends `value` if there is room now; false when full. */
  trySend(value: T): boolean;
  /** This link's counters. */
  stats(): WireStats;
  /** The link has failed: a value this thread could not send (`EncodeError`, `FrameError`), the peer's error, the peer gone. */
  readonly hasError: boolean;
  /** Why, once `hasError`. */
  readonly thrownError: unknown;
}

/** What `allocate` gives: a sender per peer (index = peer), one receiver. */
export interface Channels<T> {
  /** `senders[j]` sends to worker j; `senders[index]` to this worker itself. */
  readonly senders: readonly Sender<T>[];
  /**
   * Everything the peers send this worker on this channel: FIFO per sender,
   * interleaved across senders. Completes when every peer's sender has
   * completed; errors when one errors (as `RemoteError`) or its worker dies.
   * Subscribe once: the links behind it are read by one subscriber.
   */
  readonly receiver: Observable<T>;
}

/** Options of `allocate`. */
export interface AllocateOptions extends LinkOptions {
  /**
   * What links the workers of one process: `'shm'` (default), a shared-memory
   * ring each way per pair of workers, or `'port'`, a MessageChannel per pair
   * (to compare, or where shared memory is not wanted). Workers of other
   * processes (a cluster) are always linked by TCP.
   */
  transport?: 'shm' | 'port';
  /**
   * Bytes of each ring (shm, a power of two) or of each link's window (port,
   * and TCP in a cluster). Default 256 KiB; on TCP, the transport's default
   * window (4 MiB).
   */
  bytes?: number;
  /** As `WireOptions.maxQueue`, per sender: values `next` may hold while a peer's ring is full. Default 65536. */
  maxQueue?: number;
}

/** Every key of AllocateOptions (core/options.ts `checkKnown`). */
export const ALLOCATE_OPTIONS: Record<keyof AllocateOptions, true> = { transport: true, bytes: true, wait: true, spinMicros: true, maxQueue: true };

/** What a worker module's default export gets. */
export interface WorkerContext {
  /** This worker's index, 0 ≤ index < peers. */
  readonly index: number;
  /** How many workers there are. */
  readonly peers: number;
  /**
   * Opens channel `channel` to every worker. Every worker must allocate the
   * same channels (by name, in any order) for their links to form.
   * @throws TypeError when this worker already allocated `channel`, or
   *   its function has settled (its channels are closed; a late `allocate`
   *   would open links nothing closes, and the program would not exit)
   */
  allocate<T>(channel: ChannelId, codec: Codec<T>, options?: AllocateOptions): Channels<T>;
  allocate<const S extends Schema>(channel: ChannelId, schema: S, options?: AllocateOptions): Channels<Infer<S>>;
}

/**
 * The mesh messages: one hands a peer its end of a channel; `finished` says
 * this worker's function has settled, with the channels it allocated: it
 * allocates nothing more (sent after every `link` it sent: a port keeps
 * order). A peer still links a channel the finished worker allocated (its
 * end waits there for the link); any other can never form.
 */
type MeshMessage = { type: 'link'; channel: string; end: End } | { type: 'finished'; allocated: string[] };

/**
 * The links of this worker to the workers of other processes (a cluster).
 * Every channel to such a peer is one WireSubject, both ways.
 */
export interface RemoteLinks {
  /** Whether worker `peer` runs in another process. */
  has(peer: number): boolean;
  /** Opens `channel` (a channel key) to worker `peer`; a link already gone gives a wire that fails at once. */
  open(peer: number, channel: string, codec: Codec<unknown>, options: WireOptions & { window?: number }): WireSubject<unknown>;
  /** Closes every link now (idempotent; the farewell is the runner's). */
  close(): Promise<void>;
}

interface Waiting {
  channel: DeferredChannel<unknown>;
  kind: LinkKind;
}

/** The runtime's `WorkerContext`. */
export class Peers {
  private readonly allocated = new Set<string>();
  private readonly wires: WireSubject<unknown>[] = [];
  /** Per peer: ends that arrived before this worker allocated their channel. */
  private readonly arrived: Map<string, End>[];
  /** Per peer: deferred links waiting for their end. */
  private readonly waiting: Map<string, Waiting>[];
  /** Per peer: why it will never link another channel (its thread is gone, or its function finished), or null. */
  private readonly gone: (string | null)[];
  /** This worker's function has settled: it allocates nothing more. */
  private finished = false;
  /** Per peer that finished: the channels it had allocated (it still takes their links). */
  private readonly finishedWith: (Set<string> | undefined)[] = [];

  /**
   * @param mesh per peer, the port to it (null for this worker itself, and
   *   for workers of other processes)
   * @param remote in a cluster, the links to the workers of other processes
   */
  constructor(
    readonly index: number,
    readonly peers: number,
    private readonly mesh: readonly (MessagePort | null)[],
    private readonly remote?: RemoteLinks,
  ) {
    this.arrived = mesh.map(() => new Map());
    this.waiting = mesh.map(() => new Map());
    this.gone = mesh.map(() => null);
    mesh.forEach((port, peer) => {
      if (!port) return;
      port.on('message', (message: MeshMessage) => (message?.type === 'finished' ? this.peerFinished(peer, message.allocated) : this.linkArrived(peer, message)));
      port.on('close', () => this.peerGone(peer, 'is gone'));
    });
  }

  /**
   * This object as the public `WorkerContext`. (Checking the class against
   * the interface's inferred-schema overload is too deep for tsc; the one
   * implementation below serves both overloads.)
   */
  asContext(): WorkerContext {
    return this as unknown as WorkerContext;
  }

  /** See `WorkerContext.allocate`. */
  allocate(channel: ChannelId, schema: unknown, options: AllocateOptions = {}): Channels<unknown> {
    const key = channelKey(channel);
    if (this.finished) {
      throw new TypeError(`allocate: worker ${this.index}'s function has settled; allocate its channels before its Promise or Observable ends`);
    }
    checkKnown(options, ALLOCATE_OPTIONS, 'allocate: options');
    if (this.allocated.has(key)) {
      throw new TypeError(`allocate: channel ${JSON.stringify(channel)} is already allocated in worker ${this.index}`);
    }
    const codec: Codec<unknown> = isCodec(schema) ? schema : (codecOf(schema as never) as Codec<unknown>);
    // Every option is checked before any link is made (linkKind checks the links' own).
    const kind = linkKind(codec, options);
    if (options.maxQueue !== undefined) checkMaxQueue(options.maxQueue, 'allocate: options.maxQueue');
    const wireOptions: WireOptions = { maxQueue: options.maxQueue, pauseReadsWhileQueued: false };
    const open = (end: End) => this.track(new WireSubject(kind.connect(end), codec, wireOptions));
    const senders: WireSubject<unknown>[] = [];
    const incoming: WireSubject<unknown>[] = [];
    for (let peer = 0; peer < this.peers; peer++) {
      if (peer === this.index) {
        const [out, back] = kind.pair();
        senders.push(open(out));
        const inward = open(back);
        inward.complete(); // this direction of the self link carries nothing
        incoming.push(inward);
      } else if (this.remote?.has(peer)) {
        const window = options.bytes;
        const wire = this.track(this.remote.open(peer, key, codec, window === undefined ? wireOptions : { ...wireOptions, window }));
        senders.push(wire);
        incoming.push(wire);
      } else if (this.index < peer && (this.gone[peer] === null || this.finishedWith[peer]?.has(key))) {
        const [mine, theirs] = kind.pair();
        const message: MeshMessage = { type: 'link', channel: key, end: theirs };
        this.mesh[peer]!.postMessage(message, transferList(theirs));
        const wire = open(mine);
        senders.push(wire);
        incoming.push(wire);
      } else {
        const wire = this.deferred(peer, key, codec, kind, wireOptions);
        senders.push(wire);
        incoming.push(wire);
      }
    }
    this.allocated.add(key);
    return { senders, receiver: merge(...incoming) };
  }

  /**
   * The worker's function has settled: every sender still open completes
   * (or, with a `failure`, errors with its error), and every link stops
   * reading, as when timely's worker drops its channels.
   */
  finish(failure?: Failure): void {
    for (const wire of this.wires) {
      if (failure) wire.error(failure.error);
      wire.close();
    }
    if (this.finished) return;
    // A channel this worker never allocated can never form: a peer waiting for its end of one fails now
    // (TransportClosedError, then WorkerError from join) instead of waiting for ever, and an end a peer sent
    // for one, now or later, is closed, which ends that peer's wire the same way.
    this.finished = true;
    for (const port of this.mesh) port?.postMessage({ type: 'finished', allocated: this.allocatedChannels() } satisfies MeshMessage);
    for (const ends of this.arrived) {
      for (const end of ends.values()) closeEnd(end);
      ends.clear();
    }
  }

  /** The keys of the channels this worker allocated (a remote peer links only those once it hears this worker finished). */
  allocatedChannels(): string[] {
    return [...this.allocated];
  }

  /** Closes the mesh, the remote links and any end that arrived for a channel never allocated here. */
  dispose(): void {
    this.finish();
    for (const port of this.mesh) port?.close();
    void this.remote?.close();
  }

  private deferred(peer: number, key: string, codec: Codec<unknown>, kind: LinkKind, options: WireOptions): WireSubject<unknown> {
    let channel!: DeferredChannel<unknown>;
    const subject = this.track(new WireSubject((sink) => (channel = new DeferredChannel(sink)), codec, options));
    const end = this.arrived[peer].get(key);
    if (end) {
      this.arrived[peer].delete(key);
      channel.connect(kind.connect(end));
    } else if (this.gone[peer] !== null) {
      channel.fail(goneError(peer, this.gone[peer]));
    } else {
      this.waiting[peer].set(key, { channel, kind });
    }
    return subject;
  }

  private linkArrived(peer: number, message: MeshMessage): void {
    if (message?.type !== 'link') return;
    const waiting = this.waiting[peer].get(message.channel);
    if (!waiting) {
      if (this.finished) closeEnd(message.end);
      else this.arrived[peer].set(message.channel, message.end);
      return;
    }
    this.waiting[peer].delete(message.channel);
    waiting.channel.connect(waiting.kind.connect(message.end));
  }

  /** Peer `peer`'s function settled, having allocated `allocated`: a channel it did not allocate can never link. */
  private peerFinished(peer: number, allocated: string[]): void {
    this.finishedWith[peer] = new Set(allocated);
    this.peerGone(peer, 'finished');
  }

  private peerGone(peer: number, why: string): void {
    this.gone[peer] ??= why;
    for (const { channel } of this.waiting[peer].values()) channel.fail(goneError(peer, this.gone[peer]));
    this.waiting[peer].clear();
  }

  private track<T>(wire: WireSubject<T>): WireSubject<T> {
    this.wires.push(wire as WireSubject<unknown>);
    return wire;
  }
}

function goneError(peer: number, why: string): TransportClosedError {
  return new TransportClosedError(`worker ${peer} ${why} before it allocated this channel`);
}
