import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { codec, raw, type Codec } from '../../../core/codec';
import { DecodeError, FrameError } from '../../../core/errors';
import { LongRecord, ChannelHelloRecord, TcpKind } from '../../../transports/tcp/wire';
import { helloOf } from '../../../core/frame';
import { MAX_PENDING_HELLOS } from '../../../transports/tcp/mux';
import { closeAll, connect, listen, rawSocket, socketClosed } from '../../fixtures/tcp';
import { RawPeer, frame } from '../../fixtures/tcp-raw';
import type { TcpServer } from '../../../transports/tcp';

/* maxFrame, malformed input, and what a peer can make this end hold. */

afterEach(closeAll);

/** A server whose every connection echoes channel 'echo' upper-cased. */
async function echoServer(options = {}): Promise<TcpServer> {
  const server = await listen(options);
  server.connections$.subscribe((conn) => {
    const echo = conn.open('echo', codec('string'));
    echo.subscribe({ next: (s) => echo.next(s.toUpperCase()), complete: () => echo.complete(), error: () => {} });
  });
  return server;
}

/** Proves the server still serves: a fresh round trip on a good client. */
async function roundTrip(port: number): Promise<string> {
  const client = await connect({ port });
  const echo = client.open('echo', codec('string'));
  const got = firstValueFrom(echo);
  echo.next('still here');
  return got;
}

