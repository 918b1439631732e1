import { connect } from '@nats-io/transport-node';
import { startNatsServer, type NatsServer } from '../../examples/nats-server';

describe('the test nats-server', () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(() => server.stop());

  it('listens on an ephemeral port and answers a plain client, and comes back on the same port after a kill', async () => {
    expect(server.port).toBeGreaterThan(0);
    const nc = await connect({ servers: server.url });
    const sub = nc.subscribe('t.echo', { max: 1, callback: (_e, m) => {
        m.respond(m.data);
      } });
    const reply = await nc.request('t.echo', 'hi', { timeout: 2000 });
    expect(reply.string()).toBe('hi');
    sub.unsubscribe();
    await nc.close();
    const port = server.port;
    await server.restart();
    expect(server.port).toBe(port);
    const again = await connect({ servers: server.url });
    expect(again.info?.jetstream).toBe(true);
    await again.close();
  });
});
