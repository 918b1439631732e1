/**
 * The benchmark runner: `npm run bench -- [SUITE...] [--quick] [--runs N]
 * [--json FILE]`. Runs each case of each chosen suite (rxwire and its
 * baselines, interleaved, several repetitions, median reported), prints one
 * row per figure on stdout, and a live progress line on stderr when that is
 * a terminal. Exits 0 when every case ran, 1 when one failed, 2 on bad usage.
 * See bench/README.md.
 */
import * as fs from 'node:fs';
import { parseOptions, usage, type RunOptions } from './args';
import { measureCase, type Row, type Suite } from './harness';
import { medianOfRuns, runsOfEverySuite } from './merge';
import { ProgressLine } from './progress';
import { writeChart } from './chart';
import { formatRow, header, writeJson, type RunMeta } from './report';
import { machineLine, markdownTable, resultsMarkdown, type Provenance } from './summary';
import { codecSuite } from './suites/codec';
import { exchangeSuite } from './suites/exchange';
import { portSuite } from './suites/port';
import { processSuite } from './suites/process';
import { requestSuite } from './suites/request';
import { shmSuite } from './suites/shm';
import { stageSuite } from './suites/stage';
import { tcpSuite } from './suites/tcp';
import { natsSuite } from './suites/nats';
import { measureNoise, noiseLine } from './noise';

/** Every suite, in the order a plain `npm run bench` runs them. */
const SUITES: readonly Suite[] = [codecSuite, portSuite, shmSuite, requestSuite, exchangeSuite, stageSuite, tcpSuite, natsSuite, processSuite];

async function main(argv: readonly string[]): Promise<number> {
  let options: RunOptions;
  try {
    options = parseOptions(argv, SUITES);
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n${usage(SUITES)}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${usage(SUITES)}\n`);
    return 0;
  }

  if (options.from) {
    const files = options.from.map((file) => readRun(file));
    const runs = files.map((f) => f.rows);
    const rows = runs.length === 1 ? runs[0] : medianOfRuns(runs);
    // Where the runs were made, not where they are read: one machine line if they all agree.
    const machines = new Set(files.map((f) => f.meta?.machine ?? 'a machine the run did not record'));
    const repetitions = new Set(files.map((f) => f.meta?.repetitions));
    const made: Provenance = {
      machine: [...machines].join('; '),
      repetitions: repetitions.size === 1 ? [...repetitions][0] : undefined,
      noise: files.flatMap((f) => (f.meta?.noise ? [noiseLine(f.meta.noise)] : [])),
    };
    await writeOutputs(options, rows, `npm run bench -- ${options.from.map((file) => `--from ${file}`).join(' ')}`, made, runsOfEverySuite(runs));
    return 0;
  }
  const progress = new ProgressLine(process.stderr);
  const rows: Row[] = [];
  let failures = 0;
  progress.show('noise probe: a busy loop for 1 s ...');
  const noise = measureNoise();
  progress.clear();
  process.stdout.write(`noise: ${noiseLine(noise)}\n${header()}\n`);
  for (const suite of options.suites) {
    const cases = suite.cases({ quick: options.quick });
    for (const [index, kase] of cases.entries()) {
      const label = `[${suite.name} ${index + 1}/${cases.length}] ${kase.name} ...`;
      try {
        const measured = await measureCase(suite.name, kase, {
          repetitions: options.repetitions,
          progress: (done, of, phase) => progress.show(`${label} ${phase === 'warm-up' ? 'warm-up' : `${done}/${of} runs`}`),
        });
        progress.clear();
        for (const row of measured) process.stdout.write(`${formatRow(row)}\n`);
        rows.push(...measured);
      } catch (err) {
        progress.clear();
        process.stderr.write(`bench: ${suite.name} / ${kase.name} failed: ${(err as Error).stack ?? String(err)}\n`);
        failures++;
      }
    }
  }
  process.stdout.write(`\n${markdownTable(rows)}\n`);
  const command = `npm run bench -- ${argv.join(' ')}`.trim();
  if (options.json) writeJson(options.json, rows, { machine: machineLine(), repetitions: options.repetitions, command, noise });
  await writeOutputs(options, rows, command, { machine: machineLine(), repetitions: options.repetitions, noise: [noiseLine(noise)] });
  return failures > 0 ? 1 : 0;
}

/** --chart and --results, saying where the rows were measured (`made`). */
async function writeOutputs(options: RunOptions, rows: Row[], command: string, made: Provenance, fullRuns = 1): Promise<void> {
  if (options.chart) await writeChart(options.chart, rows, made.machine);
  if (options.results) fs.writeFileSync(options.results, resultsMarkdown(rows, command, made, fullRuns));
}

/** An earlier `--json` run: its rows, and its provenance when it recorded one (runs before that are bare arrays). */
function readRun(file: string): { rows: Row[]; meta: RunMeta | undefined } {
  const read = JSON.parse(fs.readFileSync(file, 'utf8')) as Row[] | (RunMeta & { rows: Row[] });
  const [list, meta] = Array.isArray(read) ? [read, undefined] : [read.rows, read];
  return { rows: list.map((r) => ({ ...r, role: r.role ?? 'peer', better: r.unit === 'µs' ? 'lower' : 'higher' }) as Row), meta };
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