describe('tcp limits', () => {
  it('an oversized frame closes that connection with FrameError; another client keeps working', async () => {
    const server = await echoServer();
    const good = await connect({ port: server.port });
    const goodEcho = good.open('echo', codec('string'));
    const reported = firstValueFrom(server.errors$);
    const bad = await RawPeer.connect(server.port);
    const header = Buffer.alloc(9);
    header.writeUInt32LE(16 << 20, 0); // announces 16 MiB, over the default 4 MiB
    header[4] = TcpKind.NEXT;
    header.writeUInt32LE(1, 5);
    bad.send(header);
    const err = await reported;
    expect(err).toBeInstanceOf(FrameError);
    expect(err.message).toMatch(/exceeds the limit of 4194304 bytes/);
    await bad.closed;
    expect((await bad.next((f) => f.kind === TcpKind.CLOSE)).body.toString()).toMatch(/exceeds/);
    const got = firstValueFrom(goodEcho);
    goodEcho.next('alive');
    expect(await got).toBe('ALIVE');
    expect(await roundTrip(server.port)).toBe('STILL HERE');
  });

  it("the window overrun check allows the reader's own maxFrame over the window, no more (PROTOCOL.md)", async () => {
    const window = 4096;
    const maxFrame = 1024; // the server's; the raw peer announces 4 MiB for itself
    const server = await listen({ maxFrame });
    server.connections$.subscribe((conn) => conn.open('r', raw, { window })); // no subscriber: nothing is consumed or acknowledged
    const reported = firstValueFrom(server.errors$);
    const peer = await RawPeer.connect(server.port);
    peer.send(frame(TcpKind.HELLO, 1, ChannelHelloRecord.encode({ name: 'r', ...helloOf(raw, 1 << 20) })));
    await peer.next((f) => f.kind === TcpKind.ACK);
    // Items of 1000 bytes (a 2-byte prefix for 998 bytes), one NEXT frame each.
    const item = frame(TcpKind.NEXT, 1, Buffer.concat([LongRecord.encode(998), Buffer.alloc(998, 7)]));
    for (let i = 0; i < 5; i++) peer.send(item); // 5000 ≤ window + this end's maxFrame (5120)
    peer.send(frame(TcpKind.PING, 0));
    await peer.next((f) => f.kind === TcpKind.PONG); // all 5 read, the connection still up
    peer.send(item); // 6000 > 5120, though far below window + the peer's own maxFrame
    const err = await reported;
    expect(err).toBeInstanceOf(FrameError);
    expect(err.message).toMatch(/overran its window of 4096 bytes/);
    await peer.closed;
  });

  it('malformed frames close that connection with FrameError', async () => {
    const server = await echoServer();
    const cases: Buffer[] = [
      frame(0x7f, 1), // an unknown kind
      frame(TcpKind.NEXT, 9, Buffer.of(2, 0x41)), // data for a channel never announced
      frame(TcpKind.HELLO, 1, Buffer.from('garbage, not a HELLO')),
      frame(TcpKind.CACK, 0, LongRecord.encode(1 << 30)), // acknowledges bytes never sent
      Buffer.of(2, 0, 0, 0, 1), // a length below the header
    ];
    for (const bytes of cases) {
      const reported = firstValueFrom(server.errors$);
      const bad = await RawPeer.connect(server.port);
      bad.send(bytes);
      expect(await reported).toBeInstanceOf(FrameError);
      await bad.closed;
    }
    expect(await roundTrip(server.port)).toBe('STILL HERE');
  });

  it('garbage instead of a handshake: FrameError on errors$, closed at once', async () => {
    const server = await echoServer();
    const reported = firstValueFrom(server.errors$);
    const socket = await rawSocket(server.port);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await reported).toBeInstanceOf(FrameError);
    await socketClosed(socket);
    expect(await roundTrip(server.port)).toBe('STILL HERE');
  });

  it(`bounds channels announced but not opened here (${MAX_PENDING_HELLOS})`, async () => {
    const server = await listen();
    server.connections$.subscribe();
    const reported = firstValueFrom(server.errors$);
    const bad = await RawPeer.connect(server.port);
    const hellos = [];
    for (let id = 1; id <= MAX_PENDING_HELLOS + 1; id++) {
      const body = ChannelHelloRecord.encode({ name: `ch${id}`, ...helloOf(codec('string'), 1024) });
      hellos.push(frame(TcpKind.HELLO, id, body));
    }
    bad.send(Buffer.concat(hellos));
    const err = await reported;
    expect(err).toBeInstanceOf(FrameError);
    expect(err.message).toMatch(/announced but not opened/);
  });

  it('a hostile array count does not hang the reader: DecodeError, quickly', async () => {
    const Nulls = codec({ type: 'array', items: 'null' } as const);
    const server = await listen();
    const opened = new Promise<Error>((resolve) =>
      server.connections$.subscribe((conn) => conn.open('arr', Nulls).subscribe({ error: resolve })),
    );
    const bad = await RawPeer.connect(server.port);
    bad.send(frame(TcpKind.HELLO, 1, ChannelHelloRecord.encode({ name: 'arr', ...helloOf(Nulls, 1 << 20) })));
    await bad.next((f) => f.kind === TcpKind.ACK); // the server accepted the schema
    // One item: an array block of 2^50 nulls (zig-zag varint), then the end marker.
    const value = Buffer.concat([LongRecord.encode(2 ** 50), Buffer.of(0)]);
    bad.send(frame(TcpKind.NEXT, 1, Buffer.concat([Buffer.of(value.length * 2), value])));
    const err = await opened;
    expect(err).toBeInstanceOf(DecodeError);
  });

  it('a writer schema with a namespace and relative names (valid Avro, not the canonical form) is walked as Avro resolves it', async () => {
    // Valid Avro that another language's library may well send: the namespace apart, a reference by full name.
    const written = { type: 'record', name: 'P', namespace: 'a', fields: [{ name: 'kids', type: { type: 'array', items: 'a.P' } }] };
    const P = codec(written as never) as unknown as Codec<{ kids: unknown[] }>;
    const server = await listen();
    const got = new Promise<unknown>((resolve, reject) =>
      server.connections$.subscribe((conn) => conn.open('ns', P).subscribe({ next: resolve, error: reject })),
    );
    const peer = await RawPeer.connect(server.port);
    peer.send(frame(TcpKind.HELLO, 1, ChannelHelloRecord.encode({ name: 'ns', ...helloOf(P, 1 << 20), schema: JSON.stringify(written) })));
    await peer.next((f) => f.kind === TcpKind.ACK);
    const value = P.encode({ kids: [{ kids: [] }] });
    peer.send(frame(TcpKind.NEXT, 1, Buffer.concat([Buffer.of(value.length * 2), value])));
    expect(await got).toEqual({ kids: [{ kids: [] }] });
  });

  it.each(['{}', '{"type":"array","items":"null"}'])('an equal fingerprint means the reader\'s own schema, whatever JSON the HELLO carries (%s): values are read and walked by it', async (text) => {
    // The walk that bounds each item used the HELLO's text: `{}` failed the first value with an untyped Error,
    // another layout a good value with DecodeError. docs/PROTOCOL.md, "Fingerprint and schema".
    const written = { type: 'record', name: 'P', fields: [{ name: 'kids', type: { type: 'array', items: 'P' } }] };
    const P = codec(written as never) as unknown as Codec<{ kids: unknown[] }>;
    const server = await listen();
    const got = new Promise<unknown>((resolve, reject) =>
      server.connections$.subscribe((conn) => conn.open('same', P).subscribe({ next: resolve, error: reject })),
    );
    const peer = await RawPeer.connect(server.port);
    peer.send(frame(TcpKind.HELLO, 1, ChannelHelloRecord.encode({ name: 'same', ...helloOf(P, 1 << 20), schema: text })));
    await peer.next((f) => f.kind === TcpKind.ACK);
    const value = P.encode({ kids: [{ kids: [] }, { kids: [] }] });
    peer.send(frame(TcpKind.NEXT, 1, Buffer.concat([Buffer.of(value.length * 2), value])));
    expect(await got).toEqual({ kids: [{ kids: [] }, { kids: [] }] });
  });

  it('maxFrame is configurable: a value over the peer\'s limit is refused by the writer, the stream goes on', async () => {
    const server = await listen({ maxFrame: 1024 });
    const accepted = new Promise<string[]>((resolve) =>
      server.connections$.subscribe((conn) => {
        void lastValueFrom(conn.open('bytes', raw).pipe(take(2), toArray())).then((all) => resolve(all.map((b) => b.toString())));
      }),
    );
    const client = await connect({ port: server.port });
    const wire = client.open('bytes', raw);
    await wire.send(Buffer.from('small'));
    await expect(wire.send(Buffer.alloc(2000))).rejects.toBeInstanceOf(FrameError);
    await wire.send(Buffer.from('after'));
    expect(await accepted).toEqual(['small', 'after']);
  });
});
