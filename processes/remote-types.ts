/** The options and the interface of a cluster node (`startClusterNode`, processes/remote.ts). */
import type { HeartbeatOptions } from '../transports/tcp';
import type { NodeOptions, ProcessNode } from './types';

/**
 * What `ClusterNodeOptions.nats` takes, typed without the NATS client's own
 * declarations: rxwire/processes must compile where those do not resolve
 * (`moduleResolution` `node10`), and only rxwire/nats loads them. At run
 * time it is the @nats-io client's connection options plus rxwire's
 * `prefix` (rxwire/nats `NatsConnectOptions`), or a connection from
 * rxwire/nats `connect` (a `NatsWire`); both are assignable to this.
 */
export type ClusterNats =
  | { servers?: string | string[]; prefix?: string; [option: string]: any }
  | { readonly nc: object; open(name: string, ...rest: never[]): unknown; close(): Promise<void> };

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
  /**
   * Nodes to link to before the Promise resolves: `{ host, port }` over
   * TCP, or a node id (a string) over NATS (needs `nats`). Default none.
   */
  peers?: (NodeAddress | string)[];
  /**
   * Meet other nodes over NATS too (processes/remote-nats.ts): the
   * @nats-io client's connection options (`servers`, `user`, `pass`, …,
   * and rxwire's `prefix`), or a connection from rxwire/nats `connect`
   * (left open at close). The node then answers other nodes that link to
   * it by its id, and `connect(id)` links to one; the id must be one NATS
   * subject token (1 to 64 of `[A-Za-z0-9_-]`, not starting with `_`).
   * Default: no NATS.
   */
  nats?: ClusterNats;
  /** A shared secret every node of the cluster has (TCP's HMAC handshake; it never crosses the wire). Default none. */
  secret?: string | Buffer;
  /**
   * How a node that goes silent with its socket open is noticed (TCP's
   * heartbeat; over NATS, the channel's): past `timeout` ms of silence its
   * link drops, as if its socket had closed. Default `{ interval: 5000,
   * timeout: 15000 }`.
   */
  heartbeat?: boolean | HeartbeatOptions;
}

/** A running cluster node: a ProcessNode whose processes reach the processes of its linked nodes. */
export interface ClusterNode extends ProcessNode {
  /** The port it listens on (undefined when it does not listen). */
  readonly port: number | undefined;
  /**
   * Links to the node at `address` over TCP, or to the node of id
   * `address` over NATS (a string; needs the `nats` option); resolves with
   * its id.
   * @throws NodeUnreachableError (rejects) when the connection is refused or its handshake fails (another secret, not a node — no HELLO within 10 s —, a node of the same id, or one already linked, or either node has 256 links up), or the node does not answer on NATS
   * @throws TypeError (rejects) for a node id over NATS when the node has no `nats` option
   */
  connect(address: NodeAddress | string): Promise<string>;
  /** The ids of the nodes linked now. */
  nodes(): string[];
}
