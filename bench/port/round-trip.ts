/**
 * Port round-trip runners: main sends one Trade, a worker echoes it, main
 * awaits the echo; repeated `n` times after `warmup` untimed rounds. Each
 * repetition reports the p50 and p99 of its round trips, in µs.
 */
import { MessageChannel } from 'node:worker_threads';
import { open } from '../../transports/open';
import { port, transferList } from '../../transports';
import type { Runner, Sample } from '../harness';
import { quantileSorted } from '../stats';
import { POOL_MASK, Trade, tradePool } from '../trade';
import { awaitReport, startBenchWorker } from '../worker-host';

/** Sizes of one repetition. */
export interface RoundTripSize {
  /** Timed round trips. */
  readonly n: number;
  /** Untimed round trips first, so both sides are warm. */
  readonly warmup: number;
}

/** rxwire: `wire.next(t)` over `port.pair()` to the `wire-echo` worker, awaiting the echo. */
export function wireRoundTrip(size: RoundTripSize): Runner {
  return {
    name: 'WireSubject next()+echo',
    async run(): Promise<Sample> {
      const [here, there] = port.pair();
      const bench = startBenchWorker('wire-echo', { end: there }, transferList(there));
      const wire = open(here, Trade, { worker: bench.worker });
      const echo = new Echo();
      wire.subscribe({
        next: (t) => echo.arrived(t.id),
        error: (err: Error) => echo.failed(err),
        complete: () => echo.failed(new Error('the echo worker completed early')),
      });
      try {
        await awaitReport(bench, 'ready');
        return await roundTrips(size, (t) => echo.expect(t.id, () => wire.next(t)));
      } finally {
        wire.close();
        await bench.stop();
      }
    },
  };
}

/** Baseline: raw MessagePort `postMessage` ping-pong of one plain Trade with the `raw-echo` worker. */
export function rawRoundTrip(size: RoundTripSize): Runner {
  return {
    name: 'postMessage ping-pong',
    async run(): Promise<Sample> {
      const { port1, port2 } = new MessageChannel();
      const bench = startBenchWorker('raw-echo', { port: port2 }, [port2]);
      const echo = new Echo();
      port1.on('message', (t: Trade) => echo.arrived(t.id));
      try {
        await awaitReport(bench, 'ready');
        return await roundTrips(size, (t) => echo.expect(t.id, () => port1.postMessage(t)));
      } finally {
        port1.close();
        await bench.stop();
      }
    },
  };
}

async function roundTrips(size: RoundTripSize, once: (t: Trade) => Promise<void>): Promise<Sample> {
  const pool = tradePool();
  for (let i = 0; i < size.warmup; i++) await once(pool[i & POOL_MASK]);
  const micros = new Float64Array(size.n);
  for (let i = 0; i < size.n; i++) {
    const start = process.hrtime.bigint();
    await once(pool[i & POOL_MASK]);
    micros[i] = Number(process.hrtime.bigint() - start) / 1e3;
  }
  micros.sort();
  return { p50: quantileSorted(micros, 0.5), p99: quantileSorted(micros, 0.99) };
}

/** The one round trip in flight: resolves when the echo of the id sent comes back. */
export class Echo {
  private pending: { id: number; resolve: () => void; reject: (err: Error) => void } | undefined;
  private failure: Error | undefined;

  /** Calls `send`, then waits for the echo of `id`. */
  expect(id: number, send: () => void): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { id, resolve, reject };
      send();
    });
  }

  arrived(id: number): void {
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return this.failed(new Error(`an echo (id ${id}) arrived unasked`));
    if (pending.id !== id) pending.reject(new Error(`sent id ${pending.id}, the echo has id ${id}`));
    else pending.resolve();
  }

  failed(err: Error): void {
    this.failure ??= err;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(this.failure);
  }
}
