import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { generate } from 'selfsigned';
import { codec } from '../../../lib/codec';
import { AuthError } from '../../../lib/errors';
import { tcp } from '../../../transports';
import { closeAll, connect, listen, nextConnection } from '../../fixtures/tcp';

/* Shared-secret authentication and TLS. */

afterEach(closeAll);

describe('tcp authentication', () => {
  it('the right secret connects, and values flow', async () => {
    const server = await listen({ secret: 'open sesame' });
    const accepted = nextConnection(server);
    const client = await connect({ port: server.port, secret: Buffer.from('open sesame') });
    const there = (await accepted).open('s', codec('string'));
    const got = firstValueFrom(there);
    client.open('s', codec('string')).next('in');
    expect(await got).toBe('in');
  });

  it.each([
    ['a wrong secret', 'sesame open'],
    ['no secret', undefined],
  ])('%s: the client gets AuthError, the server reports it on errors$, no connection is delivered', async (_, secret) => {
    const server = await listen({ secret: 'open sesame' });
    const delivered: tcp.TcpConnection[] = [];
    server.connections$.subscribe((conn) => delivered.push(conn));
    const reported = firstValueFrom(server.errors$);
    const refused = tcp.connect({ port: server.port, secret }).catch((e) => e);
    expect(await refused).toBeInstanceOf(AuthError);
    expect(await reported).toBeInstanceOf(AuthError);
    expect(delivered).toEqual([]);
  });

  it('a client with a secret refuses a server without one', async () => {
    const server = await listen();
    const reported = firstValueFrom(server.errors$);
    await expect(tcp.connect({ port: server.port, secret: 'x' })).rejects.toBeInstanceOf(AuthError);
    expect(await reported).toBeInstanceOf(AuthError);
  });

  it('TLS with a certificate made in the test, and a secret on top', async () => {
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keySize: 2048,
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] }],
    });
    const server = await listen({ tls: { key: pems.private, cert: pems.cert }, secret: 's' });
    server.connections$.subscribe((conn) => {
      const echo = conn.open('echo', codec('string'));
      echo.subscribe({ next: (s) => echo.next(s.toUpperCase()), complete: () => echo.complete(), error: () => {} });
    });
    const client = await connect({ port: server.port, secret: 's', tls: { ca: pems.cert } });
    const echo = client.open('echo', codec('string'));
    const got = lastValueFrom(echo.pipe(take(2), toArray()));
    echo.next('tls');
    echo.next('works');
    expect(await got).toEqual(['TLS', 'WORKS']);
    // A client that does not trust the certificate is refused by TLS itself.
    await expect(tcp.connect({ port: server.port, secret: 's', tls: {} })).rejects.toBeInstanceOf(AuthError);
  });
});
