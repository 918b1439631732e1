/**
 * The exchange suite's floor: its job written bare (bench/workers/floor-exchange.worker.ts).
 * Two plain worker threads, a bare SAB ring each way between them (256 KiB,
 * as `exchange`'s links), each producing `n` keyed records, routing them by
 * key, encoding with plain avsc in place and decoding out, and checking
 * what arrives exactly as the rxwire program does (bench/keyed.ts). No
 * runtime, no session, no RxJS, no validation; both workers spin. Rate =
 * records routed (2 × n) / the slower worker's timed round, as the rxwire
 * cases count it.
 */
import type { Runner, Sample } from '../harness';
import { EXCHANGE_PEERS, checkRound, type ExchangeSize, type RoundCheck } from '../keyed';
import { awaitReport, startBenchWorker } from '../worker-host';
import { floorRing } from './sab-ring';
import type { FloorExchangeData } from '../workers/protocol';

/** Data bytes of each ring: `exchange`'s default link ring. */
const RING_BYTES = 256 * 1024;

interface Exchanged {
  readonly index: number;
  readonly elapsedMs: number;
  readonly warmup: RoundCheck;
  readonly timed: RoundCheck;
}

/** The floor of the exchange cases: two fresh workers per repetition. */
export function floorExchange(size: ExchangeSize, name = 'bare SAB rings + avsc, 2 workers'): Runner {
  return {
    name,
    role: 'floor',
    async run(): Promise<Sample> {
      const rings = [floorRing(RING_BYTES), floorRing(RING_BYTES)]; // rings[w]: worker w → the other
      const workers = ([0, 1] as const).map((me) => {
        const data: FloorExchangeData = { me, out: rings[me], in: rings[1 - me], n: size.n, warmup: size.warmup };
        return startBenchWorker('floor-exchange', data, []);
      });
      try {
        const results: Exchanged[] = await Promise.all(workers.map(async (w, index) => ({ index, ...(await awaitReport(w, 'exchanged')) })));
        checkRound(results, 'warm-up (floor)', size.warmup, (r) => r.warmup, EXCHANGE_PEERS);
        const routed = checkRound(results, 'timed (floor)', size.n, (r) => r.timed, EXCHANGE_PEERS);
        const slowest = Math.max(...results.map((r) => r.elapsedMs));
        return { rate: routed / (slowest / 1000) };
      } finally {
        await Promise.all(workers.map((w) => w.stop()));
      }
    },
  };
}
