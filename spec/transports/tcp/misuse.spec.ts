import { firstValueFrom, lastValueFrom, take, timeout, toArray } from 'rxjs';
import { codec } from '../../../core/codec';
import { ChannelTakenError, TransportClosedError } from '../../../core/errors';
import { tcp } from '../../../transports';
import { closeAll, connect, listen, nextConnection } from '../../fixtures/tcp';
import { until } from '../../helpers';
import { once } from 'node:events';
import * as net from 'node:net';
import { serverHandshake } from '../../../transports/tcp/handshake';
import { MAGIC, NONCE_BYTES, REASON_BYTES, reasonBytes, SESSION_BYTES, TcpKind } from '../../../transports/tcp/wire';
import { RawPeer, frame } from '../../fixtures/tcp-raw';
import { randomBytes } from 'node:crypto';

/* The careless user: wrong options, a name twice, use after close, leaving halfway. */

afterEach(closeAll);

describe('tcp misuse', () => {
  it.each([
    ['a frame too long', () => frame(TcpKind.NEXT, 1).subarray(0, 4).fill(0xf0)],
    ['a CLOSE', () => frame(TcpKind.CLOSE, 0, Buffer.from('bye'))],
  ])('%s in the same write as the AUTH: connections$ hands out no connection that is already gone (the README server opens a channel on each)', async (_, tail) => {
    // It did: conn.open threw TransportClosedError inside the subscriber, an uncaught error that ended the server's process.
    const server = await listen();
    const handed: string[] = [];
    server.connections$.subscribe((conn) => {
      handed.push(conn.stats().state);
      conn.open('trades', codec('long')).subscribe({ error: () => {} });
    });
    const stranger = await RawPeer.open(server.port);
    const preface = Buffer.concat([MAGIC, Buffer.of(1, 0), Buffer.of(0, 0, 64, 0), randomBytes(NONCE_BYTES)]);
    stranger.send(frame(TcpKind.CONNECT, 0, preface));
    await stranger.next((f) => f.kind === TcpKind.CHALLENGE);
    stranger.send(Buffer.concat([frame(TcpKind.AUTH, 0, Buffer.alloc(SESSION_BYTES + 8)), tail()]));
    await stranger.closed;
    // A good client is still served, and is the only connection handed out.
    const accepted = nextConnection(server);
    const client = await connect({ port: server.port });
    const there = (await accepted).open('s', codec('string'));
    const got = firstValueFrom(there);
    client.open('s', codec('string')).next('in');
    expect(await got).toBe('in');
    expect(handed).toEqual(['live']);
  });

  it('a client that connects and closes before anyone subscribes to connections$: not handed out, gone, to the first subscriber', async () => {
    const server = await listen();
    const early = await connect({ port: server.port });
    await early.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const handed: string[] = [];
    server.connections$.subscribe((conn) => {
      handed.push(conn.stats().state);
      conn.open('trades', codec('long')).subscribe({ error: () => {} });
    });
    const accepted = nextConnection(server);
    await connect({ port: server.port });
    await accepted;
    expect(handed).toEqual(['live']);
  });

  it('a first subscriber that takes one held connection and leaves (firstValueFrom) leaves the rest held for the next', async () => {
    // Before, the loop went on handing the rest to the closed subscriber: never given to anyone, never closed.
    const server = await listen();
    const clients = [await connect({ port: server.port }), await connect({ port: server.port })];
    const first = await firstValueFrom(server.connections$);
    const second = await firstValueFrom(server.connections$.pipe(timeout(10_000))); // a hang bound, not a speed
    expect(second).not.toBe(first);
    // Each client says which it is; the two server ends are the two clients.
    const heard = [first, second].map((conn) => firstValueFrom(conn.open('who', codec('long'))));
    clients.forEach((client, i) => client.open('who', codec('long')).next(i));
    expect((await Promise.all(heard)).sort()).toEqual([0, 1]);
  });

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

  it('a misspelt key inside heartbeat or reconnect is a TypeError naming it, not the default used in silence', async () => {
    /** Rejects with exactly this error: its class and its whole message. */
    const refused = async (call: Promise<unknown>, error: Error) => {
      await expect(call).rejects.toThrow(error);
      await expect(call).rejects.toBeInstanceOf(error.constructor);
    };
    await refused(tcp.connect({ port: 1, heartbeat: { interval: 5000, timout: 1 } as never }), new TypeError('options.heartbeat.timout is not an option (it takes interval, timeout)'));
    await refused(
      tcp.connect({ port: 1, reconnect: { initalDelay: 5 } as never }),
      new TypeError('options.reconnect.initalDelay is not an option (it takes initialDelay, maxDelay, factor, giveUpAfter)'),
    );
    await refused(tcp.listen({ heartbeat: { intervl: 5 } as never }), new TypeError('options.heartbeat.intervl is not an option (it takes interval, timeout)'));
    // A key whose value is undefined passes, as at the top level: the error is the interval's.
    await expect(tcp.connect({ port: 1, heartbeat: { interval: 0, timout: undefined } as never })).rejects.toThrow(/options.heartbeat.interval must be/);
  });

  it('connect to a port nobody listens on: TransportClosedError', async () => {
    const server = await listen();
    const port = server.port;
    await server.close();
    await expect(tcp.connect({ port })).rejects.toBeInstanceOf(TransportClosedError);
  });

  it('opening the same name twice on one connection is a ChannelTakenError; bad names, codecs and options are TypeErrors', async () => {
    const server = await listen();
    const client = await connect({ port: server.port });
    client.open('once', codec('int'));
    expect(() => client.open('once', codec('int'))).toThrow(ChannelTakenError);
    expect(() => client.open('typo', codec('int'), { windw: 5 } as never)).toThrow(/conn\.open: options\.windw is not an option \(it takes maxQueue, pauseReadsWhileQueued, window\)/);
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

  it('a client silent through the handshake is dropped at the time limit with no DENY: a DENY code 2 would tell a resuming client its session is gone', async () => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    try {
      const [socket] = (await once(server, 'connection')) as [net.Socket];
      const got: Buffer[] = [];
      client.on('data', (chunk: Buffer) => got.push(chunk));
      const closed = once(client, 'close');
      const handshake = serverHandshake(socket, { secret: undefined, maxFrame: 1 << 20, timeoutMs: 50 });
      await expect(handshake).rejects.toBeInstanceOf(TransportClosedError);
      await expect(handshake).rejects.toThrow('did not finish within 50 ms');
      await closed;
      expect(Buffer.concat(got).length).toBe(0);
    } finally {
      client.destroy();
      server.close();
    }
  });

  it('a DENY or CLOSE reason is cut to 200 UTF-8 bytes at a character, however the error message is spelled', () => {
    expect(reasonBytes('short').toString()).toBe('short');
    const euros = reasonBytes('€'.repeat(100)); // 3 bytes each: 300 in all
    expect(euros.length).toBe(198);
    expect(euros.toString('utf8')).toBe('€'.repeat(66));
    const mixed = reasonBytes('a'.repeat(199) + '€€');
    expect(mixed.length).toBeLessThanOrEqual(REASON_BYTES);
    expect(mixed.toString('utf8')).toBe('a'.repeat(199));
  });
});
