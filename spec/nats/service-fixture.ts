/**
 * The fixture of the service specs: a real nats-server and a connection for
 * the file, and the services and clients a test makes, stopped and closed
 * after it whatever its outcome.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, type NatsServer } from '../../examples/nats-server';
import type { Service } from '../../nats';
import type { RequestClient } from '../../operators/client';

export interface ServiceFixture {
  readonly server: NatsServer;
  readonly nc: NatsConnection;
  /** Stopped after the test. */
  service(svc: Service): Service;
  /** Closed after the test. */
  client<Q, A>(c: RequestClient<Q, A>): RequestClient<Q, A>;
  /** Another connection to the server, closed after the test. */
  connection(): Promise<NatsConnection>;
}

/** Registers beforeAll/afterEach/afterAll for a spec file; the fixture is usable from beforeAll on. */
export function serviceFixture(): ServiceFixture {
  const services: Service[] = [];
  const clients: RequestClient<unknown, unknown>[] = [];
  const connections: NatsConnection[] = [];
  const fixture = {
    server: undefined as unknown as NatsServer,
    nc: undefined as unknown as NatsConnection,
    service(svc: Service): Service {
      services.push(svc);
      return svc;
    },
    client<Q, A>(c: RequestClient<Q, A>): RequestClient<Q, A> {
      clients.push(c as RequestClient<unknown, unknown>);
      return c;
    },
    async connection(): Promise<NatsConnection> {
      const conn = await connect({ servers: fixture.server.url });
      connections.push(conn);
      return conn;
    },
  };
  beforeAll(async () => {
    fixture.server = await startNatsServer({ jetstream: false });
    fixture.nc = await connect({ servers: fixture.server.url });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(services.splice(0).map((s) => s.stop()));
    await Promise.all(connections.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await fixture.nc?.close();
    await fixture.server?.stop();
  });
  return fixture;
}
