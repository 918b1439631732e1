/**
 * What a thread's scheduler asks of the node's links to other nodes
 * (implemented by processes/remote-peer.ts, one per linked node). The
 * node's own thread has them over the connections; a worker thread of a
 * cluster node has its own, relayed by the node's own thread
 * (processes/remote-relay.ts). A call to a node with no link now is
 * refused with `UnknownNodeError`.
 */
import type { Envelope } from './envelope';
import type { Ops } from './ops';
import type { NodeFrame } from './remote-frame';
import type { ProcessRef } from './types';

/**
 * The calls to processes of one other node: those of a thread's scheduler
 * (see `Process` for what each does; `send` ignores the timer flag), plus
 * a lookup in that node's registry.
 */
export interface RemoteOps extends Pick<Ops, 'spawn' | 'send' | 'request' | 'link' | 'unlink' | 'monitor' | 'kill' | 'register' | 'isAlive'> {
  /** The incarnation of that node, from its HELLO: a ref with another is of an earlier run of it (processes/gone.ts). */
  readonly incarnation: number;
  /** The ref registered as `name` on that node, if any. */
  lookup(name: string): Promise<ProcessRef | undefined>;
}

/** The node's links to other nodes, by node id (on the gateway: the connections; on a worker: its links through the gateway). */
export interface RemoteRouter {
  /** The link to node `node`, if there is one now. */
  to(node: string): RemoteOps | undefined;
  /** A FAR or NODE envelope from thread `from` (processes/remote-relay.ts). */
  relay?(from: number, e: Envelope): void;
}

/** A call to another node: what finding its link throws (`UnknownNodeError`) rejects the Promise instead. */
export function tryFar<T>(call: () => Promise<T>): Promise<T> {
  try {
    return call();
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * The ids a link makes: `monitor`, for monitors on the peer's processes
 * (negative, unique on this thread: the gateway counts -1, -2, ...; a
 * worker's are relayed ids, processes/remote-relay.ts); `spawn`, the `k` of
 * the next spawn in the block the peer granted (a counter every thread of
 * the node shares through Atomics).
 */
export interface LinkIds {
  monitor(): number;
  spawn(): number;
}

/** Where a link's frames go: the connection (on the gateway), or the ring to the gateway (on a worker). */
export interface FrameSink {
  /** Sends `frame` now if there is room; false when full. Throws when closed. */
  trySend(frame: NodeFrame): boolean;
  /** Sends `frame`, queued until there is room; rejects when closed. */
  send(frame: NodeFrame): Promise<void>;
}

/** What the peer's HELLO said, and what this side granted it. */
export interface PeerSetup {
  /** The peer's node id. */
  readonly id: string;
  /** The peer's incarnation (its HELLO's `tag`). */
  readonly incarnation: number;
  /** The index of the peer's own thread (where its remote spawns run). */
  readonly thread: number;
  /** The id block the peer granted this node's spawns. */
  readonly slot: number;
  /** The id block this node granted the peer's spawns. */
  readonly granted: number;
}
