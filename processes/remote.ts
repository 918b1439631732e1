/**
 * `startClusterNode`: a node of lightweight processes that is also a node of
 * a cluster — it listens for other nodes and connects to them over TCP
 * (transports/tcp: the one session, with its handshake, optional shared
 * secret and heartbeat), so that `spawn(entry, capture, { node })`, `send`,
 * `request`, `link`, `monitor`, `kill`, `register` and `lookup(name, entry,
 * { node })` reach processes of the other nodes.
 *
 * One connection per pair of nodes, made by either (`peers`, `connect`),
 * carrying the channel `rxwire.node` of NodeFrames (processes/remote-frame.ts;
 * docs/PROTOCOL.md, "Remote processes"). Each side first says HELLO (its id,
 * its own thread's index, the id block it grants the other's spawns).
 *
 * The node's own thread (the one that called `startClusterNode`) is its
 * gateway: it holds the connections, and calls to another node's processes
 * are made there — from this thread's code (`node.*`) and from processes it
 * hosts (`placement: { thread: node.threads }`, or every process of a node
 * with `threads: 0`). A call to another node from a worker thread fails
 * with `UnknownNodeError`. What arrives from another node is served for
 * processes on every thread. A remote spawn runs on the other node's own
 * thread.
 */
import { Subscription } from 'rxjs';
import { NodeClosedError, NodeUnreachableError } from '../core/errors';
import type { WireSubject } from '../core/wire-subject';
import { connect, listen, type HeartbeatOptions, type TcpConnection, type TcpServer } from '../transports/tcp';
import { startLocalNode, type Node } from './node';
import { NODE_CHANNEL, NodeFrameCodec, nodeFrame, NodeKind, SPAWN_BLOCK, type NodeFrame } from './remote-frame';
import { receiveFrame } from './remote-inbound';
import { RemotePeer } from './remote-peer';
import type { Scheduler } from './scheduler';
import type { EntryCodecs, EntryLike, LookupOptions, NodeOptions, Process, ProcessNode, ProcessRef, SpawnOptions } from './types';

/** Where another node listens. */
export interface NodeAddress {
  /** Its address. Default `127.0.0.1`. */
  host?: string;
  /** Its port. */
  port: number;
}

/** Options of `startClusterNode`: those of `startNode`, plus how it meets other nodes. */
export interface ClusterNodeOptions extends NodeOptions {
  /**
   * The node's id in the cluster (in every ProcessRef, and what
   * `SpawnOptions.node` / `LookupOptions.node` name). Required, unique in
   * the cluster.
   */
  id: string;
  /** Listen for other nodes on `{ host, port }` (port 0: an ephemeral one, see `node.port`). Default: do not listen. */
  listen?: { host?: string; port?: number };
  /** Nodes to connect to before the Promise resolves. Default none. */
  peers?: NodeAddress[];
  /** A shared secret every node of the cluster has (TCP's HMAC handshake; it never crosses the wire). Default none. */
  secret?: string | Buffer;
  /**
   * How a node that goes silent with its socket open is noticed (TCP's
   * heartbeat): past `timeout` ms of silence its link drops, as if its
   * socket had closed. Default `{ interval: 5000, timeout: 15000 }`.
   */
  heartbeat?: boolean | HeartbeatOptions;
}

/** A running cluster node: a ProcessNode whose processes reach the processes of its linked nodes. */
export interface ClusterNode extends ProcessNode {
  /** The port it listens on (undefined when it does not listen). */
  readonly port: number | undefined;
  /**
   * Connects to the node at `address`; resolves with its id.
   * @throws NodeUnreachableError (rejects) when the connection is refused or its handshake fails (another secret, not a node, a node of the same id, or one already linked)
   */
  connect(address: NodeAddress): Promise<string>;
  /** The ids of the nodes linked now. */
  nodes(): string[];
}

/**
 * Starts a cluster node: a process node (`startNode`'s threads and rings)
 * that listens and connects as `options` say. Resolves once it listens and
 * every `peers` node is linked.
 *
 * ## Example
 * ```ts
 * import { startClusterNode } from 'rxwire/processes';
 * import { counter } from './counter';
 * const a = await startClusterNode({ id: 'a', threads: 0, listen: { port: 7100 } });
 * const b = await startClusterNode({ id: 'b', threads: 0, peers: [{ port: 7100 }] });
 * const c = b.spawn(counter, 0, { node: 'a' });   // runs on node a
 * console.log(await c.request(5));                // 5
 * await b.close(); await a.close();
 * ```
 *
 * @throws RangeError / TypeError (rejects) for a bad option
 * @throws NodeUnreachableError (rejects) when a `peers` node cannot be linked (the node is closed again)
 */
