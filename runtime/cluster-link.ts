/**
 * The parts of a cluster's links that both ends share: who is where
 * (`Layout`), and one connection to a worker of another process with its
 * control channel (`Link`). See runtime/cluster.ts for the design.
 */
import type * as tcp from '../transports/tcp';
import { codec, type ValueOf } from '../core/codec';
import { TransportClosedError } from '../core/errors';
import type { WireSubject } from '../core/wire-subject';
import type { ClusterConfig } from './config';
import { formatHost, type HostAddress } from './hosts';
import { neverAllocated } from './link-kinds';

/** The control channel's name on every link (channel keys start with `s:` or `n:`). */
const CONTROL = 'rxwire:cluster';

const Control = codec({
  type: 'record',
  name: 'ClusterControl',
  fields: [
    { name: 'kind', type: { type: 'enum', name: 'ClusterControlKind', symbols: ['hello', 'done'] } },
    { name: 'index', type: 'int' },
    { name: 'peers', type: 'int' },
    { name: 'workers', type: 'int' },
    // On `done`: the channel keys this worker allocated (a channel it did not can never form; see cluster.ts).
    { name: 'allocated', type: { type: 'array', items: 'string' }, default: [] },
    // On `done`: false when the list was too long to send (`allocated` is then empty and means nothing).
    { name: 'listed', type: 'boolean', default: true },
  ],
} as const);
export type ControlMessage = ValueOf<typeof Control>;

/** Who is where: indices, processes and addresses of one cluster, seen from one worker. */
export class Layout {
  readonly peers: number;
  readonly workers: number;
  readonly process: number;
  /** Remote workers that connect to this one (lower indices, other processes). */
  readonly lower: number[] = [];
  /** Remote workers this one connects to (higher indices, other processes). */
  readonly higher: number[] = [];

  constructor(
    readonly config: ClusterConfig,
    readonly index: number,
  ) {
    this.workers = config.workers;
    this.process = config.process;
    this.peers = config.hosts.length * config.workers;
    for (let peer = 0; peer < this.peers; peer++) {
      if (this.processOf(peer) === this.process) continue;
      (peer < index ? this.lower : this.higher).push(peer);
    }
  }

  processOf(peer: number): number {
    return Math.floor(peer / this.workers);
  }

  /** Where worker `peer` listens. */
  address(peer: number): HostAddress {
    const { host, port } = this.config.hosts[this.processOf(peer)];
    return { host, port: port + (peer % this.workers) };
  }

  /** `worker 2 (process 1, 127.0.0.1:2103)`, for messages. */
  describe(peer: number): string {
    return `worker ${peer} (process ${this.processOf(peer)}, ${formatHost(this.address(peer))})`;
  }

  hello(): ControlMessage {
    return { kind: 'hello', index: this.index, peers: this.peers, workers: this.workers, allocated: [], listed: true };
  }

  /** Why a peer's hello does not fit this cluster, if it does not. */
  misfit(hello: ControlMessage): RangeError | undefined {
    if (hello.peers === this.peers && hello.workers === this.workers) return undefined;
    return new RangeError(
      `cluster: worker ${hello.index} belongs to a cluster of ${hello.peers} workers (${hello.workers} per process), ` +
        `worker ${this.index} to one of ${this.peers} (${this.workers} per process): every process needs the same hosts and workers`,
    );
  }
}

/** One connection to a worker of another process, with its control channel. */
export class Link {
  peer = -1;
  /** The peer's hello; rejects when the connection ends first. */
  readonly hello: Promise<ControlMessage>;
  /** Resolves when the peer said `done` or the connection is gone. */
  readonly settled: Promise<void>;
  /** Why the connection is gone, once it is. */
  goneError: Error | undefined;
  peerDone = false;
  /** Once the peer said `done` with its list: the channels it allocated; it will never open another. */
  peerAllocated: ReadonlySet<string> | undefined;
  /** The channels opened on this link here. */
  readonly opened = new Set<string>();
  /** Called once if the connection goes before the peer said `done`. */
  onLost: ((err: Error) => void) | undefined;
  private readonly control: WireSubject<ControlMessage>;
  private readonly settle: () => void;
  private readonly helloFailed: (err: Error) => void;
  private closing: Promise<void> | undefined;

  constructor(readonly conn: tcp.TcpConnection) {
    let helloArrived!: (message: ControlMessage) => void;
    let helloFailed!: (err: Error) => void;
    this.hello = new Promise((resolve, reject) => {
      helloArrived = resolve;
      helloFailed = reject;
    });
    this.helloFailed = helloFailed;
    this.hello.catch(() => {}); // read by whoever waits for it
    let settle!: () => void;
    this.settled = new Promise((resolve) => (settle = resolve));
    this.settle = settle;
    this.control = conn.open(CONTROL, Control, { pauseReadsWhileQueued: false });
    this.control.subscribe({
      next: (message) => {
        if (message.kind === 'hello') return helloArrived(message);
        this.peerDone = true;
        if (message.listed) {
          this.peerAllocated = new Set(message.allocated);
          for (const channel of this.opened) if (!this.peerAllocated.has(channel)) this.conn.neverOpened(channel, neverAllocated(this.peer));
        }
        this.settle();
      },
      error: (err: Error) => this.gone(err),
      complete: () => this.helloFailed(new TransportClosedError('the peer ended its control channel without a hello')),
    });
    conn.closed.then(
      () => this.gone(new TransportClosedError('the connection closed')),
      (err: Error) => this.gone(err),
    );
  }

  say(message: ControlMessage): void {
    this.control.next(message);
    if (message.kind === 'done') this.control.complete();
  }

  close(): Promise<void> {
    // Closing a connection that is already gone has nothing to report.
    return (this.closing ??= this.conn.close().catch(() => {}));
  }

  private gone(err: Error): void {
    if (this.goneError) return;
    this.goneError = err;
    this.helloFailed(err);
    this.settle();
    if (!this.peerDone) this.onLost?.(err);
  }
}
