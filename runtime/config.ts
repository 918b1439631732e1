/**
 * Where the workers of `initialize` run, as in timely's `Config`: one worker
 * in the calling thread, N worker threads in this process, or a cluster of
 * processes of N worker threads each, linked by TCP.
 */
import { MAX_TIMER_MS } from '../core/thread-hold';
import { basename } from 'node:path';
import { checkKnown, checkKnownOrKind } from '../core/options';
import { heartbeatSettings, type HeartbeatOptions } from '../transports/tcp/options';
import { checkPortRanges, defaultHosts, parseHost, readHostfile, type HostAddress } from './hosts';
import { natsClusterConfig, type NatsClusterConfig, type NatsClusterOptions } from './nats-config';

export type { NatsClusterConfig, NatsClusterOptions } from './nats-config';

/** One worker, in the calling thread: for debugging and tests. */
export interface ThreadConfig {
  readonly kind: 'thread';
}

/** `workers` worker threads in this process, linked by shared-memory rings. */
export interface ProcessConfig {
  readonly kind: 'process';
  readonly workers: number;
}

/**
 * This process's part of a cluster: `hosts.length` processes of `workers`
 * worker threads each. Worker `t` of process `p` has the global index
 * `p * workers + t`, and every worker has `peers = hosts.length * workers`.
 * Threads of one process are linked by shared-memory rings, workers of two
 * processes by TCP (see runtime/cluster.ts). Every process runs
 * `initialize` with the same hosts and workers, and its own `process`.
 */
export interface ClusterConfig {
  readonly kind: 'cluster';
  /** Per process, its address; worker `t` of process `p` listens on `hosts[p].port + t`. */
  readonly hosts: readonly HostAddress[];
  /** This process's index into `hosts`. */
  readonly process: number;
  /** Worker threads per process. */
  readonly workers: number;
  /** Milliseconds a worker waits for its links to every other process at start. */
  readonly connectTimeout: number;
  /** The shared secret of every link (challenge/response, never sent), if any. */
  readonly secret?: string;
  /** The heartbeat of every link (see `ClusterOptions.heartbeat`), checked; absent: the TCP default. */
  readonly heartbeat?: false | { readonly interval: number; readonly timeout: number };
}

export type Config = ThreadConfig | ProcessConfig | ClusterConfig | NatsClusterConfig;

/** Options of `Config.cluster`. */
export interface ClusterOptions {
  /**
   * One address per process, in process order: `'host:port'`, `'[::1]:port'`
   * or `{ host, port }`, the same list in every process. Process `p` listens
   * on `hosts[p].port` to `hosts[p].port + workers - 1` on `hosts[p].host`
   * (process 0 on none: it only connects), so processes on one host need
   * ranges that do not overlap.
   */
  hosts: readonly (string | HostAddress)[];
  /** This process's index, 0 ≤ process < hosts.length. */
  process: number;
  /** Worker threads per process, the same in every process. Default 1. */
  workers?: number;
  /**
   * Milliseconds to wait, at start, for the links to the other processes: a
   * process may start before its peers listen, so connecting is retried
   * (backoff from 50 ms to 1 s) until then; past it the workers fail with
   * `TimeoutError` naming the peer. Default 30 000.
   */
  connectTimeout?: number;
  /**
   * A shared secret: every link authenticates both ways (HMAC challenge,
   * never sent) and a peer without it is refused with `AuthError`. Without
   * it, anyone who can reach the ports can join; keep the hosts on a trusted
   * network (the default addresses are 127.0.0.1).
   */
  secret?: string;
  /**
   * The heartbeat of every link, as `tcp.connect`'s `heartbeat`: after
   * `interval` ms without a byte from a peer its link sends PING; after
   * `timeout` ms of silence (a process stopped, a machine gone without
   * closing its sockets) the link ends and the workers fail with
   * `WorkerError` (`TransportClosedError`) instead of waiting forever.
   * `false` turns it off; `true` (or absent) is the default `{ interval:
   * 5000, timeout: 15000 }`. A worker whose event loop is held longer than
   * `timeout` looks silent too.
   */
  heartbeat?: boolean | HeartbeatOptions;
}

const CLUSTER_OPTIONS: Record<keyof ClusterOptions, true> = { hosts: true, process: true, workers: true, connectTimeout: true, secret: true, heartbeat: true };
/* The keys of the configs `initialize` checks itself (a cluster's and a NATS cluster's are checked as their options). */
const THREAD_KEYS: Record<keyof ThreadConfig, true> = { kind: true };
const PROCESS_KEYS: Record<keyof ProcessConfig, true> = { kind: true, workers: true };
const WORKERS_KEYS: Record<'workers', true> = { workers: true };

