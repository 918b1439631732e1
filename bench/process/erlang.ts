/**
 * The process suite's Erlang baseline: `process_bench.erl` (beside this
 * file's source) run by `erl -noshell` in a fresh Erlang VM per
 * repetition, compiled in memory (nothing is written to disk). Used when
 * `erl` is on the PATH (Debian: `apt-get install erlang-base`), or at the
 * path in the `ERL` environment variable; otherwise the suite leaves the
 * Erlang rows out and says so.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Runner, Sample } from '../harness';

/** The erl executable to use. */
const ERL = process.env.ERL ?? 'erl';

/** How long one Erlang repetition may take before it counts as failed. */
const TIMEOUT_MS = 120_000;

/** The OTP release of `erl`, or undefined when there is no working `erl`. */
export function erlangRelease(): string | undefined {
  const result = spawnSync(ERL, ['-noshell', '-eval', 'io:format("~s", [erlang:system_info(otp_release)]), halt().'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return result.status === 0 && result.stdout ? result.stdout.trim() : undefined;
}

/**
 * `process_bench.erl`: beside this file under ts-node (bench/process/), or
 * in the sources when this file runs from dist/bench/process/ (tsc does
 * not copy it).
 */
function sourceFile(): string {
  const here = path.join(__dirname, 'process_bench.erl');
  if (existsSync(here)) return here;
  return path.join(__dirname, '..', '..', '..', 'bench', 'process', 'process_bench.erl');
}

/**
 * Runs `process_bench:main(args)` on `schedulers` scheduler threads (`+S`)
 * and parses its `key=value` line into a sample, with `rename` mapping
 * Erlang's keys to the case's metric keys.
 */
function runErlang(schedulers: number, args: readonly string[], rename: Readonly<Record<string, string>>): Sample {
  const file = sourceFile();
  const argv = `[${args.map((a) => JSON.stringify(a)).join(', ')}]`;
  const program =
    `{ok, M, B} = compile:file(${JSON.stringify(file)}, [binary, report]), ` +
    `{module, M} = code:load_binary(M, ${JSON.stringify(file)}, B), M:main(${argv}), halt().`;
  const result = spawnSync(ERL, ['-noshell', '+S', String(schedulers), '-eval', program], { encoding: 'utf8', timeout: TIMEOUT_MS });
  if (result.status !== 0) {
    throw new Error(`erl exited with ${result.status ?? result.signal}: ${result.stderr || result.stdout}`);
  }
  const sample: Record<string, number> = {};
  for (const [, key, value] of result.stdout.matchAll(/(\w+)=([\d.]+)/g)) {
    if (key in rename) sample[rename[key]] = Number(value);
  }
  return sample;
}

/** Erlang's spawn of `n` idle processes: µs per spawn and heap / RSS bytes per process. */
export function erlangSpawn(n: number): Runner {
  return {
    name: 'Erlang/OTP (+S 1)',
    async run() {
      return runErlang(1, ['spawn', String(n)], { spawn_us: 'spawnUs', heap_bytes: 'heapBytes', rss_bytes: 'rssBytes' });
    },
  };
}

/** Erlang's ring of `size` processes passing a token `hops` times, on `schedulers` scheduler threads. */
export function erlangRing(size: number, hops: number, schedulers: 1 | 2): Runner {
  return {
    name: `Erlang/OTP (+S ${schedulers})`,
    async run() {
      return runErlang(schedulers, ['ring', String(size), String(hops)], { hops_per_s: 'rate' });
    },
  };
}
