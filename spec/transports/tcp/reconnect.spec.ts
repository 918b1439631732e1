import { lastValueFrom, toArray } from 'rxjs';
import { codec, raw } from '../../../core/codec';
import { TransportClosedError } from '../../../core/errors';
import type { WireSubject } from '../../../core/wire-subject';
import { Trade, tradeAt } from '../../fixtures/trade';
import { BULK_BYTES, bulkPayload, closeAll, connect, listen, nextConnection, proxy, receiveBulk, sendBulk, untilStalled } from '../../fixtures/tcp';
import { until } from '../../helpers';

/* Resumable sessions: a client with `reconnect` survives dropped sockets. */

afterEach(closeAll);

/** Sends ids 0..n-1 with `send` (waiting for room), then completes. */
async function sendAll(wire: WireSubject<Trade>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t = tradeAt(i);
    if (!wire.trySend(t)) await wire.send(t);
  }
  wire.complete();
}

/** Checks that `wire` delivers exactly ids 0..n-1, in order, then completes; counts as it goes. */
function receiveAll(wire: WireSubject<Trade>, n: number, progress: { count: number }): Promise<void> {
  return new Promise((resolve, reject) =>
    wire.subscribe({
      next: (t) => {
        if (t.id !== progress.count) reject(new Error(`expected id ${progress.count}, got ${t.id}`));
        progress.count++;
      },
      complete: () => (progress.count === n ? resolve() : reject(new Error(`completed after ${progress.count} of ${n}`))),
      error: reject,
    }),
  );
}

