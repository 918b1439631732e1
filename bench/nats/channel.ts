/**
 * Trade throughput over NATS, msgs/s: a WireSubject channel
 * (`conn.open('bench.trades', Trade)`) between two connections of this
 * process, against the raw `@nats-io` client publishing the same Avro bytes
 * (`Trade.encode`, one NATS message per Trade) to a plain subscriber that
 * decodes each. Both ends of both runners are on the main thread, so each
 * does its encoding and decoding on the same core; the server is a process
 * of its own.
 *
 * The raw publisher has no flow control of its own: it awaits `nc.flush()`
 * (a round trip to the server) every `FLUSH_EVERY` messages, as a careful
 * raw user would, so neither its buffer nor the server's slow-consumer limit
 * is overrun. rxwire paces itself by its credit window (`trySend`, then
 * `await send` when refused).
 *
 * With `url`, the cases use that server (the `nats` suite's); without, each
 * repetition starts a nats-server of its own (examples/nats-server.ts,
 * JetStream off), outside the clock, as bench/nats/request.ts does.
 */
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, type NatsServer } from '../../examples/nats-server';
import { connect } from '../../transports/nats';
import type { Case, Runner, Sample } from '../harness';
import { POOL_MASK, Trade, tradePool } from '../trade';

/** Trades timed, after untimed warm-up ones on the same link. */
interface Size {
  n: number;
  warmup: number;
}

/** Options of {@link natsChannelCases}. */
export interface NatsChannelCaseOptions {
  quick: boolean;
  /** The server to use (`nats://…`); default: one started per repetition. */
  url?: () => string;
}

/** Raw publishes between two `flush()` round trips. */
const FLUSH_EVERY = 4096;

/** The channel throughput case of the `nats` suite. */
export function natsChannelCases({ quick, url }: NatsChannelCaseOptions): Case[] {
  const size = quick ? { n: 100_000, warmup: 20_000 } : { n: 500_000, warmup: 50_000 };
  return [
    {
      name: 'NATS channel Trade throughput',
      metrics: [{ key: 'rate', label: 'Trade throughput over a NATS channel', unit: 'msgs/s', better: 'higher' }],
      subject: throughput('WireSubject over NATS', size, url, wireRun),
      baselines: [throughput('raw publish + subscribe of Avro bytes', size, url, rawRun)],
    },
  ];
}

/** Runs `moves` over a server of its own (or the suite's); reports msgs/s of the timed part. */
function throughput(name: string, size: Size, url: (() => string) | undefined, moves: (servers: string, size: Size) => Promise<number>): Runner {
  return {
    name,
    async run(): Promise<Sample> {
      let own: NatsServer | undefined;
      if (!url) own = await startNatsServer({ jetstream: false });
      try {
        const seconds = await moves(url ? url() : own!.url, size);
        return { rate: size.n / seconds };
      } finally {
        await own?.stop();
      }
    },
  };
}

const pool = tradePool();

/** rxwire: the warm-up Trades, then `n` timed ones from the first send to the last one received; checks order. */
async function wireRun(servers: string, { n, warmup }: Size): Promise<number> {
  const [a, b] = [await connect({ servers }), await connect({ servers })];
  try {
    const writer = a.open('bench.trades', Trade);
    const reader = b.open('bench.trades', Trade);
    let received = 0;
    let start = 0n;
    const done = new Promise<bigint>((resolve, reject) =>
      reader.subscribe({
        next: (t) => {
          if (t.id !== (received & POOL_MASK)) reject(new Error(`Trade ${received} came with id ${t.id}`));
          if (++received === warmup + n) resolve(process.hrtime.bigint());
        },
        error: reject,
      }),
    );
    // The first send resolves once the reader has accepted the schema: the
    // warm-up then runs at the steady pace, not through the values held before.
    await writer.send(pool[0]);
    for (let i = 1; i < warmup + n; i++) {
      if (i === warmup) start = process.hrtime.bigint();
      const t = pool[i & POOL_MASK];
      if (!writer.trySend(t)) await writer.send(t);
    }
    const end = await done;
    writer.complete();
    return Number(end - start) / 1e9;
  } finally {
    await a.close();
    await b.close();
  }
}

/** Raw client: one message of `Trade.encode(t)` per Trade to a plain subscriber that decodes it; same timing. */
async function rawRun(servers: string, { n, warmup }: Size): Promise<number> {
  const [pub, subNc]: NatsConnection[] = [await natsConnect({ servers }), await natsConnect({ servers })];
  try {
    let received = 0;
    let failure: Error | undefined;
    let resolveDone!: (end: bigint) => void;
    const done = new Promise<bigint>((resolve) => (resolveDone = resolve));
    subNc.subscribe('bench.raw.trades', {
      callback: (_err, msg) => {
        const t = Trade.decode(msg.data);
        if (t.id !== (received & POOL_MASK)) failure ??= new Error(`Trade ${received} came with id ${t.id}`);
        if (++received === warmup + n) resolveDone(process.hrtime.bigint());
      },
    });
    await subNc.flush();
    let start = 0n;
    for (let i = 0; i < warmup + n; i++) {
      if (i === warmup) start = process.hrtime.bigint();
      pub.publish('bench.raw.trades', Trade.encode(pool[i & POOL_MASK]));
      if (i % FLUSH_EVERY === FLUSH_EVERY - 1) await pub.flush();
    }
    await pub.flush();
    const end = await done;
    if (failure) throw failure;
    return Number(end - start) / 1e9;
  } finally {
    await pub.close();
    await subNc.close();
  }
}