/**
 * The configs. `Config.process(n)` is a method, not a free function, so it
 * never shadows Node's global `process`; `Config.cluster` follows suit.
 *
 * ## Example
 * ```ts
 * import { Config, initialize } from 'rxwire';
 * await initialize(Config.process(4), new URL('./count.worker.js', import.meta.url)).join();
 * await initialize(Config.fromArgs(), './count.worker.js').join();   // node main.js -w 4
 * // two machines, 4 workers each: on the first `process: 0`, on the second `process: 1`
 * await initialize(Config.cluster({ hosts: ['10.0.0.1:2101', '10.0.0.2:2101'], process: 0, workers: 4 }), './count.worker.js').join();
 * ```
 */
export const Config = {
  thread(): ThreadConfig {
    return { kind: 'thread' };
  },
  process(workers: number): ProcessConfig {
    return { kind: 'process', workers: checkWorkers(workers, 'Config.process: workers') };
  },
  /**
   * This process's part of a cluster (see `ClusterOptions`).
   * @throws TypeError / RangeError naming the option at fault
   */
  cluster(options: ClusterOptions): ClusterConfig {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('Config.cluster: options must be { hosts, process, workers }');
    }
    checkKnownOrKind(options, CLUSTER_OPTIONS, 'Config.cluster: options', 'cluster');
    const { hosts, process: index, workers = 1, connectTimeout = 30_000, secret, heartbeat } = options;
    if (!Array.isArray(hosts) || hosts.length === 0) {
      throw new TypeError(`Config.cluster: options.hosts must be a non-empty array of 'host:port'`);
    }
    const checkedWorkers = checkWorkers(workers, 'Config.cluster: options.workers');
    const addresses = hosts.map((entry, p) => parseHost(entry, `Config.cluster: options.hosts[${p}]`));
    checkPortRanges(addresses, checkedWorkers, 'Config.cluster: options.hosts');
    if (!Number.isInteger(index) || index < 0 || index >= hosts.length) {
      throw new RangeError(`Config.cluster: options.process must be an integer from 0 to ${hosts.length - 1} (one per host), got ${index}`);
    }
    if (typeof connectTimeout !== 'number' || !(connectTimeout > 0) || connectTimeout > MAX_TIMER_MS) {
      throw new RangeError('Config.cluster: options.connectTimeout must be a number of milliseconds above 0, at most 2^31 - 1 (a Node timer)');
    }
    if (secret !== undefined && (typeof secret !== 'string' || secret === '')) {
      throw new TypeError('Config.cluster: options.secret must be a non-empty string');
    }
    const config: ClusterConfig = { kind: 'cluster', hosts: addresses, process: index, workers: checkedWorkers, connectTimeout };
    const beat = heartbeat === undefined ? undefined : (heartbeatSettings(heartbeat, 'Config.cluster: options.heartbeat') ?? false);
    return { ...config, ...(secret === undefined ? {} : { secret }), ...(beat === undefined ? {} : { heartbeat: beat }) };
  },
  /**
   * This process's part of a cluster found through NATS, with no hostfile
   * (see `NatsClusterOptions` and runtime/nats-cluster.ts): every process
   * connects to `servers`, they find each other under `name`, `initialize`
   * waits until all `processes` are there, then starts `workers` threads in
   * each. Threads of one process are linked by shared-memory rings, workers
   * of two processes by channels over NATS. A process that dies fails
   * `join()` in every other process with `WorkerError` within
   * `heartbeat.timeout`.
   *
   * ## Example
   * ```ts
   * import { Config, initialize } from 'rxwire';
   * // the same line on every machine; indices are assigned at the start
   * await initialize(Config.nats({ servers: 'nats://10.0.0.9:4222', name: 'wc', processes: 2, workers: 4 }), './count.worker.js').join();
   * ```
   * @throws TypeError / RangeError naming the option at fault
   */
  nats(options: NatsClusterOptions): NatsClusterConfig {
    return natsClusterConfig(options);
  },
  /**
   * Reads a command line as timely's `Config::from_args` does:
   *
   * - `-w N` / `--workers N`: worker threads per process (default 1);
   * - `-n N` / `--processes N`: processes (default 1);
   * - `-p I` / `--process I`: this process's index (default 0);
   * - `-h FILE` / `--hostfile FILE`: one `host:port` per line, per process;
   * - `--nats SERVERS`: find the other processes through NATS instead of a
   *   hostfile (`Config.nats`), SERVERS one URL or several joined by commas;
   *   `-p` is then optional (absent: an index is assigned at the start);
   * - `--name NAME`: the NATS cluster's name, default the program's file
   *   name without its extension (the same program on every machine finds
   *   its own kind; characters other than letters, digits, `_` and `-`
   *   become `_`).
   *
   * (`--name=value` and, for numbers, `-w4` work too.) With `-n` above 1 it
   * gives `cluster`, whose addresses come from the hostfile or, without one,
   * are 127.0.0.1 from port 2101 up, one port per worker (process `p` at
   * 2101 + p × workers), as timely's default `localhost:2101`. Otherwise more
   * than one worker gives `process(N)` and one `thread`. Other arguments are
   * left for the program.
   * @param argv the arguments, default `process.argv.slice(2)`
   * @throws RangeError when a count is not a positive integer, `-p` is out of
   *   range, or the hostfile has too few addresses; TypeError for a hostfile
   *   line that is not `host:port`
   */
  fromArgs(argv: readonly string[] = process.argv.slice(2)): Config {
    const workers = readCount(argv, 'w', 'workers');
    const processes = readCount(argv, 'n', 'processes');
    const given = readFlag(argv, 'p', 'process');
    const index = given === undefined ? 0 : toNumber(given.text);
    if (!Number.isInteger(index) || index < 0 || index >= processes) {
      throw new RangeError(
        `${given!.flag} must be an integer from 0 to ${processes - 1} (one index per process of -n ${processes}), got ${JSON.stringify(given!.text)}`,
      );
    }
    const nats = readFlag(argv, '', 'nats');
    if (nats !== undefined) return natsFromArgs(argv, nats, processes, workers, given === undefined ? undefined : index);
    if (processes === 1) return workers > 1 ? Config.process(workers) : Config.thread();
    const hostfile = readFlag(argv, 'h', 'hostfile');
    if (hostfile?.text === '') throw new TypeError(`${hostfile.flag} needs a file name`);
    const hosts = hostfile === undefined ? defaultHosts(processes, workers) : readHostfile(hostfile.text, processes);
    return Config.cluster({ hosts, process: index, workers });
  },
};