describe('tcp reconnect', () => {
  it('sockets destroyed mid-stream: every value arrives exactly once, in order, both ways', async () => {
    const N = 200_000;
    const server = await listen();
    const p = await proxy(server.port);
    const accepted = nextConnection(server);
    const client = await connect({ port: p.port, reconnect: { initialDelay: 5, maxDelay: 20 } });
    const peer = await accepted;
    const up = { count: 0 };
    const down = { count: 0 };
    const hereOut = client.open('up', Trade);
    const thereIn = peer.open('up', Trade);
    const thereOut = peer.open('down', Trade);
    const hereIn = client.open('down', Trade);
    const received = [receiveAll(thereIn, N, up), receiveAll(hereIn, N, down)];
    const sent = [sendAll(hereOut, N), sendAll(thereOut, N)];
    let cuts = 0;
    for (const fraction of [0.1, 0.3, 0.5, 0.7, 0.9]) {
      await until(() => up.count + down.count >= 2 * N * fraction, 30_000);
      await until(() => p.carrying > 0, 10_000); // the client is back through the proxy
      p.cut();
      cuts++;
    }
    await Promise.all([...sent, ...received]);
    // The stream may end before the client is back from the last cut.
    await until(() => p.carrying > 0);
    expect(cuts).toBe(5);
    expect(up.count).toBe(N);
    expect(down.count).toBe(N);
    expect(p.accepted).toBe(6); // the first connection and one resume per cut
  });

  it('a drop while the channel is idle, then more values', async () => {
    const server = await listen();
    const p = await proxy(server.port);
    const accepted = nextConnection(server);
    const client = await connect({ port: p.port, reconnect: { initialDelay: 5 } });
    const peer = await accepted;
    const there = peer.open('idle', codec('int'));
    const got = lastValueFrom(there.pipe(toArray()));
    const here = client.open('idle', codec('int'));
    await here.send(1);
    await until(() => there.stats().received === 1);
    p.cut();
    await here.send(2);
    await here.send(3);
    here.complete();
    expect(await got).toEqual([1, 2, 3]);
  });

  it("a resume's `received` acknowledges what the peer had; CACK counts go on across the resume (PROTOCOL.md)", async () => {
    const server = await listen();
    const p = await proxy(server.port);
    const accepted = nextConnection(server);
    const client = await connect({ port: p.port, reconnect: { initialDelay: 5 } });
    const peer = await accepted;
    const there = peer.open('bulk', raw);
    const received = receiveBulk(there, 40);
    const here = client.open('bulk', raw);
    // 10 × 16 KiB: less than a CACK's worth, so the server has acknowledged none of it.
    for (let seq = 0; seq < 10; seq++) await here.send(bulkPayload(seq));
    await until(() => there.stats().received === 10);
    expect(client.stats().unackedBytes).toBe(client.stats().sentBytes);
    expect(client.stats().unackedBytes).toBeGreaterThan(10 * BULK_BYTES);
    p.cut();
    await until(() => p.accepted === 2); // the client came back: it had seen the drop
    await until(() => client.stats().state === 'live'); // and resumed
    // WELCOME said the server had it all: nothing is kept, nothing was sent again.
    expect(client.stats().unackedBytes).toBe(0);
    // 30 × 16 KiB more: past a CACK's worth (256 KiB), acknowledged by a count
    // that goes on from before the cut (a count started again at 0 would be
    // refused as going back, and fail the connection with FrameError).
    for (let seq = 10; seq < 40; seq++) await here.send(bulkPayload(seq));
    here.complete();
    expect(await received).toBe(40);
    await until(() => client.stats().unackedBytes < client.stats().sentBytes - 256 * 1024);
    expect(peer.stats().receivedBytes).toBe(client.stats().sentBytes);
    expect(client.stats().state).toBe('live');
  });

  it('the replay buffer is bounded: a peer that stops acknowledging stops the writer at the bound; after a cut, all arrives once', async () => {
    const highWaterMark = 64 * 1024;
    const replayLimit = 1 << 20; // max(4 × highWaterMark, 1 MiB)
    const N = 2048;
    const server = await listen();
    const p = await proxy(server.port);
    const accepted = nextConnection(server);
    const client = await connect({ port: p.port, highWaterMark, reconnect: { initialDelay: 5 } });
    const peer = await accepted;
    const reader = peer.open('bulk', raw, { window: 2 ** 30 });
    const writer = client.open('bulk', raw);
    const received = receiveBulk(reader, N);
    await writer.send(bulkPayload(0));
    await until(() => reader.stats().received === 1);
    p.pause(); // the server receives nothing more, so it acknowledges nothing more
    const progress = { sent: 1 };
    const sending = sendBulk(writer, N, progress);
    const most = await untilStalled(() => progress.sent, () => client.stats().unackedBytes);
    // The kernel's buffers could have taken more: it is the replay bound that stopped the writer.
    expect(client.stats().bufferedBytes).toBeLessThan(highWaterMark);
    expect(most).toBeGreaterThan(replayLimit - 2 * BULK_BYTES);
    expect(most).toBeLessThanOrEqual(replayLimit + 64 * 1024 + BULK_BYTES + 64);
    expect(progress.sent).toBeLessThan(N);
    p.cut(); // what the kernel held is lost; the replay buffer has it
    await sending;
    expect(await received).toBe(N);
    expect(p.accepted).toBe(2);
  });

  it('backs off: each wait between attempts is factor times the last, up to maxDelay, until giveUpAfter', async () => {
    const backoff = { initialDelay: 20, factor: 2, maxDelay: 320, giveUpAfter: 2000 };
    const server = await listen();
    const p = await proxy(server.port);
    const accepted = nextConnection(server);
    const client = await connect({ port: p.port, reconnect: backoff });
    await accepted;
    const here = client.open('s', codec('int'));
    const ended = lastValueFrom(here).catch((e) => e);
    p.refusing = true; // every attempt connects, then is closed before its handshake
    p.cut();
    expect(await ended).toBeInstanceOf(TransportClosedError);
    const at = p.refusedAt;
    expect(at.length).toBeGreaterThanOrEqual(3);
    // Timers never fire early, so each gap is at least its wait (less a little for connect times that differ).
    for (let k = 1; k < at.length; k++) {
      const wait = Math.min(backoff.initialDelay * backoff.factor ** k, backoff.maxDelay);
      expect(at[k] - at[k - 1]).toBeGreaterThanOrEqual(wait * 0.8);
    }
    // And it stopped: no attempt later than giveUpAfter after the drop, so at most these many.
    expect(at.length).toBeLessThanOrEqual(9);
  });

  it('gives up after giveUpAfter: the channels end with TransportClosedError', async () => {
    const server = await listen();
    const p = await proxy(server.port);
    const accepted = nextConnection(server);
    const client = await connect({ port: p.port, reconnect: { initialDelay: 5, maxDelay: 10, giveUpAfter: 100 } });
    await accepted;
    const here = client.open('gone', codec('int'));
    const ended = lastValueFrom(here).catch((e) => e);
    await p.close(); // nothing listens there any more
    expect(await ended).toBeInstanceOf(TransportClosedError);
    await client.closed;
  });

  it('gives up after giveUpAfter even while an attempt is stuck in its handshake (a peer that accepts and says nothing)', async () => {
    // The attempt's 10 s handshake limit ended it: the channels ended ~10 s after the drop, not giveUpAfter.
    const server = await listen();
    const p = await proxy(server.port);
    const accepted = nextConnection(server);
    const client = await connect({ port: p.port, reconnect: { initialDelay: 5, maxDelay: 10, giveUpAfter: 300 } });
    await accepted;
    const here = client.open('stuck', codec('int'));
    const ended = lastValueFrom(here).catch((e) => e);
    p.silent = true; // the reconnect attempt connects, and its handshake never hears back
    const droppedAt = performance.now();
    p.cut();
    expect(await ended).toBeInstanceOf(TransportClosedError);
    expect(performance.now() - droppedAt).toBeLessThan(5000); // giveUpAfter (300 ms), not the handshake's 10 s limit
    await client.closed;
  });

  it('the server forgets a session after resumeTimeout: the client cannot resume', async () => {
    const server = await listen({ resumeTimeout: 0 });
    const p = await proxy(server.port);
    const accepted = nextConnection(server);
    const client = await connect({ port: p.port, reconnect: { initialDelay: 30 } });
    const peer = await accepted;
    const here = client.open('s', codec('int'));
    const ended = lastValueFrom(here).catch((e) => e);
    p.cut();
    await peer.closed;
    expect(await ended).toBeInstanceOf(TransportClosedError);
  });
});
