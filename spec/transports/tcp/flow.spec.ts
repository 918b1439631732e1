import { NEVER, lastValueFrom, range, toArray } from 'rxjs';
import { codec, raw } from '../../../core/codec';
import { QueueFullError, RemoteError, TimeoutError } from '../../../core/errors';
import { client as rpcClient } from '../../../operators/client';
import { request } from '../../../operators/request';
import { rpcCodec } from '../../../operators/request-internals';
import { serve, type Reply } from '../../../operators/serve';
import type { WireSubject } from '../../../core/wire-subject';
import { Trade, tradeAt } from '../../fixtures/trade';
import { BULK_BYTES, bulkPayload, closeAll, connect, listen, nextConnection, proxy, receiveBulk, sendBulk, untilStalled } from '../../fixtures/tcp';
import { tick, until } from '../../helpers';

/* Volume, backpressure, and request/reply over a TCP channel. */

afterEach(closeAll);

async function linked(options: { window?: number; highWaterMark?: number } = {}) {
  const server = await listen(options);
  const accepted = nextConnection(server);
  const client = await connect({ port: server.port, ...options });
  return { client, peer: await accepted };
}

async function sendAll(wire: WireSubject<Trade>, from: number, count: number, step = 1): Promise<void> {
  for (let i = from; i < count; i += step) {
    const t = tradeAt(i);
    if (!wire.trySend(t)) await wire.send(t);
  }
  wire.complete();
}

function receiveInOrder(wire: WireSubject<Trade>, from: number, count: number, step = 1): Promise<number> {
  let expected = from;
  return new Promise((resolve, reject) =>
    wire.subscribe({
      next: (t) => {
        if (t.id !== expected) reject(new Error(`expected ${expected}, got ${t.id}`));
        expected += step;
      },
      complete: () => resolve((expected - from) / step),
      error: reject,
    }),
  );
}

