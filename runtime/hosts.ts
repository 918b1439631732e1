/**
 * The addresses of a cluster's processes, as timely's hostfile gives them:
 * one `host:port` per process, in process order. Worker thread `t` of
 * process `p` listens on `hosts[p].port + t` (see runtime/cluster.ts), so
 * each address stands for a range of `workers` ports, and two processes on one
 * host must not have overlapping ranges.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Where one process of a cluster is reached: its host, and the first of its workers' ports. */
export interface HostAddress {
  /** A name or an IP address (IPv6 without brackets). */
  readonly host: string;
  /** The port of the process's worker 0; worker `t` listens on `port + t`. */
  readonly port: number;
}

/**
 * The first port of the default addresses, as timely's `localhost:2101`:
 * without a hostfile, worker `g` (global index) of a cluster on one machine
 * listens on 127.0.0.1:(2101 + g), i.e. process `p` on 2101 + p × workers.
 */
export const DEFAULT_BASE_PORT = 2101;

/** The default addresses of `processes` processes of `workers` workers each, all on 127.0.0.1. */
export function defaultHosts(processes: number, workers: number): HostAddress[] {
  return Array.from({ length: processes }, (_, p) => ({ host: '127.0.0.1', port: DEFAULT_BASE_PORT + p * workers }));
}

/**
 * Addresses for a cluster of `processes` processes of `workers` workers on
 * this machine (127.0.0.1), whose ports are all free now: for tests and for
 * launching a cluster locally, where the fixed default ports may be taken.
 * The OS picks where the range starts. The ports are released before this
 * resolves, so another program could still take one before the cluster
 * listens: its worker then fails to listen (`EADDRINUSE`).
 *
 * ## Example
 * ```ts
 * import { Config, freeLocalHosts } from 'rxwire';
 * const hosts = await freeLocalHosts(2, 4);    // [{ host: '127.0.0.1', port: 40311 }, { ..., port: 40315 }]
 * // start process p with Config.cluster({ hosts, process: p, workers: 4 })
 * ```
 * @throws RangeError when `processes` or `workers` is not a positive integer, `workers` is over 1024, or they need more than 65535 ports
 * @throws Error when no free range turns up in 50 tries
 */
export async function freeLocalHosts(processes: number, workers: number): Promise<HostAddress[]> {
  for (const [value, name] of [
    [processes, 'processes'],
    [workers, 'workers'],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`freeLocalHosts: ${name} must be a positive integer, got ${String(value)}`);
  }
  if (workers > 1024) throw new RangeError('freeLocalHosts: workers must be at most 1024 (as Config.cluster)');
  const count = processes * workers;
  if (count > 65535) throw new RangeError(`freeLocalHosts: ${processes} × ${workers} ports is more than a host has`);
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await bind(0);
    if (base < 0 || base + count - 1 > 65535) continue;
    let free = true;
    for (let port = base + 1; port < base + count && free; port++) free = (await bind(port)) === port;
    if (free) return Array.from({ length: processes }, (_, p) => ({ host: '127.0.0.1', port: base + p * workers }));
  }
  throw new Error(`freeLocalHosts: no ${count} consecutive free ports found on 127.0.0.1`);
}

/** Binds `port` on 127.0.0.1 and lets it go: resolves with the port bound, or -1 when it is taken. */
function bind(port: number): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(-1));
    server.listen(port, '127.0.0.1', () => {
      const bound = (server.address() as { port: number }).port;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * `'host:port'`, `'[v6]:port'` or `{ host, port }` as a checked `HostAddress`.
 * @param what names the entry in error messages (`hosts[1]`, `hostfile h.txt line 3`)
 * @throws TypeError when it is not an address; RangeError when the port is not 1 to 65535
 */
export function parseHost(entry: string | HostAddress, what: string): HostAddress {
  if (typeof entry === 'object' && entry !== null) {
    if (typeof entry.host !== 'string' || entry.host === '') throw new TypeError(`${what}.host must be a non-empty string`);
    return { host: entry.host, port: checkPort(entry.port, what) };
  }
  if (typeof entry !== 'string') throw new TypeError(`${what} must be 'host:port' or { host, port }`);
  const match = /^\[([^\]]+)\]:([^:]*)$/.exec(entry) ?? /^([^:[\]\s]+):([^:]*)$/.exec(entry);
  if (!match) throw new TypeError(`${what}: ${JSON.stringify(entry)} is not host:port`);
  const [, host, port] = match;
  return { host, port: checkPort(/^\d+$/.test(port) ? Number(port) : NaN, what, port) };
}

/**
 * Reads a hostfile: one `host:port` per line, in process order; blank lines
 * and lines starting with `#` are skipped; the first `processes` addresses
 * are used, as timely does.
 * @throws Error when the file cannot be read; TypeError / RangeError for a bad
 *   line; RangeError when it has fewer addresses than `processes`
 */
export function readHostfile(path: string, processes: number): HostAddress[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`hostfile ${path} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  const hosts: HostAddress[] = [];
  text.split(/\r?\n/).forEach((raw, n) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || hosts.length === processes) return;
    hosts.push(parseHost(line, `hostfile ${path} line ${n + 1}`));
  });
  if (hosts.length < processes) {
    throw new RangeError(`hostfile ${path} has ${hosts.length} address(es); -n ${processes} needs one per process`);
  }
  return hosts;
}

/**
 * Checks that every process's port range (`port` to `port + workers - 1`)
 * fits below 65536 and that ranges on one host do not overlap.
 * @throws RangeError naming the addresses at fault
 */
export function checkPortRanges(hosts: readonly HostAddress[], workers: number, what: string): void {
  hosts.forEach(({ host, port }, p) => {
    if (port + workers - 1 > 65535) {
      throw new RangeError(`${what}[${p}]: ${host}:${port} leaves no room for ${workers} workers (ports ${port} to ${port + workers - 1})`);
    }
    for (let q = 0; q < p; q++) {
      const other = hosts[q];
      if (other.host === host && other.port < port + workers && port < other.port + workers) {
        throw new RangeError(
          `${what}[${q}] and ${what}[${p}] overlap on ${host}: each process takes ${workers} ports from its own (worker t listens on port + t)`,
        );
      }
    }
  });
}

/** `host:port` as written in messages (IPv6 in brackets). */
export function formatHost({ host, port }: HostAddress, offset = 0): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port + offset}`;
}

function checkPort(port: unknown, what: string, text: unknown = port): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`${what}: port ${JSON.stringify(text)} must be an integer from 1 to 65535`);
  }
  return port;
}
