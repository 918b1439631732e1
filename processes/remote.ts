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
 * gateway: it holds the connections. A process on a worker thread calls
 * another node's processes as one on the gateway does: its frames go to
 * the gateway over the node's rings and on over the connection, and what
 * comes back for it is relayed to its thread (processes/remote-relay.ts);
 * its links and monitors on other nodes are kept on its own thread, so a
 * node that drops off sends it `LinkDied` when it traps exits. A remote
 * spawn runs where its `placement` says on the other node (default: that
 * node's own thread); for 'least-loaded', each node tells its linked nodes
 * its loads (LOAD frames, every LOAD_INTERVAL ms while they change).
 */
import { checkOptions, OPTIONS } from './checks';
import { Subscription } from 'rxjs';
import { NodeClosedError, NodeUnreachableError } from '../core/errors';
import { connect, listen, type HeartbeatOptions, type TcpConnection, type TcpServer } from '../transports/tcp';
import { heartbeatSettings } from '../transports/tcp/options';
import { startLocalNode, type Node } from './node';
import { LINK_COUNTERS, NODE_CHANNEL, NodeFrameCodec, nodeFrame, NodeKind, SPAWN_BLOCK } from './remote-frame';
import { receiveFrame } from './remote-inbound';
import { NatsMeeting, type Carrier } from './remote-nats';
import { RemotePeer } from './remote-peer';
import { LOAD_INTERVAL, loadText, nextFree } from './remote-place';
import { forgetShadows, relayOut, tellWorkers } from './remote-relay';
import type { Scheduler } from './scheduler';
import type { EntryCodecs, EntryLike, LookupOptions, Process, ProcessRef, SpawnOptions } from './types';

import type { ClusterNats, ClusterNode, ClusterNodeOptions, NodeAddress } from './remote-types';

/** The longest a new link waits for the peer's HELLO, as the TCP handshake waits, or the heartbeat's timeout if shorter. */
const HELLO_TIMEOUT_MS = 10_000;

/** Every key of ClusterNodeOptions: a node's and the cluster's. */
const CLUSTER_OPTIONS: Record<keyof ClusterNodeOptions, true> = { ...OPTIONS.node, id: true, listen: true, peers: true, nats: true, secret: true, heartbeat: true };
/** `listen` and a peer's address: `{ host, port }` only (a bare port, a string or `{ prot }` listened on an ephemeral port). */
const ADDRESS: Record<keyof NodeAddress, true> = { host: true, port: true };

export type { ClusterNats, ClusterNode, ClusterNodeOptions, NodeAddress } from './remote-types';

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
  const { listen: listenOn, peers = [], secret, heartbeat, nats, ...local } = checkOptions(options, 'startClusterNode: options', CLUSTER_OPTIONS) as ClusterNodeOptions;
  if (typeof local.id !== 'string' || local.id === '') throw new TypeError('startClusterNode: options.id must be a non-empty string');
  if (!Array.isArray(peers)) throw new TypeError('startClusterNode: options.peers must be an array of { host, port } or node ids');
  if (listenOn !== undefined) checkOptions(listenOn, 'startClusterNode: options.listen', ADDRESS);
  // Checked before anything starts (it throws); a peer this quiet before its HELLO would be gone after it too.
  const beat = heartbeatSettings(heartbeat, 'startClusterNode: options.heartbeat');
  const node = new Cluster(startLocalNode(local), { secret, heartbeat }, Math.min(HELLO_TIMEOUT_MS, beat?.timeout ?? HELLO_TIMEOUT_MS));
  try {
    if (nats) await node.meet(nats, heartbeat);
    if (listenOn) await node.listen(listenOn);
    for (const peer of peers) await node.connect(peer);
  } catch (err) {
    await node.close();
    throw err;
  }
  return node;
}

/** Room left in a ring's largest value for what wraps a frame on its way to a worker: the envelope, the peer's id, a spawn's text. */
const FRAME_MARGIN = 1024;

