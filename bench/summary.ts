/**
 * The run in one table: one line per figure, rxwire's value, then its ratio
 * against each peer and against the floor (the same job written bare), as
 * Markdown. Printed at the end of a run and written by `--results FILE.md`
 * (bench/RESULTS.md is one) with the command, date, Node version and CPU.
 */
import * as os from 'node:os';
import type { Row } from './harness';
import { formatValue } from './report';

/** One figure: rxwire's value and its ratios, by role. */
export interface Figure {
  readonly suite: string;
  readonly case: string;
  readonly value: string;
  readonly peers: readonly { name: string; ratio: number }[];
  readonly floors: readonly { name: string; ratio: number }[];
  readonly references: readonly { name: string; ratio: number }[];
}

/** Groups rows (one per baseline) into figures (one per suite and case), in order. */
export function figures(rows: readonly Row[]): Figure[] {
  const byKey = new Map<string, Figure & { peers: Figure['peers'][number][]; floors: Figure['floors'][number][]; references: Figure['references'][number][] }>();
  for (const row of rows) {
    const key = `${row.suite}\u0000${row.case}`;
    let figure = byKey.get(key);
    if (!figure) {
      figure = { suite: row.suite, case: row.case, value: formatValue(row.value, row.unit), peers: [], floors: [], references: [] };
      byKey.set(key, figure);
    }
    const entry = { name: row.baseline, ratio: row.ratio };
    if (row.role === 'floor') figure.floors.push(entry);
    else if (row.role === 'reference') figure.references.push(entry);
    else figure.peers.push(entry);
  }
  return [...byKey.values()];
}

/** The machine a run was made on, in one line. */
export function machineLine(date = new Date()): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${date.toISOString().slice(0, 10)} · Node ${process.version} · ${cpu} × ${os.availableParallelism()}`;
}

/** The figures as a Markdown table. */
export function markdownTable(rows: readonly Row[]): string {
  const list = (entries: readonly { name: string; ratio: number }[]) =>
    entries.length === 0 ? '—' : entries.map((e) => `${e.ratio.toFixed(2)}× ${e.name}`).join('<br>');
  const lines = ['| suite | case | rxwire | vs peer | vs floor | vs rxwire reference |', '| --- | --- | ---: | --- | --- | --- |'];
  for (const f of figures(rows)) {
    lines.push(`| ${f.suite} | ${f.case} | ${f.value} | ${list(f.peers)} | ${list(f.floors)} | ${list(f.references)} |`);
  }
  return lines.join('\n');
}

/** Where figures were measured: the machine line of the run(s), and each case's repetitions when known. */
export interface Provenance {
  machine: string;
  repetitions: number | undefined;
  /** The machine's noise as each run measured it (./noise.ts `noiseLine`), in run order; empty if none did. */
  noise?: readonly string[];
}

/** bench/RESULTS.md's text: the command, the machine, the table, the ratio rule. */
export function resultsMarkdown(rows: readonly Row[], command: string, made: Provenance, fullRuns = 1): string {
  const { repetitions } = made;
  const each =
    fullRuns > 1
      ? `Each figure is the median over ${fullRuns} full runs of its suite (in each run, the median of its repetitions), every baseline measured in the same run as its subject.`
      : repetitions === undefined
        ? 'Each figure is the median of its repetitions (how many, the run did not record), every baseline measured in the same run.'
        : `Each figure is the median of ${repetitions} runs, every baseline measured in the same run.`;
  return [
    '# Benchmark results',
    '',
    `Command: \`${command}\``,
    '',
    `Machine: ${made.machine}. ${each}`,
    'A ratio > 1 means rxwire did better (throughput: ours/base; latency: base/ours). The floor is the same job',
    'written bare in the bench (bench/floor/, bare net for tcp): its ratio says how close rxwire is to what',
    'this machine allows. See bench/README.md for what each case measures.',
    '',
    ...noiseParagraph(made.noise ?? []),
    markdownTable(rows),
    '',
  ].join('\n');
}

/** What the runs' noise probes saw, before the table (bench/README.md, "Tails and the machine's noise"). */
function noiseParagraph(lines: readonly string[]): string[] {
  if (lines.length === 0) return [];
  const said = lines.length === 1 ? `Noise, before the suites: ${lines[0]}.` : `Noise, before each run's suites: ${lines.map((l, i) => `run ${i + 1}, ${l}`).join('; ')}.`;
  return [said, ''];
}
