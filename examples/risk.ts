/**
 * rxwire's main demo (`npm start`): an existing RxJS pipeline whose heavy
 * step moves to worker threads with one line.
 *
 * The pipeline prices a month's option on every trade (a Monte Carlo `map`,
 * tens of microseconds a trade) and sums exposure per symbol. First it runs
 * as it was written, on the main thread; then the same pipeline with the
 * `map(score)` replaced by
 *
 *     stage(riskWorker, { workers, input: Trade, output: Scored })
 *
 * whose worker module is `(trades$) => trades$.pipe(map(score))`. Results
 * come back in input order (`ordered` is the default), so everything after
 * the stage is unchanged and the totals must be identical; the demo checks
 * that and prints the gain.
 *
 * Usage: `node dist/examples/risk.js [trades] [-w workers]` (default 100000
 * trades, as many workers as this machine has cores), or as TypeScript with
 * `npx ts-node --transpile-only examples/risk.ts`.
 */
import { availableParallelism } from 'node:os';
import { extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { lastValueFrom, map, range, reduce, type OperatorFunction } from 'rxjs';
import { stage } from '../operators'; // in your app: from 'rxwire/operators'
import { score, Scored } from './risk-model';
import { Trade } from './trade';

const SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOG', 'META', 'TSLA', 'AVGO'];

function tradeAt(i: number): Trade {
  return { id: i, ts: 1.7e12 + i, sym: SYMBOLS[i % SYMBOLS.length], price: 100 + (i % 997) / 10, qty: 1 + (i % 50) };
}

type Exposure = Record<string, { notional: number; option: number }>;

/** The app's pipeline, with its heavy step passed in. */
function exposure(count: number, heavy: OperatorFunction<Trade, Scored>): Promise<Exposure> {
  return lastValueFrom(
    range(0, count).pipe(
      map(tradeAt),
      heavy,
      reduce((acc: Exposure, s) => {
        const row = (acc[s.sym] ??= { notional: 0, option: 0 });
        row.notional += s.notional;
        row.option += s.option;
        return acc;
      }, {}),
    ),
  );
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}

async function main(): Promise<void> {
  // `[trades] [-w workers]`: the count is the first word that is not an option's value.
  const { values, positionals } = parseArgs({ options: { workers: { type: 'string', short: 'w' } }, allowPositionals: true });
  const count = Number(positionals[0] ?? 100_000);
  const workers = values.workers === undefined ? Math.max(availableParallelism(), 2) : Number(values.workers);
  if (!(Number.isInteger(count) && count > 0) || !(Number.isInteger(workers) && workers > 0 && workers <= 1024)) {
    console.error('usage: risk [trades] [-w workers]   (positive integers; workers at most 1024)');
    process.exitCode = 2;
    return;
  }
  const worker = join(__dirname, `risk.worker${extname(__filename)}`);

  console.log(`pricing ${count.toLocaleString('en-US')} trades, then summing exposure per symbol`);
  const [before, mainMs] = await timed(() => exposure(count, map(score)));
  console.log(`  main thread only:            ${mainMs.toFixed(0).padStart(6)} ms`);
  const [after, stageMs] = await timed(() => exposure(count, stage(worker, { workers, input: Trade, output: Scored })));
  console.log(`  heavy step on ${workers} worker threads: ${stageMs.toFixed(0).padStart(6)} ms (worker start included)`);
  console.log(`  gain: ${(mainMs / stageMs).toFixed(2)}x on ${availableParallelism()} cores`);

  const symbols = SYMBOLS.filter((sym) => before[sym] !== undefined); // fewer trades than symbols: only those priced
  for (const sym of symbols) {
    const { notional, option } = after[sym] ?? { notional: NaN, option: NaN };
    console.log(`  ${sym.padEnd(5)} notional ${notional.toExponential(4)}  option value ${option.toExponential(4)}`);
  }
  const same =
    Object.keys(after).length === symbols.length &&
    symbols.every((s) => before[s].notional === after[s]?.notional && before[s].option === after[s]?.option);
  console.log(same ? 'check: OK, identical to the main-thread run' : 'check: FAILED, results differ');
  if (!same) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
