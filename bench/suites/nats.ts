/**
 * Suite `nats`: rxwire over a local nats-server (started by this suite with
 * examples/nats-server.ts, JetStream on, a temporary store; stopped once the
 * suite's last repetition is a second behind it). Each case file takes the
 * server's URL:
 *   - JetStream durable publish+consume msgs/s vs the raw @nats-io/jetstream
 *     client (bench/nats/jetstream.ts).
 * A ratio > 1 means rxwire is faster. Sizes in bench/README.md.
 */
import { startNatsServer, type NatsServer } from '../../examples/nats-server';
import type { Case, Suite } from '../harness';
import { jetstreamCases } from '../nats/jetstream';

/** How long the server outlives the last repetition that used it (the next one, if any, starts well within it). */
const IDLE_MS = 1000;

let server: Promise<NatsServer> | undefined;
let idle: NodeJS.Timeout | undefined;
let users = 0;

/** Runs `body` with the suite's server URL; the server stops IDLE_MS after the last body ends (so the process can exit). */
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
  title: 'rxwire over a local nats-server vs the raw @nats-io clients: JetStream durable msgs/s',
  cases({ quick }): Case[] {
    return [...jetstreamCases(withServer, { quick })];
  },
};
