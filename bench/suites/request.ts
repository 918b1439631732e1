/**
 * Suite `request`: request/reply round trip (`client` / `request` / `serve`)
 * over shared memory, the main thread asking a server in a worker thread
 * whose handler returns the request's Trade synchronously, one request at a
 * time; against a raw MessagePort `postMessage` ping-pong of the same Trade
 * with a worker that echoes it. p50 and p99 in µs; a ratio > 1 means rxwire
 * is faster. Two ways to drive it, as the `shm` suite's round trips:
 *   - `callback`: the next request is subscribed inside the `complete` of
 *     the previous one (the baseline: posted inside the port's `message`
 *     listener); a round trip is the time from one reply's completion to the
 *     next one's, the send included (one `performance.now()` per trip);
 *   - `await`: `await lastValueFrom(request(c, t))` per round trip (the
 *     baseline: `await` a Promise the echo resolves), timed from just before
 *     the request to just after the `await`.
 * The shm ends use the default wait strategy (`'auto'`) at both ends; one
 * more case uses `'spin'` at both ends. Sizes in bench/README.md.
 */
import { lastValueFrom } from 'rxjs';
import { open } from '../../transports/open';
import { client, request, rpcCodec, type RequestClient } from '../../operators';
import { shm, transferList, type WaitStrategy } from '../../transports';
import { roundTrips, type Case, type Runner, type Sample, type Suite } from '../harness';
import type { RoundTripSize } from '../port/round-trip';
import { rawPingPong, shmRoundTrip, type DriveForm } from '../shm/round-trip';
import { floorPingPong } from '../floor/ping-pong';
import { underHog } from '../hog';
import { tripPercentiles } from '../stats';
import { POOL_MASK, Trade, tradePool } from '../trade';
import { awaitReport, startBenchWorker, type WorkerName } from '../worker-host';
import type { RpcEchoWorkerData } from '../workers/rpc-echo.worker';

/** The server worker (bench/workers/rpc-echo.worker.ts); started by name like the others. */
const RPC_ECHO: WorkerName = 'rpc-echo';

export const requestSuite: Suite = {
  name: 'request',
  title: 'request/reply round trip over shm (client on main, serve in a worker) vs raw postMessage ping-pong: µs',
  cases({ quick }): Case[] {
    const size = roundTrips(quick, 20_000, 3_000);
    const latency = (key: 'p50' | 'p99', suffix: string) =>
      ({ key, label: `request round trip ${key}${suffix}`, unit: 'µs', better: 'lower' }) as const;
    return [
      {
        name: 'request round trip',
        metrics: [latency('p50', ''), latency('p99', '')],
        subject: requestRoundTrip(size, 'callback', 'auto'),
        baselines: [rawPingPong(size, 'callback'), { ...shmRoundTrip(size, 'callback'), role: 'reference' }, floorPingPong(size)],
      },
      {
        name: 'request round trip, await per trip',
        metrics: [latency('p50', ' (await)'), latency('p99', ' (await)')],
        subject: requestRoundTrip(size, 'await', 'auto'),
        baselines: [rawPingPong(size, 'await'), floorPingPong(size)],
      },
      {
        name: 'request round trip, CPU hog on the other core',
        metrics: [latency('p50', ' (CPU hog)'), latency('p99', ' (CPU hog)')],
        subject: underHog(requestRoundTrip(size, 'callback', 'auto')),
        baselines: [underHog(rawPingPong(size, 'callback')), underHog(floorPingPong(size))],
      },
      {
        name: 'request round trip, wait spin',
        metrics: [latency('p50', ' (spin)'), latency('p99', ' (spin)')],
        subject: requestRoundTrip(size, 'callback', 'spin'),
        baselines: [rawPingPong(size, 'callback')],
      },
    ];
  },
};

/**
 * rxwire: `request(c, t)` on a `client` over `open(shm end, rpcCodec())`, the
 * `rpc-echo` worker serving with `serve((t) => t)`; `wait` at both ends.
 */
export function requestRoundTrip(size: RoundTripSize, form: DriveForm, wait: WaitStrategy): Runner {
  const how = form === 'callback' ? 'request() in complete' : 'await lastValueFrom(request())';
  return {
    name: wait === 'auto' ? how : `${how}, spin`,
    async run(): Promise<Sample> {
      const [here, there] = shm.pair();
      const data: RpcEchoWorkerData = { end: there, wait };
      const bench = startBenchWorker(RPC_ECHO, data, transferList(there));
      const wire = open(here, rpcCodec(), { worker: bench.worker, wait });
      const prices = client(wire, { request: Trade, reply: Trade });
      try {
        await awaitReport(bench, 'ready');
        return form === 'callback' ? await callbackTrips(size, prices) : await awaitTrips(size, prices);
      } finally {
        prices.close();
        wire.close();
        await bench.stop();
      }
    },
  };
}

type TradeClient = RequestClient<Trade, Trade>;

/** Subscribes each request inside the previous one's `complete`; one clock reading per trip. */
function callbackTrips(size: RoundTripSize, c: TradeClient): Promise<Sample> {
  const pool = tradePool();
  const micros = new Float64Array(size.n);
  const total = size.warmup + size.n;
  return new Promise<Sample>((resolve, reject) => {
    let sent = 0;
    let last = performance.now();
    let reply: Trade | undefined;
    const next = (): void => {
      const t = pool[sent & POOL_MASK];
      const i = sent++;
      reply = undefined;
      request(c, t).subscribe({
        next: (r) => (reply = r),
        error: (err: Error) => reject(err),
        complete: () => {
          const now = performance.now();
          if (reply?.id !== t.id) return reject(new Error(`asked with id ${t.id}, the reply has id ${reply?.id}`));
          if (i >= size.warmup) micros[i - size.warmup] = (now - last) * 1e3;
          last = now;
          if (sent < total) next();
          else resolve(tripPercentiles(micros));
        },
      });
    };
    next();
  });
}

/** `await lastValueFrom(request(c, t))` per trip, timed around the await. */
async function awaitTrips(size: RoundTripSize, c: TradeClient): Promise<Sample> {
  const pool = tradePool();
  const once = async (t: Trade): Promise<void> => {
    const r = await lastValueFrom(request(c, t));
    if (r.id !== t.id) throw new Error(`asked with id ${t.id}, the reply has id ${r.id}`);
  };
  for (let i = 0; i < size.warmup; i++) await once(pool[i & POOL_MASK]);
  const micros = new Float64Array(size.n);
  for (let i = 0; i < size.n; i++) {
    const start = performance.now();
    await once(pool[i & POOL_MASK]);
    micros[i] = (performance.now() - start) * 1e3;
  }
  return tripPercentiles(micros);
}
