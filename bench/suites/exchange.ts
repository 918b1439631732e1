/**
 * Suite `exchange`: records routed by key among 2 worker threads with
 * `initialize(Config.process(2), ...)` and the `exchange` operator, over the
 * runtime's default links (a shared-memory ring each way per pair of workers,
 * `transport: 'shm'`) against the same program over MessageChannels
 * (`transport: 'port'`), records/s. A ratio > 1 means shm is faster.
 *
 * Each repetition starts 2 fresh workers (bench/workers/exchange.worker.ts);
 * each produces `n` records itself and times its own round, after an untimed
 * warm-up round on another channel. Rate = records routed (2n) / the slower
 * worker's time. Every record is checked in the worker that receives it, and
 * the totals here: a case whose records do not all arrive exactly once fails.
 */
import { extname, join } from 'node:path';
import { Config, initialize } from '../../index';
import type { Case, Runner, Sample, Suite } from '../harness';
import { floorExchange } from '../floor/exchange';
import { EXCHANGE_PEERS, checkRound, type ExchangeSize } from '../keyed';
import type { ExchangeArgs, ExchangeResult, SourceMode } from '../workers/exchange.worker';

/** Workers in every case. */
const PEERS = EXCHANGE_PEERS;
/** A repetition that takes longer has hung: its workers are terminated and the case fails. */
const TIMEOUT_MS = 120_000;

// This file compiles to dist/bench/suites/exchange.js beside dist/bench/workers/;
// under ts-node it is bench/suites/exchange.ts beside bench/workers/*.ts.
const WORKER = join(__dirname, '..', 'workers', `exchange.worker${extname(__filename)}`);


/** One repetition: 2 fresh workers run the exchange program on `transport`; records/s of the timed round. */
function exchangeRunner(size: ExchangeSize, transport: 'shm' | 'port', source: SourceMode, chunk = 0): Runner {
  const args: ExchangeArgs = { transport, n: size.n, warmup: size.warmup, source, chunk };
  return {
    name: `exchange, transport: '${transport}'`,
    async run(): Promise<Sample> {
      const guards = initialize<ExchangeResult>(Config.process(PEERS), WORKER, args);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no result after ${TIMEOUT_MS / 1000} s: workers terminated`)), TIMEOUT_MS);
      });
      let results: ExchangeResult[];
      try {
        results = await Promise.race([guards.join(), timeout]);
      } catch (err) {
        await guards.terminate();
        throw err;
      } finally {
        clearTimeout(timer);
      }
      checkRound(results, 'warm-up', size.warmup, (r) => r.warmup, PEERS);
      const routed = checkRound(results, 'timed', size.n, (r) => r.timed, PEERS);
      const slowest = Math.max(...results.map((r) => r.elapsedMs));
      return { rate: routed / (slowest / 1000) };
    },
  };
}

export const exchangeSuite: Suite = {
  name: 'exchange',
  title: `exchange among ${PEERS} runtime workers, shm links vs port links: records/s`,
  cases({ quick }): Case[] {
    const size: ExchangeSize = quick ? { n: 200_000, warmup: 20_000 } : { n: 1_000_000, warmup: 100_000 };
    const chunk = 1024;
    return [
      {
        name: `${PEERS} workers, sync source`,
        metrics: [{ key: 'rate', label: `${PEERS} workers, keyed records, sync source`, unit: 'records/s', better: 'higher' }],
        subject: exchangeRunner(size, 'shm', 'sync'),
        baselines: [{ ...exchangeRunner(size, 'port', 'sync'), role: 'reference' }, floorExchange(size)], // port links: rxwire too, not a peer
      },
      {
        name: `${PEERS} workers, ${chunk} records per turn`,
        metrics: [{ key: 'rate', label: `${PEERS} workers, keyed records, ${chunk} per turn`, unit: 'records/s', better: 'higher' }],
        subject: exchangeRunner(size, 'shm', 'turns', chunk),
        baselines: [{ ...exchangeRunner(size, 'port', 'turns', chunk), role: 'reference' }, floorExchange(size)],
      },
    ];
  },
};
