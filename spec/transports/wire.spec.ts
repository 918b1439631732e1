import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { codec } from '../../core/codec';
import {
  ErrorCode,
  QueueFullError,
  RemoteError,
  SchemaMismatchError,
  TransportClosedError,
  WorkerError,
} from '../../core/errors';
import { open } from '../../transports/open';
import { Trade, tradeAt } from '../fixtures/trade';
import { TRANSPORTS, exited, pairOf, reapWorkers, report, spawnWith, tick, trySendThrows, until } from '../helpers';

/*
 * The WireSubject contract, the same on every transport: each test runs once
 * over a MessagePort pair and once over shared rings.
 */

afterEach(async () => {
  expect(await reapWorkers()).toBe(0);
});

describe.each(TRANSPORTS)('WireSubject over %s', (transport) => {
  const N = 1_000_000;

  it('carries 1M trades main → worker complete and in order', async () => {
    const { here, worker } = spawnWith(transport, 'trade', { mode: 'verify' });
    const wire = open(here, Trade, { worker });
    const summary = report(worker);
    let qty = 0;
    for (let i = 0; i < N; i++) {
      const t = tradeAt(i);
      qty += t.qty;
      await wire.send(t);
    }
    wire.complete();
    expect(await summary).toEqual({ received: N, wrong: 0, qty });
    expect(wire.stats().sent).toBe(N);
    expect(await exited(worker)).toBe(0);
  });

  it('carries 1M trades worker → main complete and in order', async () => {
    const { here, worker } = spawnWith(transport, 'trade', { mode: 'produce', count: N });
    const wire = open(here, Trade, { worker });
    let expected = 0;
    let wrong = 0;
    await new Promise<void>((resolve, reject) =>
      wire.subscribe({
        next: (t) => {
          if (t.id !== expected++ || t.sym !== tradeAt(t.id).sym) wrong++;
        },
        error: reject,
        complete: resolve,
      }),
    );
    expect(expected).toBe(N);
    expect(wrong).toBe(0);
    wire.complete();
    expect(await exited(worker)).toBe(0);
  });

  it('echoes values and completes both ways', async () => {
    const { here, worker } = spawnWith(transport, 'trade', { mode: 'echo' });
    const wire = open(here, Trade, { worker });
    const all = lastValueFrom(wire.pipe(toArray()));
    for (let i = 0; i < 100; i++) wire.next(tradeAt(i));
    wire.complete();
    expect((await all).map((t) => t.id)).toEqual([...Array(100).keys()]);
    expect(await exited(worker)).toBe(0);
  });

  it('carries an error from the worker as RemoteError with its name, message, code and stack', async () => {
    const { here, worker } = spawnWith(transport, 'trade', { mode: 'fail' });
    const wire = open(here, Trade, { worker });
    const seen: number[] = [];
    const err = await new Promise<RemoteError>((resolve) =>
      wire.subscribe({ next: (t) => seen.push(t.id), error: resolve }),
    );
    expect(seen).toEqual([0, 1]);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.code).toBe(ErrorCode.REMOTE);
    expect(err.message).toBe('price feed went away');
    expect(err.remoteName).toBe('TypeError');
    expect(err.remoteCode).toBe('E_FEED');
    expect(err.remoteStack).toContain('trade.worker');
    wire.complete();
    expect(await exited(worker)).toBe(0);
  });

  it('carries an error from main to the worker', async () => {
    const { here, worker } = spawnWith(transport, 'trade', { mode: 'verify' });
    const wire = open(here, Trade, { worker });
    wire.next(tradeAt(0));
    wire.error(Object.assign(new Error('upstream broke'), { code: 'E_UP' }));
    expect(await report(worker)).toEqual({
      error: { name: 'RemoteError', message: 'upstream broke', code: ErrorCode.REMOTE },
    });
    expect(await exited(worker)).toBe(0);
  });

  it('a worker that throws ends the stream with WorkerError carrying its message and stack', async () => {
    const { here, worker } = spawnWith(transport, 'trade', { mode: 'throw' });
    const wire = open(here, Trade, { worker });
    const failed = new Promise<Error>((resolve) => wire.subscribe({ error: resolve }));
    wire.next(tradeAt(0));
    const err = await failed;
    expect(err).toBeInstanceOf(WorkerError);
    expect(err.message).toContain('enrichment blew up');
    expect((err as WorkerError).workerStack).toContain('RangeError');
    await expect(wire.send(tradeAt(1))).rejects.toBeInstanceOf(WorkerError);
    expect(await exited(worker)).toBe(1);
  });

  it.each(['exit', 'throw'])('a thread started with startWorker that ends in the turn it wrote (%s): what it wrote, then WorkerError', async (how) => {
    // Only threads started through the runtime's bootstrap published their last turn; this one lost all 50.
    const { here, worker } = spawnWith(transport, 'trade', { mode: 'lastTurn', how });
    const wire = open(here, Trade, { worker });
    const got: number[] = [];
    const failed = new Promise<Error>((resolve) => wire.subscribe({ next: (t) => got.push(t.id), error: resolve }));
    expect(await failed).toBeInstanceOf(WorkerError);
    expect(got).toEqual([...Array(51).keys()]);
  });

  it('a worker terminated mid-stream ends a pending send and the subscribers', async () => {
    const { here, worker } = spawnWith(transport, 'trade', { mode: 'forever' }, 4096);
    const wire = open(here, Trade, { worker, ...(transport === 'port' && { windowBytes: 4096 }) });
    const failed = new Promise<Error>((resolve) => wire.subscribe({ error: resolve }));
    // The worker never reads, so a window (or ring) of 4 KiB fills and the
    // last sends wait until the worker is gone.
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 1000; i++) sends.push(wire.send(tradeAt(i)));
    const settled = Promise.allSettled(sends);
    await firstValueFrom(wire.stats$.pipe(take(3)));
    await worker.terminate();
    const err = await failed;
    expect(err).toBeInstanceOf(WorkerError);
    const outcomes = await settled;
    const rejected = outcomes.filter((o) => o.status === 'rejected') as PromiseRejectedResult[];
    expect(rejected.length).toBeGreaterThan(0);
    expect(outcomes.at(-1)!.status).toBe('rejected');
    for (const r of rejected) expect(r.reason).toBeInstanceOf(WorkerError);
  });

  it('unsubscribing halfway stops the producer in the worker (send rejects) and lets it exit', async () => {
    const { here, worker } = spawnWith(transport, 'trade', { mode: 'forever' });
    const wire = open(here, Trade, { worker });
    const first = await lastValueFrom(wire.pipe(take(1000), toArray()));
    expect(first.map((t) => t.id)).toEqual([...Array(1000).keys()]);
    expect(await report(worker)).toEqual({ stoppedWith: 'TransportClosedError', code: ErrorCode.TRANSPORT_CLOSED });
    wire.complete();
    expect(await exited(worker)).toBe(0);
  });

  it('a source piped into the wire with next is dropped, not failed, once the reader leaves', async () => {
    const { here, worker } = spawnWith(transport, 'trade', { mode: 'ticker' });
    const wire = open(here, Trade, { worker });
    const got = await lastValueFrom(wire.pipe(take(5), toArray()));
    expect(got.map((t) => t.id)).toEqual([0, 1, 2, 3, 4]);
    expect(await report(worker)).toEqual({ dropped: true });
    wire.complete();
    expect(await exited(worker)).toBe(0);
  });

  it('behaves like a Subject for late subscribers and unsubscribe', async () => {
    const [a, b] = pairOf(transport);
    const tx = open(a, codec('int'));
    const rx = open(b, codec('int'));
    const early: number[] = [];
    const late: number[] = [];
    const earlySub = rx.subscribe((v) => early.push(v));
    tx.next(1);
    tx.next(2);
    await until(() => early.length === 2);
    const lateSub = rx.subscribe((v) => late.push(v));
    tx.next(3);
    await until(() => late.length === 1);
    earlySub.unsubscribe();
    tx.next(4);
    await until(() => late.length === 2);
    expect(early).toEqual([1, 2, 3]);
    expect(late).toEqual([3, 4]);
    tx.complete();
    await until(() => lateSub.closed);
    // A subscriber after the end gets the ending at once.
    let completed = false;
    rx.subscribe({ complete: () => (completed = true) });
    expect(completed).toBe(true);
    rx.complete();
  });

  it('holds what arrives before the first subscriber, and loses nothing', async () => {
    const [a, b] = pairOf(transport);
    const tx = open(a, codec('string'));
    const rx = open(b, codec('string'));
    tx.next('x');
    tx.next('y');
    tx.complete();
    await tick(20);
    expect(await lastValueFrom(rx.pipe(toArray()))).toEqual(['x', 'y']);
    rx.complete();
  });

  it('a subscriber after the last one left gets TransportClosedError, and the writer is told', async () => {
    const [a, b] = pairOf(transport);
    const tx = open(a, codec('int'));
    const rx = open(b, codec('int'));
    tx.next(1);
    expect(await firstValueFrom(rx)).toBe(1);
    const err = await new Promise((resolve) => rx.subscribe({ error: resolve }));
    expect(err).toBeInstanceOf(TransportClosedError);
    await until(() => tx.stats().dropped > 0 || trySendThrows(tx));
    await expect(tx.send(2)).rejects.toBeInstanceOf(TransportClosedError);
    tx.next(3); // dropped, not thrown
    expect(tx.stats().dropped).toBeGreaterThan(0);
    tx.complete();
    rx.complete();
  });

  it('delivers bursts: one array per drain, every value once and in order', async () => {
    const [a, b] = pairOf(transport);
    const tx = open(a, codec('int'));
    const rx = open(b, codec('int'));
    const bursts: number[][] = [];
    const done = new Promise<void>((resolve) => rx.bursts$.subscribe({ next: (x) => bursts.push(x), complete: resolve }));
    for (let i = 0; i < 10; i++) tx.next(i);
    // The first ten, sent in one turn, arrive as one drain (once the reader has accepted the schema).
    await until(() => bursts.length > 0);
    for (let i = 10; i < 20; i++) tx.next(i);
    tx.complete();
    await done;
    expect(bursts.length).toBeGreaterThanOrEqual(2);
    expect(bursts[0]).toEqual([...Array(10).keys()]);
    expect(bursts.flat()).toEqual([...Array(20).keys()]);
    rx.complete();
  });

  it('reports stats$ on subscribe and after traffic', async () => {
    const [a, b] = pairOf(transport);
    const tx = open(a, codec('string'));
    const rx = open(b, codec('string'));
    const stats: number[] = [];
    tx.stats$.subscribe((s) => stats.push(s.sent));
    rx.subscribe();
    tx.next('hello');
    await until(() => rx.stats().received === 1);
    expect(stats[0]).toBe(0);
    expect(stats.at(-1)).toBe(1);
    expect(tx.stats().sentBytes).toBe(rx.stats().receivedBytes);
    tx.complete();
    rx.complete();
  });

  it('backpressure: trySend reports a full window, send waits, next queues then fails with QueueFullError', async () => {
    // A tiny window: 64 bytes over a port, a 256-byte ring (HELLO takes some) over shm.
    const [a, b] = pairOf(transport, 256);
    const tx = open(a, codec('string'), { ...(transport === 'port' && { windowBytes: 64 }), maxQueue: 3 });
    const rx = open(b, codec('string'));
    let accepted = 0;
    while (tx.trySend('0123456789')) accepted++;
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(16);
    const waiting = tx.send('afterwards'); // as long as the others: it must not fit a gap they left
    let sent = false;
    waiting.then(() => (sent = true));
    await tick(10);
    expect(sent).toBe(false);
    tx.next('q1');
    tx.next('q2');
    const failure = new Promise((resolve) => tx.subscribe({ error: resolve }));
    tx.next('q3');
    expect(await failure).toBeInstanceOf(QueueFullError);
    // Everything taken before the failure still arrives, then the error.
    const received: string[] = [];
    const end = await new Promise((resolve) => rx.subscribe({ next: (s) => received.push(s), error: resolve }));
    expect(end).toBeInstanceOf(RemoteError);
    expect((end as RemoteError).remoteCode).toBe(ErrorCode.QUEUE_FULL);
    expect(received).toEqual([...Array(accepted).fill('0123456789'), 'afterwards', 'q1', 'q2']);
    expect(sent).toBe(true);
  });

  it('a slow reader keeps the writer at one window', async () => {
    const [a, b] = pairOf(transport, 1024);
    const tx = open(a, codec('string'), transport === 'port' ? { windowBytes: 1024 } : {});
    const rx = open(b, codec('string'));
    let peak = 0;
    const producing = (async () => {
      for (let i = 0; i < 2000; i++) {
        await tx.send('x'.repeat(20));
        peak = Math.max(peak, tx.stats().inFlightBytes);
      }
      tx.complete();
    })();
    let n = 0;
    await new Promise<void>((resolve) => rx.subscribe({ next: () => n++, complete: resolve }));
    await producing;
    expect(n).toBe(2000);
    expect(peak).toBeLessThanOrEqual(1024 + 26);
    rx.complete();
  });

  it('sending after complete: send rejects and trySend throws TransportClosedError; next is ignored', async () => {
    const [a, b] = pairOf(transport);
    const tx = open(a, codec('int'));
    const rx = open(b, codec('int'));
    rx.subscribe();
    tx.complete();
    await expect(tx.send(1)).rejects.toBeInstanceOf(TransportClosedError);
    expect(() => tx.trySend(1)).toThrow(TransportClosedError);
    tx.next(1);
    expect(tx.stats().dropped).toBe(1);
    rx.complete();
  });

  it('a value that does not fit: send rejects with EncodeError naming the field, the wire stays usable', async () => {
    const [a, b] = pairOf(transport);
    const tx = open(a, Trade);
    const rx = open(b, Trade);
    const got = lastValueFrom(rx.pipe(toArray()));
    const bad = { ...tradeAt(0), price: 'cheap' } as unknown as typeof Trade extends never ? never : ReturnType<typeof tradeAt>;
    await expect(tx.send(bad)).rejects.toMatchObject({ code: ErrorCode.ENCODE, path: 'Trade.price', expected: 'double' });
    expect(() => tx.trySend(bad)).toThrow(/Trade\.price/);
    await tx.send(tradeAt(1));
    tx.complete();
    expect((await got).map((t) => t.id)).toEqual([1]);
    rx.complete();
  });

  it('a value that does not fit, through next, errors the wire with EncodeError', async () => {
    const [a, b] = pairOf(transport);
    const tx = open(a, Trade);
    const rx = open(b, Trade);
    const local = new Promise((resolve) => tx.subscribe({ error: resolve }));
    const remote = new Promise<RemoteError>((resolve) => rx.subscribe({ error: resolve }));
    tx.next({ ...tradeAt(0), qty: 1.5 });
    expect(await local).toMatchObject({ code: ErrorCode.ENCODE, path: 'Trade.qty' });
    expect((await remote).remoteCode).toBe(ErrorCode.ENCODE);
    rx.complete();
  });

  it('schema evolution: a newer reader reads an older writer (defaulted field)', async () => {
    const V1 = codec({ type: 'record', name: 'Quote', fields: [{ name: 'sym', type: 'string' }] } as const);
    const V2 = codec({
      type: 'record',
      name: 'Quote',
      fields: [
        { name: 'sym', type: 'string' },
        { name: 'venue', type: 'string', default: 'XNYS' },
      ],
    } as const);
    const [a, b] = pairOf(transport);
    const tx = open(a, V1);
    const rx = open(b, V2);
    const got = lastValueFrom(rx.pipe(toArray()));
    tx.next({ sym: 'ACME' });
    tx.complete();
    expect(await got).toEqual([{ sym: 'ACME', venue: 'XNYS' }]);
    rx.complete();
  });

  it('a schema mismatch fails both ends with SchemaMismatchError naming the field', async () => {
    const Writer = codec({ type: 'record', name: 'Quote', fields: [{ name: 'sym', type: 'string' }] } as const);
    const Reader = codec({ type: 'record', name: 'Quote', fields: [{ name: 'sym', type: 'int' }] } as const);
    const [a, b] = pairOf(transport);
    const tx = open(a, Writer);
    const rx = open(b, Reader);
    const err = await new Promise<SchemaMismatchError>((resolve) => rx.subscribe({ error: resolve }));
    expect(err).toBeInstanceOf(SchemaMismatchError);
    expect(err.path).toBe('Quote.sym');
    await until(() => trySendThrows(tx));
    await expect(tx.send({ sym: 'ACME' })).rejects.toBeInstanceOf(SchemaMismatchError);
    rx.complete();
  });

});