class Cluster implements ClusterNode {
  private readonly s: Scheduler;
  private readonly peers = new Map<string, RemotePeer>();
  private readonly carriers = new Set<Carrier>();
  private nats: NatsMeeting | undefined;
  private readonly subs = new Subscription();
  private server: TcpServer | undefined;
  private lastSlot = 0;
  private lastMonitor = 0;
  private lastLink = -1;
  /** The blocks granted to, and the spawn counters of, the links up now: a new link takes the next one in turn that none holds. */
  private readonly held = { granted: new Set<number>(), counters: new Set<number>() };
  private closing: Promise<void> | undefined;
  private readonly counters: Int32Array;
  private readonly loadTimer: ReturnType<typeof setInterval>;
  private lastLoads = '';

  constructor(
    private readonly local: Node,
    private readonly tcp: { secret?: string | Buffer; heartbeat?: boolean | HeartbeatOptions },
    /** How long a new link waits for the peer's HELLO. */
    private readonly helloMs: number,
  ) {
    this.s = local.here.scheduler;
    this.s.remote = { to: (id) => this.peers.get(id), relay: (from, e) => relayOut(this.peers.get(e.text), from, e) };
    this.counters = this.s.spawnCounters();
    this.loadTimer = setInterval(() => this.tellLoads(), LOAD_INTERVAL);
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
    this.server = await listen({ host: on.host, port: on.port ?? 0, ...this.tcp, maxFrame: this.maxFrame });
    this.subs.add(this.server.connections$.subscribe((conn) => void this.join(tcpCarrier(conn), `${conn.remoteAddress}:${conn.remotePort}`).catch(() => conn.close())));
  }

  /** Meets other nodes over NATS too. */
  async meet(nats: ClusterNats, heartbeat: boolean | HeartbeatOptions | undefined): Promise<void> {
    this.nats = await NatsMeeting.start(nats, this.id, heartbeat, (carrier, where) => this.join(carrier, where), (id) => this.peers.has(id));
  }

  async connect(address: NodeAddress | string): Promise<string> {
    if (this.closing) throw new NodeClosedError('connect: the node is closed');
    if (typeof address === 'string') {
      if (!this.nats) throw new TypeError(`connect: node ${JSON.stringify(address)} is named by id, which needs the nats option (or give { host, port })`);
      return this.nats.connect(address);
    }
    if (typeof address !== 'object' || address === null) throw new TypeError('connect: the address must be { host, port } or a node id');
    checkOptions(address, 'connect: the address', ADDRESS);
    const host = address.host ?? '127.0.0.1';
    let conn: TcpConnection;
    try {
      conn = await connect({ host, port: address.port, ...this.tcp, maxFrame: this.maxFrame });
    } catch (err) {
      if (err instanceof RangeError || err instanceof TypeError) throw err;
      throw new NodeUnreachableError(`${host}:${address.port}`, `connect: cannot reach the node at ${host}:${address.port}: ${(err as Error).message}`, { cause: err });
    }
    return this.join(tcpCarrier(conn), `${host}:${address.port}`);
  }

  /**
   * The largest frame this node's connections take: TCP's default (4 MiB), or less — what its rings carry less
   * FRAME_MARGIN — so that a message, capture or reply too large for the rings a frame for a worker crosses is
   * a FrameError at the sender's call (TCP tells each side the other's maxFrame) rather than lost here.
   */
  private get maxFrame(): number {
    return Math.max(1024, Math.min(4 << 20, this.s.mesh.largest - FRAME_MARGIN));
  }