describe('tcp flow', () => {
  it('1M sequence-numbered Trades each way on one connection, over 4 channels, all in order', async () => {
    const N = 1_000_000;
    const CHANNELS = 4;
    const { client, peer } = await linked();
    const work: Promise<unknown>[] = [];
    const counts: Promise<number>[] = [];
    for (let c = 0; c < CHANNELS; c++) {
      // Channel c carries ids c, c+4, c+8, ... each way.
      const up = [client.open(`up${c}`, Trade), peer.open(`up${c}`, Trade)];
      const down = [peer.open(`down${c}`, Trade), client.open(`down${c}`, Trade)];
      counts.push(receiveInOrder(up[1], c, N, CHANNELS), receiveInOrder(down[1], c, N, CHANNELS));
      work.push(sendAll(up[0], c, N, CHANNELS), sendAll(down[0], c, N, CHANNELS));
    }
    await Promise.all(work);
    const received = await Promise.all(counts);
    expect(received.reduce((a, b) => a + b, 0)).toBe(2 * N);
  }, 240_000); // 2M Trades: about 10 s on a quiet 2-core machine, over 60 s on a loaded one

  it("a slow reader keeps the writer's queued and in-flight bytes bounded", async () => {
    const window = 64 * 1024;
    const N = 50_000;
    const { client, peer } = await linked({ window, highWaterMark: 64 * 1024 });
    const writer = client.open('slow', Trade);
    const reader = peer.open('slow', Trade); // no subscriber yet: it reads nothing
    let sent = 0;
    const writing = (async () => {
      for (; sent < N; sent++) await writer.send(tradeAt(sent));
      writer.complete();
    })();
    // First the window fills (on a loaded machine that can take a while):
    // wait until its bytes in flight come within one Trade of the window.
    await until(() => writer.stats().inFlightBytes > window - 64, 30_000);
    const samples: { sent: number; inFlight: number; queued: number }[] = [];
    for (let i = 0; i < 10; i++) {
      await tick(20);
      const s = writer.stats();
      samples.push({ sent, inFlight: s.inFlightBytes, queued: s.queued });
    }
    // The writer is held at one window: it stopped, its bytes in flight did not grow.
    for (const s of samples) {
      expect(s.inFlight).toBeLessThanOrEqual(window + 64);
      expect(s.queued).toBeLessThanOrEqual(1); // the one send waiting for room
    }
    expect(samples[9].sent).toBe(samples[0].sent);
    expect(samples[9].sent).toBeLessThan(N);
    // Then the reader reads, and everything arrives in order.
    expect(await receiveInOrder(reader, 0, N)).toBe(N);
    await writing;
  });

  it("a peer that stops reading its socket: the writer's buffered bytes stay within highWaterMark, its sends wait, then all arrives", async () => {
    const highWaterMark = 256 * 1024;
    const N = 8192; // 128 MiB: more than the kernel's socket buffers on the way can hold
    const server = await listen();
    const p = await proxy(server.port);
    const accepted = nextConnection(server);
    const client = await connect({ port: p.port, highWaterMark });
    const peer = await accepted;
    const reader = peer.open('bulk', raw, { window: 2 ** 30 }); // credit is never what stops the writer
    const writer = client.open('bulk', raw);
    const received = receiveBulk(reader, N);
    await writer.send(bulkPayload(0)); // the channel is accepted both ways
    await until(() => reader.stats().received === 1);
    p.pause();
    const progress = { sent: 1 };
    const sending = sendBulk(writer, N, progress);
    const most = await untilStalled(() => progress.sent, () => client.stats().bufferedBytes);
    expect(progress.sent).toBeLessThan(N);
    // One batch and one frame may go past the bound before channels are told there is no room.
    expect(most).toBeLessThanOrEqual(highWaterMark + 64 * 1024 + BULK_BYTES + 64);
    expect(client.stats().bufferedBytes).toBeGreaterThan(highWaterMark / 2); // it is the socket that stopped it
    p.resume();
    await sending;
    expect(await received).toBe(N);
  });

  it('trySend is false when the window is full; next queues to maxQueue, then QueueFullError', async () => {
    const { client, peer } = await linked({ window: 4096 });
    const writer = client.open('full', codec('string'), { maxQueue: 10 });
    peer.open('full', codec('string')); // opened, never read
    await writer.send('x'); // resolves once the reader has accepted the schema
    while (writer.trySend('y'.repeat(100)));
    expect(writer.stats().inFlightBytes).toBeGreaterThanOrEqual(4096);
    const failed = lastValueFrom(writer).catch((e) => e);
    for (let i = 0; i < 11; i++) writer.next('z');
    expect(await failed).toBeInstanceOf(QueueFullError);
  });

  it('request/reply (serve, request, rpcCodec) over a tcp channel, unchanged: replies, streams, RemoteError, cancel', async () => {
    const { client, peer } = await linked();
    const Ask = codec({ type: 'record', name: 'Ask', fields: [{ name: 'n', type: 'int' }] } as const);
    let aborted = 0;
    const handler = (q: { n: number }, signal: AbortSignal): Reply<number> => {
      if (q.n < 0) throw new RangeError(`no negatives: ${q.n}`);
      if (q.n === 0) {
        signal.addEventListener('abort', () => aborted++);
        return NEVER;
      }
      if (q.n >= 100) return range(q.n, 3);
      return Promise.resolve(q.n * 2);
    };
    const serverWire = peer.open('rpc', rpcCodec());
    serverWire.pipe(serve(handler, { request: Ask, reply: codec('int') })).subscribe(serverWire);
    const rpc = rpcClient(client.open('rpc', rpcCodec()), { request: Ask, reply: codec('int') });
    const all = (n: number) => lastValueFrom(request(rpc, { n }).pipe(toArray()));
    expect(await Promise.all([1, 2, 3, 4, 5].map(all))).toEqual([[2], [4], [6], [8], [10]]);
    expect(await all(100)).toEqual([100, 101, 102]);
    const failed = await all(-1).catch((e) => e);
    expect(failed).toBeInstanceOf(RemoteError);
    expect(failed).toMatchObject({ remoteName: 'RangeError', message: expect.stringMatching(/no negatives: -1/) });
    const pending = request(rpc, { n: 0 }).subscribe();
    await tick(20);
    pending.unsubscribe();
    await until(() => aborted === 1);
    await expect(lastValueFrom(request(rpc, { n: 0 }, { timeout: 30 }))).rejects.toBeInstanceOf(TimeoutError);
    await until(() => aborted === 2);
    expect(await all(7)).toEqual([14]); // the server goes on
  });
});
