/**
 * Shm round-trip runners: main sends one Trade, a worker echoes it, main
 * receives the echo; `warmup` untimed round trips, then `n` timed ones. Each
 * repetition reports the p50 and p99 of its round trips, in µs.
 *
 * Two ways to drive it, each its own case:
 *   - `callback`: the next Trade is sent synchronously inside the handler
 *     that receives the echo (the subscriber's `next`, or the port's
 *     `message` listener). A round trip is the time from one echo's arrival
 *     in the handler to the next one's (the send included): one
 *     `performance.now()` per round trip.
 *   - `await`: `await` a Promise that the echo resolves, per round trip,
 *     timed from just before the send to just after the await; this adds
 *     the microtask hops of a Promise to every round trip.
 */
import { MessageChannel } from 'node:worker_threads';
import { open } from '../../transports/open';
import { shm, transferList } from '../../transports';
import type { Runner, Sample } from '../harness';
import { Echo, type RoundTripSize } from '../port/round-trip';
import { tripPercentiles } from '../stats';
import { POOL_MASK, Trade, tradePool } from '../trade';
import { awaitReport, startBenchWorker } from '../worker-host';

/** How the main side drives the round trips. */
export type DriveForm = 'callback' | 'await';

/** A round-trip driver: call `arrived` with each echo; `send` sends a Trade. */
interface Driver {
  arrived(t: Trade): void;
  failed(err: Error): void;
  /** Runs the round trips; resolves with their p50 and p99. */
  run(send: (t: Trade) => void): Promise<Sample>;
}

/** rxwire: `wire.next(t)` over `shm.pair()` to `wire-echo` (`wire.subscribe(wire)` there), default wait strategy. */
export function shmRoundTrip(size: RoundTripSize, form: DriveForm): Runner {
  return {
    name: form === 'callback' ? 'WireSubject shm, next() in next' : 'WireSubject shm, await echo',
    async run(): Promise<Sample> {
      const [here, there] = shm.pair();
      const bench = startBenchWorker('wire-echo', { end: there }, transferList(there));
      const wire = open(here, Trade, { worker: bench.worker });
      const driver = makeDriver(size, form);
      wire.subscribe({
        next: (t) => driver.arrived(t),
        error: (err: Error) => driver.failed(err),
        complete: () => driver.failed(new Error('the echo worker completed early')),
      });
      try {
        await awaitReport(bench, 'ready');
        return await driver.run((t) => wire.next(t));
      } finally {
        wire.close();
        await bench.stop();
      }
    },
  };
}

/** Baseline: raw MessagePort `postMessage` ping-pong of one plain Trade with `raw-echo`. */
export function rawPingPong(size: RoundTripSize, form: DriveForm): Runner {
  return {
    name: form === 'callback' ? 'postMessage in onmessage' : 'postMessage, await echo',
    async run(): Promise<Sample> {
      const { port1, port2 } = new MessageChannel();
      const bench = startBenchWorker('raw-echo', { port: port2 }, [port2]);
      const driver = makeDriver(size, form);
      port1.on('message', (t: Trade) => driver.arrived(t));
      try {
        await awaitReport(bench, 'ready');
        return await driver.run((t) => port1.postMessage(t));
      } finally {
        port1.close();
        await bench.stop();
      }
    },
  };
}

function makeDriver(size: RoundTripSize, form: DriveForm): Driver {
  return form === 'callback' ? new CallbackDriver(size) : new AwaitDriver(size);
}

/** Sends the next Trade from inside the handler that received the last echo. */
class CallbackDriver implements Driver {
  private readonly pool = tradePool();
  private readonly micros: Float64Array;
  private readonly total: number;
  private sent = 0;
  private last = 0;
  private send: (t: Trade) => void = () => {};
  private settle: { resolve: (s: Sample) => void; reject: (e: Error) => void } | undefined;

  constructor(private readonly size: RoundTripSize) {
    this.micros = new Float64Array(size.n);
    this.total = size.warmup + size.n;
  }

  run(send: (t: Trade) => void): Promise<Sample> {
    this.send = send;
    return new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
      this.last = performance.now();
      this.sendNext();
    });
  }

  arrived(t: Trade): void {
    const now = performance.now();
    const i = this.sent - 1; // the round trip this echo ends
    if (!this.settle) return;
    if (t.id !== (i & POOL_MASK)) return this.failed(new Error(`sent id ${i & POOL_MASK}, the echo has id ${t.id}`));
    if (i >= this.size.warmup) this.micros[i - this.size.warmup] = (now - this.last) * 1e3;
    this.last = now;
    if (this.sent < this.total) return this.sendNext();
    const settle = this.settle;
    this.settle = undefined;
    settle.resolve(tripPercentiles(this.micros));
  }

  failed(err: Error): void {
    const settle = this.settle;
    this.settle = undefined;
    settle?.reject(err);
  }

  private sendNext(): void {
    this.send(this.pool[this.sent & POOL_MASK]);
    this.sent++;
  }
}

/** `await`s a Promise per round trip (the port suite's way). */
class AwaitDriver implements Driver {
  private readonly echo = new Echo();

  constructor(private readonly size: RoundTripSize) {}

  arrived(t: Trade): void {
    this.echo.arrived(t.id);
  }

  failed(err: Error): void {
    this.echo.failed(err);
  }

  async run(send: (t: Trade) => void): Promise<Sample> {
    const pool = tradePool();
    const once = (t: Trade) => this.echo.expect(t.id, () => send(t));
    for (let i = 0; i < this.size.warmup; i++) await once(pool[i & POOL_MASK]);
    const micros = new Float64Array(this.size.n);
    for (let i = 0; i < this.size.n; i++) {
      const start = performance.now();
      await once(pool[i & POOL_MASK]);
      micros[i] = (performance.now() - start) * 1e3;
    }
    return tripPercentiles(micros);
  }
}
