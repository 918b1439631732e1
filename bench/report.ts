/**
 * How rows look: one printed line per row, and the JSON file. The printed
 * ratio names its direction: `ours/base` for throughput, `base/ours` for
 * latency; either way > 1 means rxwire is faster.
 */
import * as fs from 'node:fs';
import type { Row } from './harness';
import type { Noise } from './noise';

const WIDTH = { suite: 8, case: 48, value: 14, baseline: 36 } as const;

/** How a baseline's role shows in a printed row. */
const ROLE_TAG = { peer: '', floor: '[floor] ', reference: '[rxwire] ' } as const;

/** The header line printed above the rows. */
export function header(): string {
  return [
    'suite'.padEnd(WIDTH.suite),
    'case'.padEnd(WIDTH.case),
    'value'.padStart(WIDTH.value),
    '  ' + 'baseline'.padEnd(WIDTH.baseline),
    'value'.padStart(WIDTH.value),
    '  ratio (>1: rxwire faster)',
  ].join(' ');
}

/** One row as a line of text. */
export function formatRow(row: Row): string {
  const direction = row.better === 'higher' ? 'ours/base' : 'base/ours';
  return [
    row.suite.padEnd(WIDTH.suite),
    row.case.padEnd(WIDTH.case),
    formatValue(row.value, row.unit).padStart(WIDTH.value),
    '  ' + `${ROLE_TAG[row.role]}${row.baseline}`.padEnd(WIDTH.baseline),
    formatValue(row.baselineValue, row.unit).padStart(WIDTH.value),
    `  ${row.ratio.toFixed(2)}x (${direction})`,
  ].join(' ');
}

/** A value with its unit: `1.23M msgs/s`, `456k records/s`, `23.4 µs`, `2345 MB/s`. */
export function formatValue(value: number, unit: string): string {
  if (unit === 'msgs/s' || unit === 'records/s') {
    if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M ${unit}`;
    if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k ${unit}`;
    return `${value.toFixed(0)} ${unit}`;
  }
  const digits = value < 10 ? 2 : value < 100 ? 1 : 0;
  return `${value.toFixed(digits)} ${unit}`;
}

/** Where and how a `--json` run was made: read back by `--from` for RESULTS.md and the chart's caption. */
export interface RunMeta {
  /** `machineLine()` when the run was made. */
  machine: string;
  /** Repetitions of each case (`--runs`, or the default). */
  repetitions: number;
  /** The command line. */
  command: string;
  /** The machine's noise measured before the suites (./noise.ts); runs written before it have none. */
  noise?: Noise;
}

/**
 * Writes `{ machine, repetitions, command, rows }`, each row
 * `{suite, case, unit, value, baseline, baselineValue, ratio, role}`.
 * (Runs written before this kept only the rows, as a bare array: `--from`
 * still reads those, and says that their machine was not recorded.)
 */
export function writeJson(file: string, rows: readonly Row[], meta: RunMeta): void {
  const plain = rows.map(({ suite, case: name, unit, value, baseline, baselineValue, ratio, role }) => ({
    suite,
    case: name,
    unit,
    value,
    baseline,
    baselineValue,
    ratio,
    role,
  }));
  fs.writeFileSync(file, JSON.stringify({ ...meta, rows: plain }, null, 2) + '\n');
}
