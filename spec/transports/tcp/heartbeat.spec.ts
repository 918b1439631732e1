import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { codec } from '../../../core/codec';
import { TransportClosedError } from '../../../core/errors';
import type { WireSubject } from '../../../core/wire-subject';
import { tcp } from '../../../transports';
import { Heartbeat } from '../../../transports/tcp/heartbeat';
import { TcpKind } from '../../../transports/tcp/wire';
import { closeAll, connect, listen, nextConnection } from '../../fixtures/tcp';
import { frame, RawPeer } from '../../fixtures/tcp-raw';
import { until } from '../../helpers';

/*
 * The heartbeat: a peer that goes silent with its socket open (here a real
 * child process stopped by SIGSTOP) is noticed, and what depends on it ends
 * with TransportClosedError, or, with `reconnect`, resumes. Timeouts are
 * kept small through the options; nothing asserts on durations.
 */

const Long = codec('long');
const root = join(__dirname, '..', '..', '..');
const ECHO = join(root, 'spec', 'workers', 'tcp-echo.process.ts');
/** Small, so a test notices silence quickly; the assertions are on what happens, not when. */
const FAST = { interval: 50, timeout: 300 };

const children = new Set<ChildProcess>();

afterEach(async () => {
  await closeAll();
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL'); // a stopped process dies of SIGKILL too
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }
  children.clear();
});

/** Starts the echo peer as a child process; resolves once it printed a line matching `ready`. */
async function echoPeer(args: string[], ready: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', ECHO, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (out += text));
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      out += text;
      const found = ready.exec(out);
      if (found) resolve(found);
    });
    child.once('exit', (code) => reject(new Error(`the echo peer exited (${code}) before it was ready: ${out}`)));
  });
  return { child, match };
}

/** Sends `n` and waits for its echo. */
async function roundTrip(wire: WireSubject<number>, n: number): Promise<void> {
  const back = firstValueFrom(wire);
  wire.next(n);
  expect(await back).toBe(n);
}

/** The error `wire` ends with. */
function endingOf(wire: WireSubject<number>): Promise<unknown> {
  return new Promise((resolve) => wire.subscribe({ error: resolve, complete: () => resolve('completed') }));
}

describe('tcp heartbeat: options', () => {
  it('refuses bad heartbeat options at the door, naming the option', async () => {
    await expect(tcp.listen({ heartbeat: { interval: 0 } })).rejects.toThrow(/options.heartbeat.interval must be an integer/);
    await expect(tcp.listen({ heartbeat: { interval: 1.5 } })).rejects.toThrow(RangeError);
    await expect(tcp.listen({ heartbeat: { timeout: -1 } })).rejects.toThrow(/options.heartbeat.timeout must be/);
    await expect(tcp.listen({ heartbeat: { interval: 2 ** 31 } })).rejects.toThrow(RangeError);
    await expect(tcp.listen({ heartbeat: { interval: 100, timeout: 100 } })).rejects.toThrow(
      'options.heartbeat.timeout (100) must be more than options.heartbeat.interval (100)',
    );
    await expect(tcp.listen({ heartbeat: 'often' as never })).rejects.toThrow(TypeError);
    await expect(tcp.connect({ port: 1, heartbeat: { interval: NaN } })).rejects.toThrow(/options.heartbeat.interval/);
  });
});

describe("Heartbeat's ticks", () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('PINGs on each quiet tick, starts again when the peer is heard, and gives up once the silence reaches the timeout', () => {
    const events: string[] = [];
    const beat = new Heartbeat(
      { interval: 100, timeout: 300 },
      () => events.push('ping'),
      (ms) => events.push(`silent ${ms}`),
    );
    beat.start();
    jest.advanceTimersByTime(200); // two quiet ticks
    expect(events).toEqual(['ping', 'ping']);
    beat.alive();
    jest.advanceTimersByTime(100); // heard: the count starts again, no PING
    expect(events).toEqual(['ping', 'ping']);
    jest.advanceTimersByTime(300); // ping, ping, then 300 ms of silence
    expect(events).toEqual(['ping', 'ping', 'ping', 'ping', 'silent 300']);
    jest.advanceTimersByTime(1000); // stopped: nothing more
    expect(events).toHaveLength(5);
    expect(jest.getTimerCount()).toBe(0);
  });
});

