/**
 * Where the workers of `initialize` run, as in timely's `Config`: one worker
 * in the calling thread, or N worker threads in this process. (A cluster of
 * processes arrives with the TCP transport; its config joins this union.)
 */

/** One worker, in the calling thread: for debugging and tests. */
export interface ThreadConfig {
  readonly kind: 'thread';
}

/** `workers` worker threads in this process, linked by shared-memory rings. */
export interface ProcessConfig {
  readonly kind: 'process';
  readonly workers: number;
}

export type Config = ThreadConfig | ProcessConfig;

/**
 * The configs. `Config.process(n)` is a method, not a free function, so it
 * never shadows Node's global `process`.
 *
 * ## Example
 * ```ts
 * import { Config, initialize } from 'rxwire';
 * await initialize(Config.process(4), new URL('./count.worker.js', import.meta.url)).join();
 * await initialize(Config.fromArgs(), './count.worker.js').join();   // node main.js -w 4
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
   * Reads `-w N` / `--workers N` / `--workers=N` from a command line, as
   * timely's `Config::from_args` does: more than one worker gives
   * `process(N)`, one (the default) gives `thread`. Other arguments are left
   * for the program.
   * @param argv the arguments, default `process.argv.slice(2)`
   * @throws RangeError when the count is not a positive integer
   */
  fromArgs(argv: readonly string[] = process.argv.slice(2)): Config {
    const workers = readWorkers(argv);
    return workers > 1 ? Config.process(workers) : Config.thread();
  },
};

/** What `initialize` accepts: a config, or `{ workers: n }` for `Config.process(n)`. */
export type ConfigLike = Config | { readonly workers: number };

/** Checks a config at the door. */
export function toConfig(config: ConfigLike): Config {
  if (typeof config !== 'object' || config === null) {
    throw new TypeError('initialize: config must be Config.thread(), Config.process(n) or { workers: n }');
  }
  if ('kind' in config) {
    if (config.kind === 'thread') return config;
    if (config.kind === 'process') return Config.process(config.workers);
    throw new TypeError(`initialize: unknown config kind ${JSON.stringify((config as { kind: unknown }).kind)}`);
  }
  return Config.process(config.workers);
}

function readWorkers(argv: readonly string[]): number {
  let workers = 1;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    let text: string | undefined;
    if (arg === '-w' || arg === '--workers') text = argv[++i];
    else if (arg.startsWith('--workers=')) text = arg.slice('--workers='.length);
    else if (/^-w\d+$/.test(arg)) text = arg.slice(2);
    else continue;
    workers = checkWorkers(Number(text), arg.startsWith('--') ? '--workers' : '-w');
  }
  return workers;
}

function checkWorkers(workers: number, name: string): number {
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`${name} must be a positive integer`);
  return workers;
}