  /** Says HELLO on `carrier` (a TCP connection's channel, or a NATS channel) and waits for the peer's; then the link serves until it ends. */
  private join(carrier: Carrier, where: string): Promise<string> {
    if (this.closing) return Promise.reject(new NodeClosedError('the node is closed'));
    this.carriers.add(carrier);
    const { wire } = carrier;
    // Taken before this side's HELLO, so that a node with no room refuses before it says HELLO. Never what a live
    // link holds: a counter reset under a live link repeats its spawn ids; a block granted twice, the peers' ids.
    const granted = (this.lastSlot = nextFree(this.held.granted, this.lastSlot, SPAWN_BLOCK.slots));
    this.held.granted.add(granted);
    const counter = (this.lastLink = nextFree(this.held.counters, this.lastLink, LINK_COUNTERS));
    this.held.counters.add(counter);
    const close = () => {
      if (!this.carriers.delete(carrier)) return;
      this.held.granted.delete(granted);
      this.held.counters.delete(counter);
      void carrier.close();
    };
    if (granted < 0 || counter < 0) {
      close();
      return Promise.reject(new NodeUnreachableError(where, `the node at ${where} cannot be linked: every link slot of this node is held by a link up or opening`));
    }
    void wire.send(nodeFrame(NodeKind.HELLO, { text: this.id, thread: this.s.thread, n: granted, tag: this.s.incarnation })).catch(() => undefined);
    return new Promise<string>((resolve, reject) => {
      let peer: RemotePeer | undefined;
      const refuse = (why: string, cause?: unknown) => {
        clearTimeout(silent);
        reject(new NodeUnreachableError(where, `the node at ${where} ${why}`, { cause }));
        close();
      };
      // A peer that is no node (any rxwire TCP listener, say) takes the link and says nothing: not waited for ever.
      const silent = setTimeout(() => refuse(`said no HELLO within ${this.helloMs} ms (is it a node?)`), this.helloMs);
      let lost = false;
      // The peer can be sent nothing more: what waits on it settles now, once (its links fire, its calls reject).
      const unreachable = () => {
        if (lost || !peer) return;
        lost = true;
        if (this.peers.get(peer.id) === peer) this.peers.delete(peer.id);
        peer.drop('noconnection');
        forgetShadows(peer);
        tellWorkers(this.s, peer, false);
      };
      const ended = (err?: unknown) => {
        if (!peer) return refuse('closed the link before its HELLO', err);
        unreachable();
        close();
      };
      // A STOP: the peer reads no more, so for this node the link is down; what the peer sends is read on until it hangs up.
      wire.wayOutClosed = (_err, stopped) => stopped && queueMicrotask(() => (peer ? unreachable() : refuse('stopped reading before its HELLO')));
      this.subs.add(
        wire.subscribe({
          next: (f) => {
            if (!this.carriers.has(carrier)) return; // refused (a HELLO after the time limit): its counter is given back
            if (peer) return receiveFrame(peer, f);
            if (f.kind !== NodeKind.HELLO) return refuse(`spoke before its HELLO (kind ${f.kind})`);
            if (f.text === this.id || this.peers.has(f.text)) return refuse(`is node ${JSON.stringify(f.text)}, which is this node or already linked`);
            if (!(Number.isInteger(f.tag) && f.tag >= 1 && f.tag < 2 ** 31)) return refuse(`said HELLO with incarnation ${f.tag}, not an integer from 1 to 2^31 - 1`);
            clearTimeout(silent);
            Atomics.store(this.counters, counter, 0);
            const ids = { monitor: () => -++this.lastMonitor, spawn: () => Atomics.add(this.counters, counter, 1) + 1 };
            peer = new RemotePeer({ id: f.text, incarnation: f.tag, thread: f.thread, slot: f.n, granted }, this.s, wire, ids);
            this.peers.set(peer.id, peer);
            tellWorkers(this.s, peer, true, counter);
            this.lastLoads ||= loadText(this.s.loads()); // kept: the next tick tells only a change (it told this again)
            peer.post(nodeFrame(NodeKind.LOAD, { text: this.lastLoads }));
            resolve(peer.id);
          },
          error: ended,
          complete: ended,
        }),
      );
    });
  }

  /** Tells every linked node this node's loads (LOAD), when they changed since last told. */
  private tellLoads(): void {
    const text = loadText(this.s.loads());
    if (text === this.lastLoads) return;
    this.lastLoads = text;
    for (const peer of this.peers.values()) peer.post(nodeFrame(NodeKind.LOAD, { text }));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.loadTimer);
      const closed = new NodeClosedError('the node is closed');
      for (const peer of this.peers.values()) {
        peer.drop('shutdown', closed);
        forgetShadows(peer);
        tellWorkers(this.s, peer, false, 0, true);
      }
      this.peers.clear();
      this.s.remote = null;
      await Promise.all([...this.carriers].map((carrier) => carrier.close()));
      await this.nats?.close();
      await this.server?.close();
      this.subs.unsubscribe();
      await this.local.close();
    })();
    return this.closing;
  }
}

/** The carrier of a link over TCP: the channel `rxwire.node` of the connection. */
function tcpCarrier(conn: TcpConnection): Carrier {
  return { wire: conn.open(NODE_CHANNEL, NodeFrameCodec), close: () => conn.close() };
}