export async function startClusterNode(options: ClusterNodeOptions): Promise<ClusterNode> {
  const { listen: listenOn, peers = [], secret, heartbeat, ...local } = options;
  if (typeof local.id !== 'string' || local.id === '') throw new TypeError('startClusterNode: options.id must be a non-empty string');
  if (!Array.isArray(peers)) throw new TypeError('startClusterNode: options.peers must be an array of { host, port }');
  const node = new Cluster(startLocalNode(local), { secret, heartbeat });
  try {
    if (listenOn) await node.listen(listenOn);
    for (const peer of peers) await node.connect(peer);
  } catch (err) {
    await node.close();
    throw err;
  }
  return node;
}

class Cluster implements ClusterNode {
  private readonly s: Scheduler;
  private readonly peers = new Map<string, RemotePeer>();
  private readonly conns = new Set<TcpConnection>();
  private readonly subs = new Subscription();
  private server: TcpServer | undefined;
  private lastSlot = 0;
  private lastMonitor = 0;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly local: Node,
    private readonly tcp: { secret?: string | Buffer; heartbeat?: boolean | HeartbeatOptions },
  ) {
    this.s = local.here.scheduler;
    this.s.remote = { to: (id) => this.peers.get(id) };
  }

  get id(): string {
    return this.local.id;
  }

  get threads(): number {
    return this.local.threads;
  }

  get port(): number | undefined {
    return this.server?.port;
  }

  nodes(): string[] {
    return [...this.peers.keys()];
  }

  spawn<C, M, R = never>(entry: EntryLike<C, M, R>, capture: C, options?: SpawnOptions): Process<M, R> {
    return this.local.spawn(entry, capture, options);
  }

  handle<M, R = never>(ref: ProcessRef, entry: EntryCodecs<unknown, M, R>): Process<M, R> {
    return this.local.handle(ref, entry);
  }

  lookup<M, R = never>(name: string, entry: EntryCodecs<unknown, M, R>, options?: LookupOptions): Promise<Process<M, R> | undefined> {
    return this.local.lookup(name, entry, options);
  }

  counts(): Promise<number[]> {
    return this.local.counts();
  }

  async listen(on: { host?: string; port?: number }): Promise<void> {
    this.server = await listen({ host: on.host, port: on.port ?? 0, ...this.tcp });
    this.subs.add(this.server.connections$.subscribe((conn) => void this.join(conn, `${conn.remoteAddress}:${conn.remotePort}`).catch(() => conn.close())));
  }

  async connect(address: NodeAddress): Promise<string> {
    if (this.closing) throw new NodeClosedError('connect: the node is closed');
    const host = address?.host ?? '127.0.0.1';
    let conn: TcpConnection;
    try {
      conn = await connect({ host, port: address?.port, ...this.tcp });
    } catch (err) {
      if (err instanceof RangeError || err instanceof TypeError) throw err;
      throw new NodeUnreachableError(`${host}:${address.port}`, `connect: cannot reach the node at ${host}:${address.port}: ${(err as Error).message}`, { cause: err });
    }
    return this.join(conn, `${host}:${address.port}`);
  }

  /** Says HELLO on `conn` and waits for the peer's; then the link serves until the connection ends. */
  private join(conn: TcpConnection, where: string): Promise<string> {
    if (this.closing) return Promise.reject(new NodeClosedError('the node is closed'));
    this.conns.add(conn);
    void conn.closed.then(() => this.conns.delete(conn));
    const granted = ++this.lastSlot % SPAWN_BLOCK.slots;
    const wire: WireSubject<NodeFrame> = conn.open(NODE_CHANNEL, NodeFrameCodec);
    void wire.send(nodeFrame(NodeKind.HELLO, { text: this.id, thread: this.s.thread, n: granted })).catch(() => undefined);
    return new Promise<string>((resolve, reject) => {
      let peer: RemotePeer | undefined;
      const refuse = (why: string, cause?: unknown) => {
        reject(new NodeUnreachableError(where, `the node at ${where} ${why}`, { cause }));
        void conn.close();
      };
      const ended = (err?: unknown) => {
        if (!peer) return refuse('closed the link before its HELLO', err);
        if (this.peers.get(peer.id) === peer) this.peers.delete(peer.id);
        peer.drop('noconnection');
        void conn.close();
      };
      this.subs.add(
        wire.subscribe({
          next: (f) => {
            if (peer) return receiveFrame(peer, f);
            if (f.kind !== NodeKind.HELLO) return refuse(`spoke before its HELLO (kind ${f.kind})`);
            if (f.text === this.id || this.peers.has(f.text)) return refuse(`is node ${JSON.stringify(f.text)}, which is this node or already linked`);
            peer = new RemotePeer({ id: f.text, thread: f.thread, slot: f.n, granted }, this.s, wire, () => -++this.lastMonitor);
            this.peers.set(peer.id, peer);
            resolve(peer.id);
          },
          error: ended,
          complete: ended,
        }),
      );
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const closed = new NodeClosedError('the node is closed');
      for (const peer of this.peers.values()) peer.drop('shutdown', closed);
      this.peers.clear();
      this.s.remote = null;
      await Promise.all([...this.conns].map((conn) => conn.close()));
      await this.server?.close();
      this.subs.unsubscribe();
      await this.local.close();
    })();
    return this.closing;
  }
}
