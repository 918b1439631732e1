/**
 * The subjects and messages of a NATS cluster (docs/PROTOCOL.md, "NATS
 * cluster"), shared by the main thread's side (nats-cluster.ts,
 * nats-membership.ts) and the workers' side (nats-links.ts). Control
 * messages are UTF-8 JSON objects with a `type`; channels are the NATS
 * transport's (transports/nats, `conn.open`).
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { connect, type NatsWire } from '../transports/nats';
import { MAX_CHANNEL_NAME } from '../transports/nats/wire';
import type { NatsClusterConfig } from './nats-config';

/** The version of the cluster's control messages (`v` in `hello`). */
export const CLUSTER_VERSION = 1;

/** `rxwire.cluster.<name>.join`: membership, before the run. */
export function joinSubject(name: string): string {
  return `rxwire.cluster.${name}.join`;
}

/** `rxwire.cluster.<name>.<run>.ctl`: beats, `done` and `fail`, during the run. */
export function controlSubject(name: string, run: string): string {
  return `rxwire.cluster.${name}.${run}.ctl`;
}

/**
 * The name of channel `key` between workers `a` and `b` of run `run`:
 * `cluster.<name>.<run>.<key token>.<lower>.<higher>`, the same at both ends.
 * A channel key (`s:<string>` or `n:<number>`, see runtime/context.ts) whose
 * rest is letters, digits, `_` and `-` becomes `s-<rest>` / `n-<rest>`; any
 * other is `x` and the key's UTF-8 bytes in hex, so no key can add a token,
 * a wildcard or a character a channel name refuses. A name that would be
 * longer than a channel name may be (a long key, doubled in hex) takes `h`
 * and the SHA-256 of the key in hex instead: any channel id allocates on
 * NATS as on every other config.
 */
export function channelName(name: string, run: string, key: string, a: number, b: number): string {
  const plain = /^([sn]):([A-Za-z0-9_-]+)$/.exec(key);
  const head = `cluster.${name}.${run}.`;
  const tail = `.${Math.min(a, b)}.${Math.max(a, b)}`;
  const token = plain ? `${plain[1]}-${plain[2]}` : `x${Buffer.from(key, 'utf8').toString('hex')}`;
  if (head.length + token.length + tail.length <= MAX_CHANNEL_NAME) return head + token + tail;
  return `${head}h${createHash('sha256').update(key, 'utf8').digest('hex')}${tail}`;
}

/** Announces a process on the join subject, every 250 ms until it has seen them all. */
export interface HelloMessage {
  type: 'hello';
  v: number;
  /** The process's random id (16 hex digits), new at each start. */
  id: string;
  processes: number;
  workers: number;
  /** The index it was given, or null. */
  process: number | null;
  /**
   * Its `heartbeat` ([interval, timeout] in ms): each process judges the others by its own timeout, which holds
   * only for their beats at the same interval. Absent (a process of an earlier version): not compared.
   */
  heartbeat?: [number, number];
}

/** Sent once a process has seen exactly `processes` hellos: the ids it saw, sorted. */
export interface ReadyMessage {
  type: 'ready';
  id: string;
  members: string[];
}

/** The answer of a running cluster's processes to a hello from a process not in it. */
export interface BusyMessage {
  type: 'busy';
  /** The id of the process refused. */
  to: string;
  processes: number;
}

export type JoinMessage = HelloMessage | ReadyMessage | BusyMessage;

/** On the control subject. */
export type ControlMessage =
  /**
   * Worker `worker` (global index) reads the control subject. Published once
   * at its start, and once more each time it first hears another worker's
   * `up` (that one may have missed the first).
   */
  | { type: 'up'; worker: number }
  /** The process is alive: every `heartbeat.interval` ms from its main thread. */
  | { type: 'beat'; process: number }
  /**
   * Worker `worker` (global index) has finished: it sends and reads nothing
   * more, and `allocated` are the keys of the channels it allocated (a channel
   * to it of another key can never pair: it fails at once). Left out when the
   * list would take more than DONE_KEYS_BYTES (runtime/link-kinds.ts): a `done` must fit a message.
   */
  | { type: 'done'; worker: number; allocated?: string[] }
  /** Process `process` failed (a worker threw, or it was terminated); `message` says why. */
  | { type: 'fail'; process: number; worker: number | null; message: string };

/** What the main thread hands each worker thread. */
export interface NatsWorkerSetup {
  config: NatsClusterConfig;
  /** This process's index, as assigned at the start. */
  process: number;
  /** The run's id (the members' ids hashed): a token of every subject of the run. */
  run: string;
}

export function encodeMessage(message: JoinMessage | ControlMessage): Uint8Array {
  return Buffer.from(JSON.stringify(message), 'utf8');
}

/** A control message, or undefined for bytes that are none (another program's on our subject: ignored). */
export function decodeMessage<M extends { type: string }>(data: Uint8Array): M | undefined {
  try {
    const message = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as M;
    return typeof message === 'object' && message !== null && typeof message.type === 'string' ? message : undefined;
  } catch {
    return undefined; // not JSON: not ours
  }
}

/**
 * A connection of the cluster (`transports/nats`' `connect`): no
 * reconnection (a channel must never resume past what a server restart
 * lost), so a lost server ends the run with a typed error instead.
 * @throws AuthError when the server refuses the credentials
 * @throws TransportClosedError when no server can be reached
 */
export function connectCluster(config: NatsClusterConfig, role: string): Promise<NatsWire> {
  const { servers, user, pass, name } = config;
  return connect({ servers: [...servers], user, pass, name: `rxwire.cluster.${name}.${role}`, reconnect: false });
}
