/**
 * rxwire's main demo (`npm start`): a million trades to a worker thread and
 * per-symbol VWAPs back, each way over a WireSubject on the port transport.
 *
 * What it shows:
 * - two `port.pair()` links handed to a worker (`workerData` + `transferList`);
 * - `await wire.send(trade)`: the loop waits whenever the worker falls a
 *   window behind, so memory stays bounded however fast we generate;
 * - the worker's side is plain RxJS (`vwap.worker.ts`);
 * - `{ worker }` in the open options: a crash of the worker fails the
 *   results stream (and any pending `send`) with `WorkerError`, no hang;
 * - `wire.stats()` for the bytes that crossed.
 *
 * Runs compiled (`node dist/examples/vwap.js`) or as TypeScript
 * (`npx ts-node --transpile-only examples/vwap.ts`); `startWorker` loads the
 * worker from `.js` or `.ts` to match. Pass a count to change the size.
 */
import path from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { TransportClosedError, open, startWorker } from '../lib'; // in your app: from 'rxwire'
import { port, transferList } from '../transports'; // 'rxwire/transports'
import { SymbolStats, Trade } from './trade';

const COUNT = Number(process.argv[2] ?? 1_000_000);
if (!Number.isSafeInteger(COUNT) || COUNT < 1) throw new RangeError('usage: vwap [count], count a positive integer');

async function main(): Promise<void> {
  const [tradesHere, tradesThere] = port.pair();
  const [resultsHere, resultsThere] = port.pair();
  const worker = startWorker(path.join(__dirname, `vwap.worker${path.extname(__filename)}`), {
    workerData: { trades: tradesThere, results: resultsThere },
    transferList: transferList(tradesThere, resultsThere),
  });
  const trades = open(tradesHere, Trade, { worker });
  const results = open(resultsHere, SymbolStats, { worker });

  const expected = new Map<string, Sums>(); // the same sums, kept here in plain JS
  const progress = progressLine(COUNT);
  const started = performance.now();

  async function sendAll(): Promise<void> {
    try {
      for (const trade of generateTrades(COUNT)) {
        await trades.send(trade); // waits while the worker is a window behind
        const sum = expected.get(trade.sym) ?? { notional: 0, volume: 0, trades: 0 };
        sum.notional += trade.price * trade.qty;
        sum.volume += trade.qty;
        sum.trades += 1;
        expected.set(trade.sym, sum);
        progress(trade.id + 1);
      }
      trades.complete();
    } catch (err) {
      // The worker stopped reading (its pipeline failed): the results say why.
      if (!(err instanceof TransportClosedError)) throw err;
    }
  }

  // Subscribe to the results before sending, and wait for both together, so
  // a WorkerError (or the worker's own error, as RemoteError) ends the run at once.
  const rows$ = lastValueFrom(results.pipe(toArray()));
  const [rows] = await Promise.all([rows$, sendAll()]).finally(progress.done);
  const seconds = (performance.now() - started) / 1000;

  console.log('symbol        vwap       volume   trades');
  for (const row of rows.sort((a, b) => a.sym.localeCompare(b.sym))) {
    console.log(`${row.sym.padEnd(6)} ${row.vwap.toFixed(4).padStart(11)} ${String(row.volume).padStart(12)} ${String(row.trades).padStart(8)}`);
  }
  const { sentBytes } = trades.stats();
  console.log(
    `\n${COUNT.toLocaleString('en-US')} records in ${seconds.toFixed(2)} s: ` +
      `${Math.round(COUNT / seconds).toLocaleString('en-US')} records/s, ` +
      `${(sentBytes / 2 ** 20).toFixed(1)} MiB sent (${(sentBytes / COUNT).toFixed(1)} bytes/record)`,
  );

  const mismatch = findMismatch(rows, expected, COUNT);
  if (mismatch) throw new Error(`check failed: ${mismatch}`);
  console.log('check: OK');
}

interface Sums {
  notional: number;
  volume: number;
  trades: number;
}

/** Deterministic, plausible trades: a seeded random walk per symbol. */
function* generateTrades(count: number): Generator<Trade> {
  const symbols: Record<string, number> = {
    AAPL: 189, AMZN: 178, AVGO: 1390, COST: 720, GOOG: 141, JPM: 196, META: 486,
    MSFT: 415, NFLX: 610, NVDA: 880, ORCL: 125, TSLA: 175, V: 275, XOM: 118,
  };
  const names = Object.keys(symbols);
  const random = mulberry32(42);
  let ts = Date.UTC(2024, 2, 15, 13, 30);
  for (let id = 0; id < count; id++) {
    const sym = names[Math.floor(random() * names.length)];
    symbols[sym] *= 1 + (random() - 0.5) / 500; // ±0.1% a trade
    ts += random() * 25;
    const price = Math.round(symbols[sym] * 100) / 100;
    yield { id, ts, sym, price, qty: 1 + Math.floor(random() ** 3 * 2000) };
  }
}

/** A small seeded PRNG (mulberry32), so every run sends the same trades. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Compares the worker's rows with the sums kept here; a message on the first difference. */
function findMismatch(rows: SymbolStats[], expected: Map<string, Sums>, count: number): string | undefined {
  const total = rows.reduce((n, row) => n + row.trades, 0);
  if (total !== count) return `the worker saw ${total} trades of ${count}`;
  if (rows.length !== expected.size) return `${rows.length} symbols from the worker, ${expected.size} sent`;
  for (const row of rows) {
    const sum = expected.get(row.sym);
    if (!sum) return `unexpected symbol ${row.sym}`;
    const vwap = sum.notional / sum.volume;
    if (row.volume !== sum.volume || row.trades !== sum.trades || Math.abs(row.vwap - vwap) > 1e-9 * vwap) {
      return `${row.sym}: worker ${JSON.stringify(row)}, expected vwap ${vwap}, volume ${sum.volume}, trades ${sum.trades}`;
    }
  }
  return undefined;
}

/** A `\r` progress line on stderr, only when stderr is a terminal. */
function progressLine(total: number): ((sent: number) => void) & { done(): void } {
  const tty = process.stderr.isTTY;
  const started = performance.now();
  let last = started;
  const update = (sent: number): void => {
    if (!tty || (sent !== total && sent % 4096 !== 0)) return;
    const now = performance.now();
    if (sent !== total && now - last < 100) return;
    last = now;
    const rate = Math.round(sent / ((now - started) / 1000)).toLocaleString('en-US');
    process.stderr.write(`\rsending ${((100 * sent) / total).toFixed(0).padStart(3)}%  ${rate} records/s   `);
  };
  const done = (): void => {
    if (tty) process.stderr.write('\r\x1b[K');
  };
  return Object.assign(update, { done });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
