/**
 * The benchmark runner: `npm run bench -- [SUITE...] [--quick] [--runs N]
 * [--json FILE]`. Runs each case of each chosen suite (rxwire and its
 * baselines, interleaved, several repetitions, median reported), prints one
 * row per figure on stdout, and a live progress line on stderr when that is
 * a terminal. Exits 0 when every case ran, 1 when one failed, 2 on bad usage.
 * See bench/README.md.
 */
import { parseOptions, usage, type RunOptions } from './args';
import { measureCase, type Row, type Suite } from './harness';
import { ProgressLine } from './progress';
import { formatRow, header, writeJson } from './report';
import { codecSuite } from './suites/codec';
import { exchangeSuite } from './suites/exchange';
import { portSuite } from './suites/port';
import { requestSuite } from './suites/request';
import { shmSuite } from './suites/shm';
import { stageSuite } from './suites/stage';
import { tcpSuite } from './suites/tcp';
import { natsSuite } from './suites/nats';

/** Every suite, in the order a plain `npm run bench` runs them. */
const SUITES: readonly Suite[] = [codecSuite, portSuite, shmSuite, requestSuite, exchangeSuite, stageSuite, tcpSuite, natsSuite];

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

  const progress = new ProgressLine(process.stderr);
  const rows: Row[] = [];
  let failures = 0;
  process.stdout.write(`${header()}\n`);
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
  if (options.json) writeJson(options.json, rows);
  return failures > 0 ? 1 : 0;
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
