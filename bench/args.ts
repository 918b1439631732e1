/**
 * The runner's command line, parsed and validated:
 *   run.js [SUITE...] [--quick] [--runs N] [--json FILE] [--chart FILE.svg]
 *          [--results FILE.md] [--from FILE.json] [--help]
 * No suite named means every suite.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { Suite } from './harness';

/** What the runner was asked to do. */
export interface RunOptions {
  /** The suites to run, in the order named (all, in registry order, if none named). */
  readonly suites: readonly Suite[];
  /** The short version of every suite. */
  readonly quick: boolean;
  /** Measured repetitions per runner: `--runs`, else 3 with `--quick`, else 5. */
  readonly repetitions: number;
  /** Where to write the rows as JSON, if anywhere (an absolute path). */
  readonly json: string | undefined;
  /** Where to draw the bar chart of the ratios (SVG), if anywhere. */
  readonly chart: string | undefined;
  /** Where to write the Markdown results (bench/RESULTS.md), if anywhere. */
  readonly results: string | undefined;
  /** Run nothing: read the rows of an earlier `--json` file (for --chart/--results). */
  /** Earlier `--json` files to take the rows of (several: the median of each figure over them). */
  readonly from: readonly string[] | undefined;
  /** Print the usage and stop. */
  readonly help: boolean;
}

/** The usage text, listing `suites`. */
export function usage(suites: readonly Suite[]): string {
  return [
    'usage: npm run bench -- [SUITE...] [--quick] [--runs N] [--json FILE] [--chart FILE.svg] [--results FILE.md] [--from FILE.json ...]',
    '  SUITE        one of the suites below (default: all)',
    '  --quick      short version of each suite (fewer values, 3 runs)',
    '  --runs N     measured repetitions per case and baseline (default 5, quick 3); the median is reported',
    '  --json FILE  also write the run as JSON: {machine, repetitions, command, rows: [{suite, case, unit, value, baseline, baselineValue, ratio, role}]}',
    '  --chart FILE.svg    draw each figure\'s ratio vs its first peer and vs its hardest floor as a bar chart (vega-lite, SVG)',
    '  --results FILE.md   write the run\'s table, command and machine as Markdown (bench/RESULTS.md)',
    '  --from FILE.json    run nothing: take the rows (and machine) of an earlier --json run (for --chart, --results);',
    '                      given more than once, each figure is the median over those runs',
    'suites:',
    ...suites.map((s) => `  ${s.name.padEnd(12)} ${s.title}`),
  ].join('\n');
}

/**
 * Parses `argv` (the arguments after the script).
 * @throws TypeError or RangeError naming the bad argument
 */
export function parseOptions(argv: readonly string[], registry: readonly Suite[]): RunOptions {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      json: { type: 'string' },
      chart: { type: 'string' },
      results: { type: 'string' },
      from: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const suites: Suite[] = [];
  for (const name of positionals) {
    const suite = registry.find((s) => s.name === name);
    if (!suite) throw new RangeError(`unknown suite "${name}" (suites: ${registry.map((s) => s.name).join(', ')})`);
    if (!suites.includes(suite)) suites.push(suite);
  }
  const quick = values.quick ?? false;
  let repetitions = quick ? 3 : 5;
  if (values.runs !== undefined) {
    repetitions = Number(values.runs);
    if (!/^\d+$/.test(values.runs) || repetitions < 1 || repetitions > 100) {
      throw new RangeError('--runs must be an integer from 1 to 100');
    }
  }
  const json = outputFile('--json', values.json);
  const chart = outputFile('--chart', values.chart);
  const results = outputFile('--results', values.results);
  let from: string[] | undefined;
  if (values.from !== undefined) {
    from = values.from.map((file) => path.resolve(file));
    for (const file of from) if (!fs.existsSync(file)) throw new RangeError(`--from: no such file ${file}`);
    if (positionals.length > 0) throw new TypeError('--from runs nothing: name no suite with it');
  }
  return { suites: suites.length > 0 ? suites : [...registry], quick, repetitions, json, chart, results, from, help: values.help ?? false };
}

/** An output file's absolute path; fails now, not after a long run, when its folder cannot be written. */
function outputFile(option: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value === '') throw new TypeError(`${option} needs a file name`);
  const file = path.resolve(value);
  try {
    fs.accessSync(path.dirname(file), fs.constants.W_OK);
  } catch {
    throw new RangeError(`${option}: cannot write in ${path.dirname(file)} (no such directory, or not writable)`);
  }
  return file;
}
