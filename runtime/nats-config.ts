/**
 * `Config.nats`: a cluster with no hostfile. Its options, their checks and
 * the checked config that `initialize` runs (runtime/nats-cluster.ts).
 */
import { MAX_TIMER_MS } from '../core/thread-hold';
import { checkKnownOrKind } from '../core/options';
import { heartbeatSettings } from '../transports/tcp/options';

/** Options of `Config.nats`. */
export interface NatsClusterOptions {
  /**
   * The NATS server(s) every process connects to: `'nats://host:port'`,
   * `'host:port'`, or a list of them (the same cluster of servers in every process).
   */
  servers: string | readonly string[];
  /**
   * The cluster's name, the same in every process: the processes under one
   * name on one NATS find each other (subjects `rxwire.cluster.<name>.…`).
   * Letters, digits, `_` and `-`, 1 to 64 of them.
   */
  name: string;
  /** How many processes the cluster has (1 to 1024), the same in every process. `initialize` waits for all of them. */
  processes: number;
  /** Worker threads per process (1 to 1024), the same in every process. Default 1. */
  workers?: number;
  /**
   * This process's index, 0 ≤ process < processes. Absent: one is assigned
   * at the start (the free indices, in the order of the processes' random
   * ids). Two processes that give the same index fail with `ClusterError`.
   */
  process?: number;
  /**
   * Milliseconds to wait at the start for all `processes` to be present;
   * past it `join()` rejects with `TimeoutError` saying how many came.
   * Default 30 000.
   */
  joinTimeout?: number;
  /**
   * Liveness. Each process publishes a beat every `interval` ms; a process
   * not heard for `timeout` ms (killed, stopped, cut off) fails the workers
   * of every other process with `WorkerError`. Default `{ interval: 1000,
   * timeout: 5000 }` (also for `{}`); with one of them given, as `tcp.connect`'s heartbeat
   * (`timeout` 3 × `interval`, or `interval` a third of `timeout`);
   * `timeout` must be more than `interval`. A process
   * whose main thread's event loop is held longer than `timeout` looks dead.
   */
  heartbeat?: { interval?: number; timeout?: number };
  /** The NATS user and password, when the server asks for them. */
  user?: string;
  pass?: string;
}

/** This process's part of a NATS cluster, checked (see `NatsClusterOptions`). */
export interface NatsClusterConfig {
  readonly kind: 'nats';
  readonly servers: readonly string[];
  readonly name: string;
  readonly processes: number;
  readonly workers: number;
  /** The given index, or undefined: assigned at the start. */
  readonly process?: number;
  readonly joinTimeout: number;
  readonly heartbeat: { readonly interval: number; readonly timeout: number };
  readonly user?: string;
  readonly pass?: string;
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const OPTIONS: Record<keyof NatsClusterOptions, true> = { servers: true, name: true, processes: true, workers: true, process: true, joinTimeout: true, heartbeat: true, user: true, pass: true };

/**
 * Checks `Config.nats`'s options.
 * @throws TypeError / RangeError naming the option at fault
 */
export function natsClusterConfig(options: NatsClusterOptions): NatsClusterConfig {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('Config.nats: options must be { servers, name, processes, workers }');
  }
  checkKnownOrKind(options, OPTIONS, 'Config.nats: options', 'nats');
  const { servers, name, processes, workers = 1, process: index, joinTimeout = 30_000, heartbeat, user, pass } = options;
  const list = typeof servers === 'string' ? [servers] : servers;
  if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string' && s !== '')) {
    throw new TypeError("Config.nats: options.servers must be a server address ('nats://host:port') or a non-empty array of them");
  }
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new TypeError(`Config.nats: options.name must be 1 to 64 letters, digits, '_' or '-', got ${JSON.stringify(name)}`);
  }
  // 1024 each at most, as Config.cluster's workers: each worker links to every other one (rings, ports, subjects).
  positiveInteger(processes, 'options.processes', 1024);
  positiveInteger(workers, 'options.workers', 1024);
  if (index !== undefined && (!Number.isInteger(index) || index < 0 || index >= processes)) {
    throw new RangeError(`Config.nats: options.process must be an integer from 0 to ${processes - 1}, got ${index}`);
  }
  if (typeof joinTimeout !== 'number' || !(joinTimeout > 0) || joinTimeout > MAX_TIMER_MS) {
    throw new RangeError('Config.nats: options.joinTimeout must be a number of milliseconds above 0, at most 2^31 - 1 (a Node timer)');
  }
  if (heartbeat !== undefined && (typeof heartbeat !== 'object' || heartbeat === null)) {
    throw new TypeError('Config.nats: options.heartbeat must be { interval, timeout }');
  }
  // `{}` (neither field) is this config's default, not the TCP one heartbeatSettings would give.
  const given = heartbeat as { interval?: unknown; timeout?: unknown } | undefined;
  const beat = heartbeatSettings(given?.interval === undefined && given?.timeout === undefined ? { ...given, interval: 1000, timeout: 5000 } : given, 'Config.nats: options.heartbeat');
  if (!beat) throw new RangeError('Config.nats: options.heartbeat cannot be off (a dead process would never be noticed)');
  for (const [value, field] of [
    [user, 'user'],
    [pass, 'pass'],
  ] as const) {
    if (value !== undefined && typeof value !== 'string') throw new TypeError(`Config.nats: options.${field} must be a string`);
  }
  return {
    kind: 'nats',
    servers: [...list],
    name,
    processes,
    workers,
    ...(index === undefined ? {} : { process: index }),
    joinTimeout,
    heartbeat: beat,
    ...(user === undefined ? {} : { user }),
    ...(pass === undefined ? {} : { pass }),
  };
}

function positiveInteger(value: unknown, name: string, most: number): void {
  if (!Number.isInteger(value) || (value as number) < 1) throw new RangeError(`Config.nats: ${name} must be a positive integer`);
  if ((value as number) > most) throw new RangeError(`Config.nats: ${name} must be at most ${most}`);
}
