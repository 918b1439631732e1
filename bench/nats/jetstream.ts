/**
 * Nats suite, JetStream case: Trades published to a file-backed stream and
 * read back through a durable pull consumer, both at once, in one process
 * over two connections (publisher, reader) to a local nats-server:
 *   - rxwire: `durable(conn, stream, Trade, { durable })` — `trySend`, and
 *     `await send` when the window (256 publishes awaiting their PubAck) is
 *     full; the reader subscribes and counts (each value decoded, checked
 *     in order, acknowledged after `next` returned);
 *   - baseline: the raw @nats-io/jetstream client doing the same work —
 *     `js.publish(subject, Trade.encode(t), { msgID })` with the same
 *     256 publishes in flight, and `consumer.consume({ callback })` on a
 *     durable pull consumer with the same settings, each message decoded
 *     with the same codec and `ack()`ed.
 * msgs/s from the first publish to the last value read. A fresh stream per
 * repetition (created before the clock, deleted after). A ratio > 1 means
 * rxwire is faster.
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { durable } from '../../transports/nats/jetstream';
import type { Case, Runner, Sample } from '../harness';
import { POOL_MASK, Trade, tradePool } from '../trade';

/** Runs `body` with the URL of a nats-server (JetStream on) that stays up until it resolves: the suite's. */
export type WithNatsServer = <T>(body: (url: string) => Promise<T>) => Promise<T>;

const WINDOW = 256;
const BATCH = 256;
const MAX_ACK_PENDING = 1024;

/** The JetStream cases of suite `nats`. */
export function jetstreamCases(server: WithNatsServer, { quick }: { quick: boolean }): Case[] {
  const n = quick ? 20_000 : 100_000;
  return [
    {
      name: 'JetStream durable publish+consume',
      metrics: [{ key: 'rate', label: 'JetStream durable Trade publish+consume', unit: 'msgs/s', better: 'higher' }],
      subject: durableRunner(server, n),
      baselines: [rawRunner(server, n)],
    },
  ];
}

let runs = 0;

/** Two connections and a fresh stream name for one repetition; the stream is deleted after. */
async function withStream(server: WithNatsServer, body: (pub: NatsConnection, sub: NatsConnection, stream: string, jsm: JetStreamManager) => Promise<Sample>): Promise<Sample> {
  return server(async (servers) => {
    const pub = await connect({ servers });
    const sub = await connect({ servers });
    const jsm = await jetstreamManager(pub);
    const stream = `bench${process.pid}x${++runs}`;
    try {
      return await body(pub, sub, stream, jsm);
    } finally {
      await jsm.streams.delete(stream).catch(() => false); // the rxwire runner may have failed before creating it
      await pub.close();
      await sub.close();
    }
  });
}

function durableRunner(server: WithNatsServer, n: number): Runner {
  const pool = tradePool();
  return {
    name: 'rxwire durable()',
    run: () =>
      withStream(server, async (pub, sub, stream) => {
        const options = { durable: 'bench', window: WINDOW, batch: BATCH, maxAckPending: MAX_ACK_PENDING };
        const writer = durable({ nc: pub }, stream, Trade, options);
        const reader = durable({ nc: sub }, stream, Trade, options);
        await writer.send(pool[0]); // the stream exists before the clock (one value, read below and not timed)
        let next = 0;
        const done = new Promise<void>((resolve, reject) => {
          const s = reader.subscribe({
            next: (t) => {
              if (t.id !== (next & POOL_MASK)) reject(new Error(`out of order: ${t.id} at ${next}`));
              if (++next === n + 1) {
                s.unsubscribe();
                resolve();
              }
            },
            error: reject,
          });
        });
        const start = process.hrtime.bigint();
        for (let i = 1; i <= n; i++) {
          const t = pool[i & POOL_MASK];
          if (!writer.trySend(t)) await writer.send(t);
        }
        await done;
        const rate = n / (Number(process.hrtime.bigint() - start) / 1e9);
        await writer.close();
        await reader.close();
        return { rate };
      }),
  };
}

function rawRunner(server: WithNatsServer, n: number): Runner {
  const pool = tradePool();
  return {
    name: 'raw @nats-io/jetstream',
    run: () =>
      withStream(server, async (pub, sub, stream, jsm) => {
        const subject = `raw.${stream}`;
        await jsm.streams.add({ name: stream, subjects: [subject] });
        await jsm.consumers.add(stream, { durable_name: 'bench', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, max_ack_pending: MAX_ACK_PENDING, filter_subject: subject });
        const js = jetstream(pub);
        const consumer = await jetstream(sub).consumers.get(stream, 'bench');
        let next = 0;
        let fail: (err: Error) => void = () => undefined;
        const done = new Promise<void>((resolve, reject) => {
          fail = reject;
          void consumer.consume({
            max_messages: BATCH,
            callback: (m) => {
              const t = Trade.decode(m.data);
              m.ack();
              if (t.id !== (next & POOL_MASK)) reject(new Error(`out of order: ${t.id} at ${next}`));
              if (++next === n) resolve();
            },
          }).then((messages) => done.finally(() => messages.close()), reject);
        });
        const start = process.hrtime.bigint();
        let inFlight = 0;
        let room: (() => void) | undefined;
        for (let i = 0; i < n; i++) {
          if (inFlight >= WINDOW) await new Promise<void>((resolve) => (room = resolve));
          inFlight++;
          js.publish(subject, Trade.encode(pool[i & POOL_MASK]), { msgID: `raw-${i}` }).then(() => {
            inFlight--;
            room?.();
            room = undefined;
          }, fail);
        }
        await done;
        return { rate: n / (Number(process.hrtime.bigint() - start) / 1e9) };
      }),
  };
}
