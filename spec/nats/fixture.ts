/**
 * A real nats-server for one spec file, and rxwire connections to it that
 * are all closed after each test: `const nats = natsSuite()` at the top of
 * the file registers the hooks (server started in beforeAll, stopped in
 * afterAll).
 */
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, type NatsServer, type NatsServerOptions } from '../../examples/nats-server';
import { connect, type NatsWire } from '../../transports/nats';

export interface NatsSuite {
  /** The server (after beforeAll). */
  readonly server: NatsServer;
  /** A new rxwire connection to it (or to `url`), closed after the test. */
  conn(url?: string): Promise<NatsWire>;
  /** A new plain @nats-io connection to it, closed after the test. */
  raw(): Promise<NatsConnection>;
}

export function natsSuite(options: NatsServerOptions = { jetstream: false }): NatsSuite {
  let server: NatsServer | undefined;
  const conns: NatsWire[] = [];
  const raws: NatsConnection[] = [];
  beforeAll(async () => {
    server = await startNatsServer(options);
  });
  afterEach(async () => {
    await Promise.all(conns.splice(0).map((c) => c.close()));
    await Promise.all(raws.splice(0).map((nc) => nc.close()));
  });
  afterAll(() => server?.stop());
  return {
    get server() {
      return server!;
    },
    async conn(url = server!.url) {
      const c = await connect({ servers: url });
      conns.push(c);
      return c;
    },
    async raw() {
      const nc = await natsConnect({ servers: server!.url });
      raws.push(nc);
      return nc;
    },
  };
}
