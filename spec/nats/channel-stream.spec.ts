import { Trade, tradeAt } from '../../bench/trade';
import { RxwireError, TransportClosedError } from '../../core/errors';
import type { WireSubject } from '../../core/wire-subject';
import type { NatsWire } from '../../transports/nats';
import { natsSuite } from './fixture';
import { until } from '../helpers';

/*
 * NATS channels under load, against a real nats-server: a million Trades in
 * order, a slow consumer, the server killed mid-stream.
 */

const nats = natsSuite();
const conn = () => nats.conn();

/** The first value out of order, or how many came in order until the end; resolves on complete or error. */
function verify(wire: WireSubject<Trade>): Promise<{ count: number; outOfOrder?: string; end: 'complete' | Error }> {
  let count = 0;
  let outOfOrder: string | undefined;
  return new Promise((resolve) =>
    wire.subscribe({
      next: (t) => {
        if (outOfOrder === undefined && (t.id !== count || t.sym !== tradeAt(count).sym || t.qty !== tradeAt(count).qty)) {
          outOfOrder = `value ${count} had id ${t.id}`;
        }
        count++;
      },
      complete: () => resolve({ count, outOfOrder, end: 'complete' }),
      error: (err: Error) => resolve({ count, outOfOrder, end: err }),
    }),
  );
}

/** Resolves at the connection's next status event of `type`. */
async function nextStatus(conn: NatsWire, type: string): Promise<void> {
  for await (const event of conn.nc.status()) if (event.type === type) return;
}

describe('NATS channels under load', () => {
  it('carries 1M sequence-numbered Trades over one channel, each once and in order', async () => {
    const N = 1_000_000;
    const [a, b] = [await conn(), await conn()];
    const writer = a.open('million', Trade);
    const reader = b.open('million', Trade);
    const got = verify(reader);
    for (let i = 0; i < N; i++) {
      if (!writer.trySend(tradeAt(i))) await writer.send(tradeAt(i));
    }
    writer.complete();
    const { count, outOfOrder, end } = await got;
    expect(outOfOrder).toBeUndefined();
    expect(end).toBe('complete');
    expect(count).toBe(N);
    expect(writer.stats()).toMatchObject({ sent: N, dropped: 0 });
  }, 120_000);

  it('a consumer 100x slower than its producer keeps the producer within one window: send waits, nothing piles up', async () => {
    const window = 16 * 1024; // about 360 Trades
    const [a, b] = [await conn(), await conn()];
    const writer = a.open('slow', Trade, { windowBytes: window });
    const reader = b.open('slow', Trade, { windowBytes: window });
    // The consumer takes 1 ms of CPU for every value: far slower than the producer (~10 µs a value).
    let received = 0;
    reader.subscribe(() => {
      received++;
      const until = performance.now() + 1;
      while (performance.now() < until);
    });
    let maxInFlight = 0;
    let maxQueued = 0;
    const N = 1500;
    for (let i = 0; i < N; i++) {
      await writer.send(tradeAt(i));
      const { inFlightBytes, queued } = writer.stats();
      maxInFlight = Math.max(maxInFlight, inFlightBytes);
      maxQueued = Math.max(maxQueued, queued);
    }
    writer.complete();
    await until(() => received === N, 60_000);
    // One window in flight at most (a NEXT frame is counted with its 5-byte header), nothing queued beyond it.
    expect(maxInFlight).toBeLessThanOrEqual(window + 64); // the last value taken may pass the window by its own frame
    expect(maxInFlight).toBeGreaterThan(window / 2);
    expect(maxQueued).toBeLessThanOrEqual(1);
  }, 120_000);

  it('two ends opened while the server is down pair once it is back: an unpaired end says its id again', async () => {
    // Their one announcement each went into the outage, and both waited for ever, with no error.
    const [a, b] = [await conn(), await conn()];
    const down = Promise.all([a, b].map((c) => nextStatus(c, 'disconnect')));
    await nats.server.kill();
    await down;
    const wa = a.open('opened-in-outage', Trade);
    const wb = b.open('opened-in-outage', Trade);
    const back = Promise.all([a, b].map((c) => nextStatus(c, 'reconnect')));
    await nats.server.restart();
    await back;
    const got = new Promise((resolve, reject) => wb.subscribe({ next: resolve, error: reject }));
    await wa.send(tradeAt(7));
    expect(await got).toEqual(tradeAt(7));
  }, 60_000);

  it('close() while the server is down resolves, and really closes: no rejection from the client, no reconnecting left behind', async () => {
    const a = await conn();
    const wire = a.open('while-down', Trade);
    const ended = new Promise<unknown>((resolve) => wire.subscribe({ error: resolve, complete: () => resolve('complete') }));
    const down = nextStatus(a, 'disconnect');
    await nats.server.kill();
    await down;
    // A failed flush used to skip the close: close() rejected with the client's RequestError and the client kept reconnecting.
    await expect(a.close()).resolves.toBeUndefined();
    expect(a.nc.isClosed()).toBe(true);
    expect(await ended).toBeInstanceOf(TransportClosedError);
    await nats.server.restart();
  }, 60_000);

  it('the server killed and restarted mid-stream: both ends fail with TransportClosedError, never a hang, and the connection serves new channels after', async () => {
    const [a, b] = [await conn(), await conn()];
    const writer = a.open('restart', Trade);
    const reader = b.open('restart', Trade);
    let received = 0;
    const readerEnd = new Promise<Error | 'complete'>((resolve) =>
      reader.subscribe({ next: () => received++, error: resolve, complete: () => resolve('complete') }),
    );
    const writerEnd = new Promise<Error>((resolve) => writer.subscribe({ error: resolve }));
    let i = 0;
    let sendFailure: unknown;
    const producing = (async () => {
      try {
        for (;; i++) await writer.send(tradeAt(i));
      } catch (err) {
        sendFailure = err;
      }
    })();
    await until(() => received > 10_000);
    const reconnected = Promise.all([a, b].map((c) => nextStatus(c, 'reconnect')));
    await nats.server.restart();
    const [atReader, atWriter] = await Promise.all([readerEnd, writerEnd]);
    await producing;
    expect(atReader).toBeInstanceOf(TransportClosedError);
    expect(atWriter).toBeInstanceOf(TransportClosedError);
    expect(sendFailure).toBeInstanceOf(RxwireError);
    expect(received).toBeLessThanOrEqual(i);
    // The clients reconnect: the same connections pair a new channel.
    await reconnected;
    const again = a.open('after-restart', Trade);
    const other = b.open('after-restart', Trade);
    const one = new Promise((resolve, reject) => other.subscribe({ next: resolve, error: reject }));
    await again.send(tradeAt(1));
    expect(await one).toEqual(tradeAt(1));
  }, 120_000);
});
