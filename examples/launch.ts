/**
 * What the cluster launchers of the word count share
 * (examples/word-count-cluster.ts over TCP, examples/word-count-nats.ts over
 * NATS): children's output copied with a prefix, a count flag, their exit
 * codes, and the check of the union of every process's counts against a
 * count made in one loop.
 */
import type { ChildProcess } from 'node:child_process';
import { DEFAULT_CORPUS, countInPlace } from './corpus';

/** What a launcher's check needs of each process's report: per worker of it, [word, count] pairs. */
export interface ProcessCounts {
  perWorker: [string, number][][];
}

/** The union of every process's counts against the one-loop count; prints the verdict; 0 when equal, else 1. */
export function checkUnion(received: readonly ProcessCounts[], processes: number, workers: number, lines: number): number {
  const counts = new Map<string, number>();
  let twice = 0;
  for (const { perWorker } of received) {
    for (const pairs of perWorker) {
      for (const [word, n] of pairs) {
        if (counts.has(word)) twice++; // a word counted by two workers: exchange failed
        counts.set(word, n);
      }
    }
  }
  const expected = countInPlace({ ...DEFAULT_CORPUS, lines });
  const all = received.length === processes && received.every(({ perWorker }) => perWorker.length === workers);
  const same = all && twice === 0 && counts.size === expected.size && [...expected].every(([w, n]) => counts.get(w) === n);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  console.log(`union: ${total.toLocaleString('en-US')} words, ${counts.size} distinct, from ${received.length} processes`);
  console.log(
    same
      ? `check: OK, the union of ${processes} processes × ${workers} workers equals a single-threaded count`
      : `check: FAILED, the union differs from a single-threaded count (${twice} word(s) counted twice, ${received.length} of ${processes} processes reported)`,
  );
  return same ? 0 : 1;
}

/** Resolves with a child's exit code (128 when a signal ended it); `failed` runs first when it is not 0. */
export function exitCode(child: ChildProcess, failed?: () => void): Promise<number> {
  return new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => {
      if (code !== 0) failed?.();
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

/** The launcher's verdict: every process exited 0, then the union of their counts is checked (see checkUnion). */
export function verdict(codes: readonly number[], received: readonly ProcessCounts[], processes: number, workers: number, lines: number): number {
  if (codes.some((code) => code !== 0)) {
    console.log(`check: FAILED, exit codes ${codes.join(', ')}`);
    return 1;
  }
  return checkUnion(received, processes, workers, lines);
}

/** Copies a child's output to ours, each line prefixed. */
export function prefixLines(child: ChildProcess, prefix: string): void {
  for (const [stream, out] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ] as const) {
    let rest = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (text: string) => {
      const lines = (rest + text).split('\n');
      rest = lines.pop()!;
      for (const line of lines) out.write(`${prefix}${line}\n`);
    });
    stream?.on('end', () => rest && out.write(`${prefix}${rest}\n`));
  }
}

/** The text after a flag (`--servers x`, `--servers=x`), or undefined when absent. */
export function flag(argv: readonly string[], name: string): string | undefined {
  const at = argv.findIndex((arg) => arg === name || arg.startsWith(`${name}=`));
  if (at < 0) return undefined;
  return argv[at].includes('=') ? argv[at].slice(name.length + 1) : argv[at + 1];
}

/** A positive integer option (`-n 3`, `--lines=500`), or its default. */
export function count(argv: readonly string[], name: string, fallback: number): number {
  const text = flag(argv, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  return value;
}
