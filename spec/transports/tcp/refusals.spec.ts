import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { codec, FrameError, TransportClosedError } from '../../../index';
import { tcp } from '../../../transports';
import { FrameParser } from '../../../transports/tcp/parser';
import { DenyCode, Flag, MAGIC, NONCE_BYTES, SESSION_BYTES, TcpKind, WelcomeFlag } from '../../../transports/tcp/wire';
import { closeAll, connect, listen, nextConnection, socketClosed } from '../../fixtures/tcp';
import { RawPeer, frame } from '../../fixtures/tcp-raw';
import { tick } from '../../helpers';

/*
 * The ways a TCP end refuses a peer (DENY, a WELCOME that makes no sense, a
 * peer that never answers), each as a careless or hostile peer would bring it
 * about, byte by byte: the refusing end keeps running, keeps no socket open,
 * and says why with a typed error.
 */

afterEach(closeAll);

const Text = codec('string');

/** Settles with 'timed out' after `ms` if `promise` has not settled (the timer is cleared either way). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timed out'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([promise, new Promise<'timed out'>((resolve) => (timer = setTimeout(() => resolve('timed out'), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

describe('a TCP server refusing a peer', () => {
  it('survives a peer that resets its socket on the DENY (an error with no listener would end the process)', async () => {
    const server = await listen();
    const errors: Error[] = [];
    server.errors$.subscribe((err) => errors.push(err));
    const peer = await RawPeer.open(server.port);
    peer.send(Buffer.alloc(4)); // a frame length of 0: below the header, DENY code 3
    const deny = await peer.next((f) => f.kind === TcpKind.DENY);
    expect(deny.body[0]).toBe(DenyCode.PROTOCOL);
    peer.socket.resetAndDestroy();
    await tick(50); // the reset reaches the server's socket
    expect(errors.some((err) => err instanceof FrameError)).toBe(true);
    // Still serving.
    const accepted = nextConnection(server);
    const conn = await connect({ port: server.port });
    const wire = conn.open('after', Text);
    const there = (await accepted).open('after', Text);
    const got = new Promise<string>((resolve) => there.subscribe({ next: resolve, error: () => {} })); // closed after the test
    await wire.send('still here');
    expect(await got).toBe('still here');
  });

  it('refuses to resume a session it does not have, and close() does not wait for the refused socket', async () => {
    const server = await listen();
    const errors: Error[] = [];
    server.errors$.subscribe((err) => errors.push(err));
    const peer = await RawPeer.authed(server.port, { flags: Flag.RESUMABLE, session: Buffer.alloc(SESSION_BYTES, 1) });
    const deny = await peer.next((f) => f.kind === TcpKind.DENY);
    expect(deny.body[0]).toBe(DenyCode.UNKNOWN_SESSION);
    expect(errors.some((err) => err instanceof TransportClosedError)).toBe(true);
    // A byte after the DENY, then our end: the server's socket, paused after AUTH, once held that byte unread
    // and so never saw the end, never closed, and server.close() waited for it for ever.
    await tick(20);
    peer.send(Buffer.from([0]));
    peer.socket.end();
    expect(await within(server.close(), 900)).toBeUndefined(); // under the DENY's 1 s grace: close() ends it itself
    expect(await within(peer.closed, 2000)).toBeUndefined();
  });

  it('does not resume a session that keeps no replay: DENY code 2, not a WELCOME that would lose what was unsent', async () => {
    const server = await listen();
    // A new session, not resumable (CONNECT without RESUMABLE): the server keeps no replay for it.
    const first = await RawPeer.connect(server.port);
    const session = (await first.next((f) => f.kind === TcpKind.WELCOME)).body.subarray(0, SESSION_BYTES);
    // While its socket is still up, a second socket asks for it, as a resuming client would.
    const second = await RawPeer.authed(server.port, { flags: Flag.RESUMABLE, session });
    const answer = await second.next((f) => f.kind === TcpKind.DENY || f.kind === TcpKind.WELCOME);
    expect(answer.kind).toBe(TcpKind.DENY);
    expect(answer.body[0]).toBe(DenyCode.UNKNOWN_SESSION);
    expect(await within(second.closed, 2000)).toBeUndefined();
  });

  it('does not resume a resumable session for a CONNECT that is not RESUMABLE', async () => {
    const server = await listen();
    const first = await RawPeer.authed(server.port, { flags: Flag.RESUMABLE });
    const session = (await first.next((f) => f.kind === TcpKind.WELCOME)).body.subarray(0, SESSION_BYTES);
    const second = await RawPeer.authed(server.port, { flags: 0, session });
    const answer = await second.next((f) => f.kind === TcpKind.DENY || f.kind === TcpKind.WELCOME);
    expect(answer.kind).toBe(TcpKind.DENY);
    expect(answer.body[0]).toBe(DenyCode.UNKNOWN_SESSION);
  });
});

/** A fake server: answers CONNECT with CHALLENGE and AUTH with `welcome` (WELCOME's body), then holds the socket. */
async function fakeServer(welcome: Buffer): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    const parser = new FrameParser((kind) => {
      if (kind === TcpKind.CONNECT) {
        const preface = Buffer.alloc(10);
        MAGIC.copy(preface, 0);
        preface[4] = 1;
        preface.writeUInt32LE(4 << 20, 6);
        socket.write(frame(TcpKind.CHALLENGE, 0, Buffer.concat([preface, randomBytes(NONCE_BYTES)])));
      } else if (kind === TcpKind.AUTH) {
        socket.write(frame(TcpKind.WELCOME, 0, welcome));
      }
    }, 1 << 20);
    socket.on('data', (chunk: Buffer) => parser.push(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      const closed = [...sockets].map((socket) => socketClosed(socket));
      for (const socket of sockets) socket.destroy();
      await Promise.all(closed);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** WELCOME's body: a session id, flags, and the count of the client's bytes the server says it received. */
function welcomeBody(flags: number, received: number): Buffer {
  const body = Buffer.alloc(SESSION_BYTES + 9);
  randomBytes(SESSION_BYTES).copy(body, 0);
  body[SESSION_BYTES] = flags;
  body.writeBigUInt64LE(BigInt(received), SESSION_BYTES + 1);
  return body;
}

describe('tcp.connect refusing a server', () => {
  it('rejects with FrameError when a new session is welcomed with a count of bytes it never sent', async () => {
    const fake = await fakeServer(welcomeBody(0, 1));
    try {
      await expect(tcp.connect({ port: fake.port })).rejects.toThrow(FrameError);
    } finally {
      await fake.close();
    }
  });

  it('rejects with FrameError when a new session is welcomed as RESUMED', async () => {
    const fake = await fakeServer(welcomeBody(WelcomeFlag.RESUMED, 0));
    try {
      await expect(tcp.connect({ port: fake.port, reconnect: true })).rejects.toThrow(/RESUMED/);
    } finally {
      await fake.close();
    }
  });

  it('rejects with TransportClosedError when the server takes the connection and never answers TLS (10 s)', async () => {
    const held = new Set<net.Socket>();
    const silent = net.createServer((socket) => held.add(socket.on('error', () => {})));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const started = Date.now();
      await expect(tcp.connect({ port, tls: { rejectUnauthorized: false } })).rejects.toThrow(TransportClosedError);
      expect(Date.now() - started).toBeGreaterThanOrEqual(9_000);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  }, 20_000);
});

describe('tcp options that could never work', () => {
  it('refuses a window no HELLO can carry, and leaves the name free', async () => {
    await expect(listen({ window: 2 ** 53 })).rejects.toThrow(RangeError);
    const server = await listen();
    const conn = await connect({ port: server.port });
    expect(() => conn.open('a', Text, { window: Number.MAX_SAFE_INTEGER })).toThrow(RangeError);
    expect(() => conn.open('a', Text)).not.toThrow();
  });

  it('refuses a delay longer than a timer can wait (Node would fire it after 1 ms)', async () => {
    await expect(listen({ resumeTimeout: 2 ** 31 })).rejects.toThrow(/resumeTimeout must be a number of milliseconds from 0 to 2147483647/);
    await expect(tcp.connect({ port: 1, reconnect: { giveUpAfter: 2 ** 31 } })).rejects.toThrow(RangeError);
    await expect(tcp.connect({ port: 1, reconnect: { maxDelay: Infinity } })).rejects.toThrow(RangeError);
    await expect(tcp.connect({ port: 1, reconnect: { initialDelay: -1 } })).rejects.toThrow(RangeError);
  });
});
