import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { generate } from 'selfsigned';
import { codec } from '../../../core/codec';
import { AuthError } from '../../../core/errors';
import { tcp } from '../../../transports';
import { createHmac, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as net from 'node:net';
import { helloOf } from '../../../core/frame';
import { FrameParser } from '../../../transports/tcp/parser';
import { ChannelHelloRecord, DenyCode, Flag, MAGIC, NONCE_BYTES, PROOF_BYTES, SESSION_BYTES, TcpKind } from '../../../transports/tcp/wire';
import { closeAll, connect, listen, nextConnection, proxy } from '../../fixtures/tcp';
import { RawPeer, frame } from '../../fixtures/tcp-raw';
import { until } from '../../helpers';

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

  it('the secret never crosses the wire', async () => {
    const secret = 'open sesame, a phrase to look for';
    const server = await listen({ secret });
    const p = await proxy(server.port);
    p.recording = true;
    const accepted = nextConnection(server);
    const client = await connect({ port: p.port, secret });
    const there = (await accepted).open('s', codec('string'));
    const got = firstValueFrom(there);
    client.open('s', codec('string')).next('in');
    expect(await got).toBe('in');
    const wire = Buffer.concat(p.captured);
    expect(wire.length).toBeGreaterThan(200); // the handshake and the value went through the proxy
    expect(wire.includes(Buffer.from(secret))).toBe(false);
    expect(wire.includes(Buffer.from('open sesame'))).toBe(false);
  });

  it('a stranger learns nothing to guess the secret with, and what it sends with a bad proof reaches no channel', async () => {
    const server = await listen({ secret: 'open sesame' });
    const delivered: tcp.TcpConnection[] = [];
    server.connections$.subscribe((conn) => {
      delivered.push(conn);
      conn.open('s', codec('string')).subscribe();
    });
    const reported = firstValueFrom(server.errors$);
    const stranger = await RawPeer.open(server.port);
    const connectBody = Buffer.concat([MAGIC, Buffer.of(1, Flag.SECRET), Buffer.of(0, 0, 64, 0), randomBytes(NONCE_BYTES)]);
    stranger.send(frame(TcpKind.CONNECT, 0, connectBody));
    const challenge = await stranger.next((f) => f.kind === TcpKind.CHALLENGE);
    expect(challenge.body.length).toBe(10 + NONCE_BYTES); // a nonce, and no proof of the server's
    // A guessed proof, and channel frames right behind it in the same write.
    const auth = frame(TcpKind.AUTH, 0, Buffer.concat([randomBytes(PROOF_BYTES), Buffer.alloc(SESSION_BYTES + 8)]));
    const hello = frame(TcpKind.HELLO, 1, ChannelHelloRecord.encode({ name: 's', ...helloOf(codec('string'), 1 << 20) }));
    const next = frame(TcpKind.NEXT, 1, Buffer.concat([Buffer.of(6), codec('string').encode('hi')]));
    stranger.send(Buffer.concat([auth, hello, next]));
    expect(await reported).toBeInstanceOf(AuthError);
    const deny = await stranger.next((f) => f.kind === TcpKind.DENY);
    expect(deny.body[0]).toBe(DenyCode.AUTH);
    await stranger.closed;
    expect(stranger.frames.some((f) => f.kind === TcpKind.WELCOME)).toBe(false);
    expect(delivered).toEqual([]);
  });

  it("a server that does not know the secret is refused by the client: AuthError, nothing sent on", async () => {
    const impostor = net.createServer((socket) => {
      const parser = new FrameParser((kind, _channel, buf, start) => {
        if (kind === TcpKind.CONNECT) {
          socket.write(frame(TcpKind.CHALLENGE, 0, Buffer.concat([MAGIC, Buffer.of(1, Flag.SECRET), Buffer.of(0, 0, 64, 0), randomBytes(NONCE_BYTES)])));
        } else if (kind === TcpKind.AUTH) {
          // It accepts any proof, and can only guess at its own.
          socket.write(frame(TcpKind.WELCOME, 0, Buffer.concat([randomBytes(SESSION_BYTES), Buffer.alloc(9), randomBytes(PROOF_BYTES)])));
        } else if (kind === TcpKind.DENY) {
          denyCode = buf[start];
        }
      }, 1 << 20);
      socket.on('data', (chunk: Buffer) => parser.push(chunk));
      socket.on('error', () => {});
    });
    let denyCode = -1;
    impostor.listen(0, '127.0.0.1');
    await once(impostor, 'listening');
    try {
      const { port } = impostor.address() as net.AddressInfo;
      await expect(tcp.connect({ port, secret: 'open sesame' })).rejects.toBeInstanceOf(AuthError);
      await until(() => denyCode !== -1);
      expect(denyCode).toBe(DenyCode.AUTH);
    } finally {
      await new Promise((resolve) => impostor.close(resolve));
    }
  });

  it("a client that refuses the server's WELCOME (DENY after it): the server ends that connection with AuthError", async () => {
    const secret = 'open sesame';
    const server = await listen({ secret });
    const ended = new Promise<void>((resolve) => server.connections$.subscribe((conn) => void conn.closed.then(resolve)));
    const reported = firstValueFrom(server.errors$);
    const client = await RawPeer.open(server.port);
    const nc = randomBytes(NONCE_BYTES);
    client.send(frame(TcpKind.CONNECT, 0, Buffer.concat([MAGIC, Buffer.of(1, Flag.SECRET), Buffer.of(0, 0, 64, 0), nc])));
    const ns = (await client.next((f) => f.kind === TcpKind.CHALLENGE)).body.subarray(10, 10 + NONCE_BYTES);
    // A real proof: the server admits the client, then hears that its own proof was refused.
    const proof = createHmac('sha256', secret).update('rxwire client').update(nc).update(ns).digest();
    client.send(frame(TcpKind.AUTH, 0, Buffer.concat([proof, Buffer.alloc(SESSION_BYTES + 8)])));
    await client.next((f) => f.kind === TcpKind.WELCOME);
    client.send(frame(TcpKind.DENY, 0, Buffer.concat([Buffer.of(DenyCode.AUTH), Buffer.from('bad server proof')])));
    expect(await reported).toBeInstanceOf(AuthError);
    await ended;
    await client.closed;
  });

  it('a DENY reason is read to 200 bytes at most, in the handshake and after it (docs/PROTOCOL.md, DENY)', async () => {
    const reason = 'é'.repeat(125); // 250 bytes of UTF-8: over 200, and a body within the handshake's 256-byte frames
    // In the handshake: a bare server answers CONNECT with an over-long DENY.
    const bare = net.createServer((socket) => {
      socket.once('data', () => socket.end(frame(TcpKind.DENY, 0, Buffer.concat([Buffer.of(DenyCode.AUTH), Buffer.from(reason)]))));
      socket.on('error', () => {});
    });
    bare.listen(0, '127.0.0.1');
    await once(bare, 'listening');
    try {
      const refused: Error = await tcp.connect({ port: (bare.address() as net.AddressInfo).port, secret: 's' }).catch((e) => e);
      expect(refused).toBeInstanceOf(AuthError);
      expect(refused.message).toContain('é'.repeat(100));
      expect(refused.message).not.toContain('é'.repeat(101));
    } finally {
      await new Promise<void>((resolve) => bare.close(() => resolve()));
    }
    // After it: the server's connection ends with the reason cut the same way.
    const server = await listen({ secret: 's' });
    const reported = firstValueFrom(server.errors$);
    const client = await RawPeer.open(server.port);
    const nc = randomBytes(NONCE_BYTES);
    client.send(frame(TcpKind.CONNECT, 0, Buffer.concat([MAGIC, Buffer.of(1, Flag.SECRET), Buffer.of(0, 0, 64, 0), nc])));
    const ns = (await client.next((f) => f.kind === TcpKind.CHALLENGE)).body.subarray(10, 10 + NONCE_BYTES);
    const proof = createHmac('sha256', 's').update('rxwire client').update(nc).update(ns).digest();
    client.send(frame(TcpKind.AUTH, 0, Buffer.concat([proof, Buffer.alloc(SESSION_BYTES + 8)])));
    await client.next((f) => f.kind === TcpKind.WELCOME);
    client.send(frame(TcpKind.DENY, 0, Buffer.concat([Buffer.of(DenyCode.AUTH), Buffer.from(reason)])));
    const after = await reported;
    expect(after).toBeInstanceOf(AuthError);
    expect(after.message).toContain('é'.repeat(100));
    expect(after.message).not.toContain('é'.repeat(101));
    await client.closed;
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
