import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { codec } from '../../../core/codec';
import { TransportClosedError } from '../../../core/errors';
import { tcp } from '../../../transports';
import { closeAll, connect, listen, nextConnection } from '../../fixtures/tcp';
import { until } from '../../helpers';

/* The careless user: wrong options, a name twice, use after close, leaving halfway. */

afterEach(closeAll);

describe('tcp misuse', () => {
  it.each([
    [{ port: -1 }, RangeError],
    [{ port: 70000 }, RangeError],
    [{ maxFrame: 10 }, RangeError],
    [{ window: 0 }, RangeError],
    [{ highWaterMark: 1.5 }, RangeError],
    [{ resumeTimeout: -1 }, RangeError],
    [{ secret: 42 }, TypeError],
    [{ secret: '' }, RangeError],
    [{ host: '' }, TypeError],
    [{ tls: 'yes' }, TypeError],
  ])('listen(%p) rejects with the typed error', async (options, type) => {
    await expect(tcp.listen(options as never)).rejects.toBeInstanceOf(type);
  });

  it.each([
    [{}, RangeError],
    [{ port: 0 }, RangeError],
    [{ port: 1, reconnect: 'always' }, TypeError],
    [{ port: 1, reconnect: { factor: 0.5 } }, RangeError],
    [{ port: 1, reconnect: { initialDelay: -5 } }, RangeError],
  ])('connect(%p) rejects with the typed error', async (options, type) => {
    await expect(tcp.connect(options as never)).rejects.toBeInstanceOf(type);
  });

  it('connect to a port nobody listens on: TransportClosedError', async () => {
    const server = await listen();
    const port = server.port;
    await server.close();
    await expect(tcp.connect({ port })).rejects.toBeInstanceOf(TransportClosedError);
  });

  it('opening the same name twice on one connection is a TypeError; bad names and codecs too', async () => {
    const server = await listen();
    const client = await connect({ port: server.port });
    client.open('once', codec('int'));
    expect(() => client.open('once', codec('int'))).toThrow(TypeError);
    expect(() => client.open('', codec('int'))).toThrow(TypeError);
    expect(() => client.open('x'.repeat(2000), codec('int'))).toThrow(RangeError);
    expect(() => client.open('c', {} as never)).toThrow(TypeError);
    expect(() => client.open('w', codec('int'), { window: -1 })).toThrow(RangeError);
    expect(() => client.open('q', codec('int'), { maxQueue: -1 })).toThrow(RangeError);
    // A refused open leaves the name free.
    expect(() => client.open('w', codec('int'))).not.toThrow();
  });

  it('use after close: open throws, send rejects, subscribers get TransportClosedError', async () => {
    const server = await listen();
    const client = await connect({ port: server.port });
    const wire = client.open('a', codec('int'));
    await client.close();
    await client.close(); // twice is fine
    expect(() => client.open('b', codec('int'))).toThrow(TransportClosedError);
    await expect(wire.send(1)).rejects.toBeInstanceOf(TransportClosedError);
    await expect(firstValueFrom(wire)).rejects.toBeInstanceOf(TransportClosedError);
    await server.close();
    await server.close();
  });

  it('unsubscribing halfway stops the reader; the writer is told (send rejects), the connection goes on', async () => {
    const server = await listen();
    const accepted = nextConnection(server);
    const client = await connect({ port: server.port });
    const peer = await accepted;
    const writer = client.open('half', codec('int'));
    const reader = peer.open('half', codec('int'));
    const firstFive = lastValueFrom(reader.pipe(take(5), toArray()));
    for (let i = 0; i < 5; i++) await writer.send(i);
    expect(await firstFive).toEqual([0, 1, 2, 3, 4]);
    await until(() => {
      try {
        writer.trySend(99);
        return false;
      } catch (err) {
        return err instanceof TransportClosedError;
      }
    });
    await expect(writer.send(100)).rejects.toBeInstanceOf(TransportClosedError);
    // Once both directions are over, the name can be opened again on both ends.
    reader.complete();
    writer.complete();
    const reopen = () => {
      try {
        return client.open('half', codec('int'));
      } catch {
        return undefined;
      }
    };
    let again: ReturnType<typeof reopen>;
    await until(() => (again = reopen()) !== undefined);
    let there: ReturnType<typeof reopen>;
    await until(() => {
      try {
        there = peer.open('half', codec('int'));
        return true;
      } catch {
        return false;
      }
    });
    const got = firstValueFrom(there!);
    again!.next(7);
    expect(await got).toBe(7);
  });
});
