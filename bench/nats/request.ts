/**
 * Request/reply over NATS, one request at a time, `await` per round trip:
 * an rxwire service (`serve` on one connection, `client` + `request` of
 * rxwire/operators on another) against the raw client's `nc.request` to a
 * plain responder (`msg.respond`) doing the same work on the same bytes:
 * the requester encodes a Trade with the same avsc schema and decodes the
 * reply, the responder decodes the request and encodes it back. p50 and
 * p99 in µs; a ratio > 1 means rxwire is faster.
 *
 * With `url`, the cases use that server (the `nats` suite's); without, each
 * repetition starts a nats-server of its own (examples/nats-server.ts),
 * outside the clock.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { lastValueFrom } from 'rxjs';
import { startNatsServer, type NatsServer } from '../../examples/nats-server';
import { client, serve } from '../../nats';
import { request } from '../../operators';
import type { Case, Runner, Sample } from '../harness';
import { quantileSorted } from '../stats';
import { POOL_MASK, Trade, tradePool } from '../trade';

/** Round trips timed, after untimed warm-up ones. */
interface Size {
  n: number;
  warmup: number;
}

/** Options of {@link natsRequestCases}. */
export interface NatsRequestCaseOptions {
  quick: boolean;
  /** The server to use (`nats://…`); default: one started per repetition. */
  url?: () => string;
}

/** The request/reply cases of the `nats` suite. */
export function natsRequestCases({ quick, url }: NatsRequestCaseOptions): Case[] {
  const size = quick ? { n: 2_000, warmup: 500 } : { n: 10_000, warmup: 1_000 };
  const latency = (key: 'p50' | 'p99') => ({ key, label: `NATS request/reply round trip ${key}`, unit: 'µs', better: 'lower' }) as const;
  return [
    {
      name: 'NATS request/reply round trip',
      metrics: [latency('p50'), latency('p99')],
      subject: roundTrips('rxwire serve/request', size, url, rxwireTrips),
      baselines: [roundTrips('raw nc.request + msg.respond', size, url, rawTrips)],
    },
  ];
}

/** Runs `trips` between two fresh connections to the server; reports p50 and p99. */
function roundTrips(name: string, size: Size, url: (() => string) | undefined, trips: (server: NatsConnection, client: NatsConnection, size: Size) => Promise<number[]>): Runner {
  return {
    name,
    async run(): Promise<Sample> {
      let own: NatsServer | undefined;
      if (!url) own = await startNatsServer({ jetstream: false });
      const servers = url ? url() : own!.url;
      const a = await connect({ servers });
      const b = await connect({ servers });
      try {
        const times = await trips(a, b, size);
        times.sort((x, y) => x - y);
        return { p50: quantileSorted(times, 0.5), p99: quantileSorted(times, 0.99) };
      } finally {
        await a.close();
        await b.close();
        await own?.stop();
      }
    },
  };
}

const pool = tradePool();

/** Times `warmup + n` sequential round trips of `ask` (the last `n`, in µs), checking each reply's id. */
async function timeTrips(ask: (t: Trade) => Promise<Trade>, { n, warmup }: Size): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < warmup + n; i++) {
    const start = performance.now();
    const reply = await ask(pool[i & POOL_MASK]);
    const end = performance.now();
    if (reply.id !== (i & POOL_MASK)) throw new Error(`reply ${reply.id} to request ${i & POOL_MASK}`);
    if (i >= warmup) times.push((end - start) * 1000);
  }
  return times;
}

async function rxwireTrips(serverNc: NatsConnection, clientNc: NatsConnection, size: Size): Promise<number[]> {
  const svc = await serve({ nc: serverNc }, 'bench.echo', (t: Trade) => t, { request: Trade, reply: Trade });
  const c = client({ nc: clientNc }, 'bench.echo', { request: Trade, reply: Trade });
  try {
    return await timeTrips((t) => lastValueFrom(request(c, t)), size);
  } finally {
    c.close();
    await svc.stop();
  }
}

async function rawTrips(serverNc: NatsConnection, clientNc: NatsConnection, size: Size): Promise<number[]> {
  const sub = serverNc.subscribe('bench.raw.echo', {
    callback: (_err, msg) => {
      msg.respond(Trade.encode(Trade.decode(msg.data)));
    },
  });
  await serverNc.flush();
  try {
    return await timeTrips(async (t) => Trade.decode((await clientNc.request('bench.raw.echo', Trade.encode(t), { timeout: 30_000 })).data), size);
  } finally {
    sub.unsubscribe();
  }
}
