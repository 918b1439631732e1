/**
 * The round-trip floor: a bare SharedArrayBuffer ping-pong of one Trade,
 * written without the library. Main encodes the Trade in place with plain
 * avsc, sets the flag to ASK; the `floor-echo` worker decodes it, encodes
 * it back and sets ANSWER; main decodes the answer. Main waits the same
 * way the worker does (spin, then `Atomics.wait`): nothing else runs on it.
 * Reports the p50 and p99 of `n` timed round trips after `warmup` ones.
 */
import * as avro from 'avsc';
import type { Runner, Sample } from '../harness';
import type { RoundTripSize } from '../port/round-trip';
import { quantileSorted } from '../stats';
import { POOL_MASK, Trade, tradePool } from '../trade';
import { awaitDone, awaitReport, startBenchWorker } from '../worker-host';
import { ANSWER, ASK, FLAG, mapPingPong, pingPongBuffer } from './ping-pong-layout';
import { waitChange } from './sab-ring';

/** Bare SAB ping-pong + avsc, the floor of every round trip. */
export function floorPingPong(size: RoundTripSize, name = 'bare SAB ping-pong + avsc'): Runner {
  const pool = tradePool();
  const type = avro.Type.forSchema(Trade.schema as avro.Schema);
  return {
    name,
    role: 'floor',
    async run(): Promise<Sample> {
      const sab = pingPongBuffer();
      const { flag, data } = mapPingPong(sab);
      const total = size.warmup + size.n;
      const bench = startBenchWorker('floor-echo', { sab, count: total, schema: Trade.schema }, []);
      const micros = new Float64Array(size.n);
      try {
        await awaitReport(bench, 'ready');
        for (let i = 0; i < total; i++) {
          const start = performance.now();
          type.encode(pool[i & POOL_MASK], data, 0);
          Atomics.store(flag, FLAG, ASK);
          Atomics.notify(flag, FLAG);
          while (Atomics.load(flag, FLAG) !== ANSWER) {
            if (!waitChange(flag, FLAG, ASK)) throw new Error('floor ping-pong: no answer for 10 s');
          }
          const echo = type.decode(data, 0).value as Trade;
          if (echo.id !== (i & POOL_MASK)) throw new Error(`floor ping-pong: answer ${echo.id} for ${i & POOL_MASK}`);
          if (i >= size.warmup) micros[i - size.warmup] = (performance.now() - start) * 1000;
        }
        await awaitDone(bench, total);
        micros.sort();
        return { p50: quantileSorted(micros, 0.5), p99: quantileSorted(micros, 0.99) };
      } finally {
        await bench.stop();
      }
    },
  };
}
