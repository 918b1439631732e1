/**
 * Port throughput runners: main sends Trades to a worker that decodes and
 * counts every one (object in on main, object out in the worker). First
 * `warmup` values, untimed, so both threads run optimized code; then the
 * clock runs from the first of the next `n` sends until the worker reports
 * it has them all. Worker start-up and teardown are outside the clock.
 */
import { MessageChannel } from 'node:worker_threads';
import { open } from '../../transports/open';
import type { WireSubject } from '../../core/wire-subject';
import { port, transferList } from '../../transports';
import type { Runner, Sample } from '../harness';
import { POOL_MASK, Trade, tradePool } from '../trade';
import { awaitDone, awaitReport, startBenchWorker, type BenchWorker } from '../worker-host';

/** Sizes of one repetition. */
export interface ThroughputSize {
  /** Values timed. */
  readonly n: number;
  /** Values sent (and counted by the worker) before the clock starts. */
  readonly warmup: number;
}

/** How the main side hands values to the WireSubject. */
export type SendMode =
  /** `await wire.send(t)` for every value. */
  | 'send'
  /** `wire.trySend(t)` while the window has room; `await wire.send(t)` once when it is full. */
  | 'trySend';

/** Sends values `from` to `to` (exclusive) of the pool sequence. */
export type SendRange = (from: number, to: number) => Promise<void> | void;

/**
 * `wire.trySend(v)` for `v = pool[i & mask]`, i from `from` to `to`
 * (exclusive), and `await wire.send(v)` for a value it refuses (the window
 * or the ring is full): the send loop of every throughput case.
 */
export async function trySendRange<T>(wire: WireSubject<T>, pool: readonly T[], mask: number, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    const v = pool[i & mask];
    if (!wire.trySend(v)) await wire.send(v);
  }
}

/** rxwire: a WireSubject over `port.pair()` to the `wire-count` worker. */
export function wireThroughput(size: ThroughputSize, mode: SendMode): Runner {
  const pool = tradePool();
  return {
    name: mode === 'send' ? 'WireSubject await send()' : 'WireSubject trySend()',
    async run(): Promise<Sample> {
      const [here, there] = port.pair();
      const total = size.warmup + size.n;
      const bench = startBenchWorker('wire-count', { end: there, count: total, warmup: size.warmup }, transferList(there));
      const wire = open(here, Trade, { worker: bench.worker });
      const sendAwait: SendRange = async (from, to) => {
        for (let i = from; i < to; i++) await wire.send(pool[i & POOL_MASK]);
      };
      const sendTry: SendRange = (from, to) => trySendRange(wire, pool, POOL_MASK, from, to);
      try {
        return await timeSends(bench, size, mode === 'send' ? sendAwait : sendTry);
      } finally {
        wire.close();
        await bench.stop();
      }
    },
  };
}

/** Baseline: one plain Trade per `postMessage` on a raw MessagePort to the `raw-count` worker. */
export function rawThroughput(size: ThroughputSize): Runner {
  const pool = tradePool();
  return {
    name: 'postMessage(object)',
    async run(): Promise<Sample> {
      const { port1, port2 } = new MessageChannel();
      const total = size.warmup + size.n;
      const bench = startBenchWorker('raw-count', { port: port2, count: total, warmup: size.warmup }, [port2]);
      try {
        return await timeSends(bench, size, (from, to) => {
          for (let i = from; i < to; i++) port1.postMessage(pool[i & POOL_MASK]);
        });
      } finally {
        port1.close();
        await bench.stop();
      }
    },
  };
}

/** Warm-up sends, then the timed ones; msgs/s of the timed ones. */
export async function timeSends(bench: BenchWorker, size: ThroughputSize, send: SendRange): Promise<Sample> {
  const total = size.warmup + size.n;
  await awaitReport(bench, 'ready');
  if (size.warmup > 0) {
    await send(0, size.warmup);
    await awaitReport(bench, 'warm');
  }
  const start = process.hrtime.bigint();
  await send(size.warmup, total);
  await awaitDone(bench, total);
  return { rate: size.n / (Number(process.hrtime.bigint() - start) / 1e9) };
}
