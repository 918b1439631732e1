import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { codec } from '../../../core/codec';
import { RemoteError, SchemaMismatchError, TransportClosedError } from '../../../core/errors';
import { open } from '../../../transports/open';
import { Trade, tradeAt } from '../../fixtures/trade';
import { closeAll, connect, listen, nextConnection, proxy } from '../../fixtures/tcp';

/* The TCP transport on real loopback sockets: channels, schemas, endings, closing. */

afterEach(closeAll);

/** A server and a client connected to it, with the server's side of the connection. */
async function linked(options: { secret?: string } = {}) {
  const server = await listen(options);
  const accepted = nextConnection(server);
  const client = await connect({ port: server.port, ...options });
  return { server, client, peer: await accepted };
}

describe('tcp transport', () => {
  it('binds 127.0.0.1 on an ephemeral port by default and reports the peer address', async () => {
    const { server, client, peer } = await linked();
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(client.remoteAddress).toBe('127.0.0.1');
    expect(client.remotePort).toBe(server.port);
    expect(peer.remoteAddress).toBe('127.0.0.1');
  });

  it('carries values both ways on several channels of one connection, each in order, with complete', async () => {
    const { client, peer } = await linked();
    const names = ['a', 'b', 'c'];
    const results = names.map((name) => {
      const there = peer.open(name, codec('string'));
      // An echo that upper-cases: every channel its own stream.
      there.subscribe({ next: (s) => there.next(s.toUpperCase()), complete: () => there.complete() });
      const here = client.open(name, codec('string'));
      const got = lastValueFrom(here.pipe(toArray()));
      for (let i = 0; i < 100; i++) here.next(`${name}${i}`);
      here.complete();
      return got;
    });
    const all = await Promise.all(results);
    names.forEach((name, k) => expect(all[k]).toEqual(Array.from({ length: 100 }, (_, i) => `${name.toUpperCase()}${i}`)));
  });

  it('an error crosses as RemoteError with its name and code', async () => {
    const { client, peer } = await linked();
    const there = peer.open('e', codec('int'));
    const failed = lastValueFrom(there).catch((e) => e);
    const here = client.open('e', codec('int'));
    here.next(1);
    here.error(Object.assign(new RangeError('bad qty'), { code: 'E_QTY' }));
    const err = await failed;
    expect(err).toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({ message: 'bad qty', remoteName: 'RangeError', remoteCode: 'E_QTY' });
  });

  it('holds values sent before the peer opens the channel, and delivers them once it does', async () => {
    const { client, peer } = await linked();
    const here = client.open('late', Trade);
    for (let i = 0; i < 50; i++) here.next(tradeAt(i));
    const sent = here.send(tradeAt(50));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(here.stats().sent).toBe(0); // nothing goes out before the peer's HELLO
    expect(here.stats().queued).toBe(51);
    const there = peer.open('late', Trade);
    const got = await lastValueFrom(there.pipe(take(51), toArray()));
    await sent;
    expect(got.map((t) => t.id)).toEqual([...Array(51).keys()]);
  });

  it('open(conn.end(name), codec) is conn.open(name, codec)', async () => {
    const { client, peer } = await linked();
    const end = client.end('via-end');
    expect(end).toMatchObject({ transport: 'tcp', name: 'via-end' });
    const here = open(end, codec('string'));
    const there = peer.open('via-end', codec('string'));
    const got = firstValueFrom(there);
    here.next('hi');
    expect(await got).toBe('hi');
  });

  it('schema evolution: an old writer, a new reader with a defaulted field', async () => {
    const { client, peer } = await linked();
    const V1 = codec({ type: 'record', name: 'Order', fields: [{ name: 'id', type: 'long' }, { name: 'sym', type: 'string' }] } as const);
    const V2 = codec({
      type: 'record',
      name: 'Order',
      fields: [
        { name: 'id', type: 'long' },
        { name: 'sym', type: 'string' },
        { name: 'venue', type: 'string', default: 'XNAS' },
      ],
    } as const);
    const reader = peer.open('orders', V2);
    const got = lastValueFrom(reader.pipe(take(2), toArray()));
    const writer = client.open('orders', V1);
    writer.next({ id: 1, sym: 'ACME' });
    writer.next({ id: 2, sym: 'INITECH' });
    expect(await got).toEqual([
      { id: 1, sym: 'ACME', venue: 'XNAS' },
      { id: 2, sym: 'INITECH', venue: 'XNAS' },
    ]);
  });

  it('incompatible schemas fail at open on BOTH ends with SchemaMismatchError naming the field', async () => {
    const { client, peer } = await linked();
    const A = codec({ type: 'record', name: 'P', fields: [{ name: 'qty', type: 'int' }] } as const);
    const B = codec({ type: 'record', name: 'P', fields: [{ name: 'qty', type: 'string' }] } as const);
    const here = client.open('p', A);
    const there = peer.open('p', B);
    const [a, b] = await Promise.all([lastValueFrom(here).catch((e) => e), lastValueFrom(there).catch((e) => e)]);
    for (const err of [a, b]) {
      expect(err).toBeInstanceOf(SchemaMismatchError);
      expect(err.path).toBe('P.qty');
    }
    // And the writers are refused too: nothing garbled goes out later.
    await expect(here.send({ qty: 1 })).rejects.toBeInstanceOf(SchemaMismatchError);
    await expect(there.send({ qty: 'x' })).rejects.toBeInstanceOf(SchemaMismatchError);
  });

  it('conn.close(): the channels end with TransportClosedError at both ends, after the values sent', async () => {
    const { client, peer } = await linked();
    const there = peer.open('x', codec('int'));
    const got: number[] = [];
    const farEnd = new Promise((resolve) => there.subscribe({ next: (n) => got.push(n), error: resolve }));
    const here = client.open('x', codec('int'));
    const nearEnd = lastValueFrom(here).catch((e) => e);
    await firstValueFrom(there.stats$.pipe(take(1))); // let the HELLOs cross
    for (let i = 0; i < 10; i++) await here.send(i);
    await client.close();
    expect(await farEnd).toBeInstanceOf(TransportClosedError);
    expect(await nearEnd).toBeInstanceOf(TransportClosedError);
    expect(got).toEqual([...Array(10).keys()]);
    await expect(peer.closed).resolves.toBeUndefined();
    await expect(client.closed).resolves.toBeUndefined();
  });

  it('without reconnect, a dropped connection ends every channel with TransportClosedError', async () => {
    const server = await listen();
    const p = await proxy(server.port);
    const accepted = nextConnection(server);
    const client = await connect({ port: p.port });
    const peer = await accepted;
    const here = client.open('d', codec('int'));
    const there = peer.open('d', codec('int'));
    const ends = [lastValueFrom(here).catch((e) => e), lastValueFrom(there).catch((e) => e)];
    await here.send(1);
    p.cut();
    for (const err of await Promise.all(ends)) expect(err).toBeInstanceOf(TransportClosedError);
    await expect(here.send(2)).rejects.toBeInstanceOf(TransportClosedError);
    await client.closed;
  });

  it('holds connections accepted before the first subscriber; connections$ completes on close', async () => {
    const server = await listen();
    const c1 = await connect({ port: server.port });
    const c2 = await connect({ port: server.port });
    const seen: number[] = [];
    const completed = new Promise<void>((resolve) => server.connections$.subscribe({ next: (c) => seen.push(c.remotePort), complete: resolve }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen.length).toBe(2);
    await server.close();
    await completed;
    await Promise.all([c1.closed, c2.closed]);
  });
});
