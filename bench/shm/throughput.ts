/**
 * Shm throughput runner for Trades: main sends Trades over a WireSubject on
 * `shm.pair()` to the `wire-count` worker, which decodes and counts every one
 * (object in on main, object out in the worker). Measured exactly as the port
 * suite's throughput (`timeSends`): `warmup` untimed values, then the clock
 * runs from the first of `n` sends to the worker's report that it has them all.
 */
import { open } from '../../transports/open';
import { shm, transferList, type WaitStrategy } from '../../transports';
import type { Runner, Sample } from '../harness';
import { timeSends, trySendRange, type SendRange, type ThroughputSize } from '../port/throughput';
import { POOL_MASK, Trade, tradePool } from '../trade';
import { startBenchWorker } from '../worker-host';

/** rxwire: `wire.trySend(t)` (and `await wire.send(t)` when the ring is full) over `shm.pair()`. */
export function shmWireThroughput(size: ThroughputSize, wait?: WaitStrategy): Runner {
  const pool = tradePool();
  return {
    name: 'WireSubject over shm',
    async run(): Promise<Sample> {
      const [here, there] = shm.pair();
      const total = size.warmup + size.n;
      const bench = startBenchWorker('wire-count', { end: there, count: total, warmup: size.warmup }, transferList(there));
      const wire = open(here, Trade, { worker: bench.worker, wait });
      const send: SendRange = (from, to) => trySendRange(wire, pool, POOL_MASK, from, to);
      try {
        return await timeSends(bench, size, send);
      } finally {
        wire.close();
        await bench.stop();
      }
    },
  };
}
