/**
 * Suite `nats`: rxwire over a real nats-server (examples/nats-server.ts),
 * each figure against the raw `@nats-io` client doing the same work in the
 * same run:
 *   - WireSubject Trade throughput over a NATS channel vs the raw client
 *     publishing the same Avro bytes to a plain subscriber (bench/nats/channel.ts);
 *   - request/reply round trip vs the raw client's `request` (bench/nats/request.ts);
 *   - JetStream durable publish+consume msgs/s vs the raw @nats-io/jetstream
 *     client (bench/nats/jetstream.ts).
 * The channel and request cases start a server per repetition; the
 * JetStream cases share one (JetStream on, a temporary store) that stops a
 * second after the last repetition that used it. A ratio > 1 means rxwire
 * is faster. Sizes in bench/README.md.
 */
import { startNatsServer, type NatsServer } from '../../examples/nats-server';
import type { Case, Suite } from '../harness';
import { natsChannelCases } from '../nats/channel';
import { jetstreamCases } from '../nats/jetstream';
import { natsRequestCases } from '../nats/request';

/** How long the shared server outlives the last repetition that used it (the next one, if any, starts well within it). */
const IDLE_MS = 1000;

let server: Promise<NatsServer> | undefined;
let idle: NodeJS.Timeout | undefined;
let users = 0;

/** Runs `body` with the shared server's URL; the server stops IDLE_MS after the last body ends (so the process can exit). */
async function withServer<T>(body: (url: string) => Promise<T>): Promise<T> {
  if (idle) clearTimeout(idle);
  users++;
  try {
    server ??= startNatsServer();
    return await body((await server).url);
  } finally {
    if (--users === 0) {
      const s = server;
      idle = setTimeout(() => {
        server = undefined;
        void s?.then((x) => x.stop());
      }, IDLE_MS);
    }
  }
}

export const natsSuite: Suite = {
  name: 'nats',
  title: 'rxwire over a local nats-server vs the raw @nats-io clients: channel msgs/s, request/reply µs, JetStream durable msgs/s',
  cases({ quick }): Case[] {
    return [...natsChannelCases({ quick }), ...natsRequestCases({ quick }), ...jetstreamCases(withServer, { quick })];
  },
};
