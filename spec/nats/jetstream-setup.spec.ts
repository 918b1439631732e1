/**
 * A DurableSubject first used while its server is unreachable: the sends
 * waiting for the stream's setup get the error, and the handle works once
 * the server is back (before, the failed setup was kept for good).
 */
import { connect } from '@nats-io/transport-node';
import { firstValueFrom } from 'rxjs';
import { startNatsServer } from '../../examples/nats-server';
import { codec } from '../../core/codec';
import { durable } from '../../nats';
import { until } from '../helpers';

describe('durable(): setting the stream up at first use', () => {
  it('rejects the sends waiting for a setup that failed, and tries again at the next use', async () => {
    const server = await startNatsServer({ jetstream: true });
    const nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    const d = durable({ nc }, 'setup', codec('string'), { durable: 'r' });
    try {
      await server.kill();
      const first = await d.send('one').then(() => 'stored', (e: Error) => e.name);
      expect(first).not.toBe('stored'); // the JetStream API's own timeout: the stream could not be set up
      await server.restart();
      await until(() => !nc.isClosed() && (nc as unknown as { protocol: { connected: boolean } }).protocol.connected);
      await nc.flush(); // reconnected
      await expect(d.send('two')).resolves.toMatchObject({ stream: 'setup', seq: 1, duplicate: false });
      expect(await firstValueFrom(d)).toBe('two');
    } finally {
      await d.close().catch(() => undefined);
      await nc.close();
      await server.stop();
    }
  }, 60_000);
});
