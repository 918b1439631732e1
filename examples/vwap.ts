/**
 * A demo (`npm run vwap`; `npm start` is risk.ts): a million trades to a worker thread and
 * per-symbol VWAPs back, each way over a WireSubject, on the shared-memory
 * transport (`shm`, the default) or the MessagePort one (`--transport port`).
 *
 * What it shows:
 * - two links made by `shm.pair()` (or `port.pair()`) and handed to a worker
 *   (`workerData` + `transferList`): the transport is one word here, and the
 *   worker (`vwap.worker.ts`) is the same for both: plain RxJS on `open(end)`;
 * - `await wire.send(trade)`: the loop waits whenever the worker falls a ring
 *   (shm) or a window (port) behind, so memory stays bounded however fast we
 *   generate;
 * - `{ worker }` in the open options: a crash of the worker fails the
 *   results stream (and any pending `send`) with `WorkerError`, no hang;
 * - `wire.stats()` for the bytes that crossed (each transport counts its own
 *   framing, so bytes/record differ a little).
 *
 * Which transport: pick shm when both ends are on this machine and you want
 * the lowest latency and highest rate; its memory is fixed per ring
 * (`shm.pair({ bytes })`, two rings a pair) and a record must fit in one.
 * Pick port for the simplest setup: messages of any size, and it works with
 * any Worker, MessagePort or `parentPort`.
 *
 * Usage: `node dist/examples/vwap.js [count] [--transport shm|port]`, or as
 * TypeScript (`npx ts-node --transpile-only examples/vwap.ts ...`);
 * `startWorker` loads the worker from `.js` or `.ts` to match.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { lastValueFrom, toArray } from 'rxjs';
import { TransportClosedError, open, startWorker } from '../index'; // in your app: from 'rxwire'
import { port, shm, transferList } from '../transports'; // 'rxwire/transports'
import { SymbolStats, Trade } from './trade';

type Transport = 'shm' | 'port';

const { count: COUNT, transport: TRANSPORT } = parseCommandLine(process.argv.slice(2));

/** A linked pair of ends on the chosen transport: the only line that differs. */
function pair() {
  return TRANSPORT === 'shm' ? shm.pair({ bytes: 1 << 20 }) : port.pair(); // shm: 1 MiB a ring, fixed
}

async function main(): Promise<void> {
  const [tradesHere, tradesThere] = pair();
  const [resultsHere, resultsThere] = pair();
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
    `\n${COUNT.toLocaleString('en-US')} records over ${TRANSPORT} in ${seconds.toFixed(2)} s: ` +
      `${Math.round(COUNT / seconds).toLocaleString('en-US')} records/s, ` +
      `${(sentBytes / 2 ** 20).toFixed(1)} MiB sent (${(sentBytes / COUNT).toFixed(1)} bytes/record)`,
  );

  const mismatch = findMismatch(rows, expected, COUNT);
  if (mismatch) throw new Error(`check failed: ${mismatch}`);
  console.log('check: OK');
}

/** `[count] [--transport shm|port]`; a usage error exits with status 2. */
function parseCommandLine(args: string[]): { count: number; transport: Transport } {
  const usage = 'usage: vwap [count] [--transport shm|port]   (defaults: 1000000, shm)';
  const fail = (message: string): never => {
    console.error(`vwap: ${message}\n${usage}`);
    process.exit(2);
  };
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { transport: { type: 'string', default: 'shm' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
    });
  } catch (err) {
    return fail((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const transport = values.transport;
  if (transport !== 'shm' && transport !== 'port') return fail(`unknown transport '${transport}'`);
  if (positionals.length > 1) return fail(`one count at most, got ${positionals.join(' ')}`);
  const count = Number(positionals[0] ?? 1_000_000);
  if (!Number.isSafeInteger(count) || count < 1) return fail(`count must be a positive integer, got ${positionals[0]}`);
  return { count, transport };
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