describe('tcp heartbeat: PING and PONG', () => {
  it('answers a PING with a PONG (exact bytes), whatever its own heartbeat setting', async () => {
    const server = await listen({ heartbeat: false });
    const peer = await RawPeer.connect(server.port);
    peer.send(frame(TcpKind.PING, 0));
    const pong = await peer.next((f) => f.kind === TcpKind.PONG);
    expect(pong).toEqual({ kind: 0x28, channel: 0, body: Buffer.alloc(0) });
    expect(frame(TcpKind.PING, 0).toString('hex')).toBe('050000002700000000');
  });

  it('a quiet raw peer gets PINGs, and is dropped once silent past the timeout', async () => {
    const server = await listen({ heartbeat: FAST });
    const accepted = nextConnection(server);
    const peer = await RawPeer.connect(server.port);
    const conn = await accepted;
    const ended = new Promise<Error>((resolve) => conn.open('x', Long).subscribe({ error: resolve }));
    await peer.next((f) => f.kind === TcpKind.PING && f.channel === 0);
    // The raw peer never answers: the server gives up on it, and says why.
    const err = await ended;
    expect(err).toBeInstanceOf(TransportClosedError);
    expect(err.message).toMatch(/the peer was silent for \d+ ms \(heartbeat timeout 300 ms\)/);
    await conn.closed;
    await peer.closed;
  });

  it('an idle connection whose peer answers PINGs stays up, both ends with and without a heartbeat', async () => {
    for (const serverBeat of [false, FAST] as const) {
      const server = await listen({ heartbeat: serverBeat });
      server.connections$.subscribe((conn) => {
        const wire = conn.open('echo', Long);
        wire.subscribe({ next: (n) => wire.next(n), error: () => {} });
      });
      const conn = await connect({ port: server.port, heartbeat: FAST });
      const wire = conn.open('echo', Long);
      const echoed: number[] = [];
      let ending: unknown;
      wire.subscribe({ next: (n) => echoed.push(n), error: (err) => (ending = err) });
      wire.next(1);
      await until(() => echoed.length === 1);
      // Several timeouts' worth of idleness: only PINGs and PONGs cross.
      await new Promise((resolve) => setTimeout(resolve, 6 * FAST.timeout));
      expect(ending).toBeUndefined();
      expect(conn.stats().state).toBe('live');
      wire.next(2);
      await until(() => echoed.length === 2);
      expect(echoed).toEqual([1, 2]);
    }
  });
});

describe('tcp heartbeat: a peer process stopped by SIGSTOP', () => {
  const LIMIT = 120_000; // a child process starts ts-node on a shared machine

  it("the client's channels end with TransportClosedError naming the silence; the connection closes", async () => {
    const { child, match } = await echoPeer(['server'], /port (\d+)\n/);
    const conn = await connect({ port: Number(match[1]), heartbeat: FAST });
    const wire = conn.open('echo', Long);
    const ended = endingOf(wire); // a subscriber for the whole test: the wire reads on
    await roundTrip(wire, 7);
    child.kill('SIGSTOP');
    const err = (await ended) as Error;
    expect(err).toBeInstanceOf(TransportClosedError);
    expect(err.message).toMatch(/the peer was silent for \d+ ms/);
    await conn.closed;
    expect(conn.stats().state).toBe('gone');
    child.kill('SIGCONT');
  }, LIMIT);

  it("a stopped client: the server's connection ends with TransportClosedError", async () => {
    const server = await listen({ heartbeat: FAST });
    const accepted = nextConnection(server);
    const { child } = await echoPeer(['client', `${server.port}`], /connected\n/);
    const conn = await accepted;
    const wire = conn.open('echo', Long);
    const ended = endingOf(wire);
    await roundTrip(wire, 3);
    child.kill('SIGSTOP');
    const err = (await ended) as Error;
    expect(err).toBeInstanceOf(TransportClosedError);
    expect(err.message).toMatch(/the peer was silent/);
    await conn.closed;
  }, LIMIT);

  it('with reconnect, silence drops the socket and the session resumes once the peer runs again: nothing lost or twice', async () => {
    const { child, match } = await echoPeer(['server'], /port (\d+)\n/);
    const conn = await connect({ port: Number(match[1]), heartbeat: FAST, reconnect: { initialDelay: 20, maxDelay: 200, giveUpAfter: 60_000 } });
    const wire = conn.open('echo', Long);
    const echoes = lastValueFrom(wire.pipe(take(6), toArray()));
    wire.next(0);
    wire.next(1);
    await until(() => conn.stats().receivedBytes > 0, 30_000);
    child.kill('SIGSTOP');
    wire.next(2); // sent into the silence: kept for replay
    await until(() => conn.stats().state === 'dropped', 30_000);
    wire.next(3);
    child.kill('SIGCONT');
    await until(() => conn.stats().state === 'live', 60_000);
    wire.next(4);
    wire.next(5);
    expect(await echoes).toEqual([0, 1, 2, 3, 4, 5]);
  }, LIMIT);
});