/** What `initialize` accepts: a config, or `{ workers: n }` for `Config.process(n)`. */
export type ConfigLike = Config | { readonly workers: number };

/** Checks a config at the door. */
export function toConfig(config: ConfigLike): Config {
  if (typeof config !== 'object' || config === null) {
    throw new TypeError('initialize: config must be Config.thread(), Config.process(n), Config.cluster({ ... }), Config.nats({ ... }) or { workers: n }');
  }
  // A key no config has (`{ kind: 'thread', workers: 4 }`, `{ wokers: 4 }`) is refused, not left to give another config.
  if ('kind' in config) {
    if (config.kind === 'thread') {
      checkKnown(config, THREAD_KEYS, 'initialize: config');
      return config;
    }
    if (config.kind === 'process') {
      checkKnown(config, PROCESS_KEYS, 'initialize: config');
      return Config.process(config.workers);
    }
    if (config.kind === 'cluster') return Config.cluster(config);
    if (config.kind === 'nats') return Config.nats(config);
    throw new TypeError(`initialize: unknown config kind ${JSON.stringify((config as { kind: unknown }).kind)}`);
  }
  checkKnown(config, WORKERS_KEYS, 'initialize: config');
  return Config.process(config.workers);
}

/**
 * The last of `-x V`, `-xV` (numbers only), `--long V` or `--long=V`: its
 * text ('' when the flag ends the line) and the flag as written, for messages.
 */
function readFlag(argv: readonly string[], short: string, long: string): { text: string; flag: string } | undefined {
  let found: { text: string; flag: string } | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if ((short !== '' && arg === `-${short}`) || arg === `--${long}`) found = { text: argv[++i] ?? '', flag: arg };
    else if (arg.startsWith(`--${long}=`)) found = { text: arg.slice(long.length + 3), flag: `--${long}` };
    else if (short !== '' && /^-[a-z]\d+$/.test(arg) && arg[1] === short) found = { text: arg.slice(2), flag: `-${short}` };
  }
  return found;
}

/** `Config.fromArgs` with `--nats`: the servers, the name (`--name`, or the program's), the counts and the index if given. */
function natsFromArgs(argv: readonly string[], nats: { text: string; flag: string }, processes: number, workers: number, index: number | undefined): Config {
  const servers = nats.text.split(',').map((server) => server.trim()).filter((server) => server !== '');
  if (servers.length === 0) throw new TypeError(`${nats.flag} needs a server URL, e.g. nats://127.0.0.1:4222`);
  const named = readFlag(argv, '', 'name');
  if (named?.text === '') throw new TypeError(`${named.flag} needs a cluster name`);
  const program = basename(process.argv[1] ?? 'rxwire').replace(/\.[^.]*$/, '');
  const name = named?.text ?? (program.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64) || 'rxwire');
  return Config.nats({ servers, name, processes, workers, ...(index === undefined ? {} : { process: index }) });
}

/** A count flag's value (1 when absent). */
function readCount(argv: readonly string[], short: string, long: string): number {
  const found = readFlag(argv, short, long);
  return found === undefined ? 1 : checkWorkers(toNumber(found.text), found.flag);
}

function toNumber(text: string): number {
  return /^\d+$/.test(text) ? Number(text) : NaN;
}

function checkWorkers(workers: number, name: string): number {
  // 1024 at most, as a node of processes: each worker costs rings and ports made at once (n² ports for a mesh).
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`${name} must be a positive integer`);
  if (workers > 1024) throw new RangeError(`${name} must be at most 1024`);
  return workers;
}
