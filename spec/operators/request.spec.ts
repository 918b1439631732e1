import type { Worker } from 'node:worker_threads';
import { EmptyError, Observable, Subject, finalize, firstValueFrom, interval, lastValueFrom, of, range, take, tap, toArray } from 'rxjs';
import { type EncodeError, ErrorCode, RemoteError, TimeoutError, TransportClosedError, WorkerError } from '../../core/errors';
import { open } from '../../transports/open';
import { shm } from '../../transports';
import { ValueEnvelope } from '../../operators/rpc-envelope-codec';
import { client, type ClientOptions, type RequestClient } from '../../operators/client';
import { request } from '../../operators/request';
import { CREDIT_BATCH, RpcKind, STREAM_WINDOW, bodyOf, credit, rpcCodec, schemas, withBody, type RpcEnvelope } from '../../operators/request-internals';
import { codec, raw, type Codec } from '../../core/codec';
import { serve, type Reply } from '../../operators/serve';
import { closeAll, connect, listen, nextConnection } from '../fixtures/tcp';
import { Answer, Ask, type AskValue } from '../workers/serve.worker';
import { TRANSPORTS, exited, reapWorkers, spawnWith, tick, until } from '../helpers';

/*
 * request/serve over real worker threads, on every transport: the client
 * here, `serve` in spec/workers/serve.worker.ts.
 */

afterEach(async () => {
  expect(await reapWorkers()).toBe(0);
});

type Report = { aborted?: number; streamStopped?: number; random?: { started: number; settled: number; aborted: number } };

type Bounds = Pick<ClientOptions<AskValue, number>, 'concurrency' | 'timeout'>;

/**
 * A server thread and a client on it; `reports` collects what the worker posts on parentPort.
 * `window`: the bytes in flight each way (the port's `windowBytes` at both ends, or the shm rings' size).
 */
function start(transport: (typeof TRANSPORTS)[number], data: Record<string, unknown> = {}, bounds: Bounds = {}, window?: number) {
  const windowBytes = transport === 'port' ? window : undefined;
  const { here, worker } = spawnWith(transport, 'serve', { ...data, windowBytes }, window);
  const wire = open(here, rpcCodec(), windowBytes === undefined ? { worker } : { worker, windowBytes });
  const rpc = client(wire, { request: Ask, reply: Answer, ...bounds });
  const reports: Report[] = [];
  worker.on('message', (m: Report) => reports.push(m));
  return { worker, rpc, reports, wire };
}

/** The error `reply$` fails with (the test fails if it succeeds). */
async function failureOf<E = Error>(reply$: Observable<unknown>): Promise<E> {
  try {
    await lastValueFrom(reply$);
  } catch (err) {
    return err as E;
  }
  throw new Error('expected the request to fail');
}

const ask = (op: string, n = 0, ms = 0): AskValue => ({ op, n, ms });

/** The body of a CREDIT envelope. */
const Int = codec('int');

/** Node timers holding the process open (an unref'd one is not counted). */
const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/**
 * Does `rpc` hold a timer that keeps the process open? Counted in one
 * synchronous stretch, as jest's own timers come and go: a request under
 * the default timeout adds the handle's timer only if none was there.
 */
function holdsTimer(rpc: RequestClient<AskValue, number>): boolean {
  const before = timers();
  const probe = request(rpc, ask('hang', -1)).subscribe();
  const during = timers();
  probe.unsubscribe();
  expect(timers()).toBe(before);
  return during === before;
}

/** A deterministic PRNG (mulberry32), so a failure can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Waits for the server thread to serve (it starts in about a second), whatever the client's timeout. */
async function served(rpc: RequestClient<AskValue, number>): Promise<void> {
  expect(await firstValueFrom(request(rpc, ask('double', 1), { timeout: 30_000 }))).toBe(2);
}

async function closeAndJoin(rpc: RequestClient<AskValue, number>, worker: Worker): Promise<void> {
  rpc.close();
  expect(await exited(worker)).toBe(0);
}

describe.each(TRANSPORTS)('request/serve over %s', (transport) => {
  it('a plain reply is one value, then complete', async () => {
    const { worker, rpc } = start(transport);
    expect(await lastValueFrom(request(rpc, ask('double', 21)).pipe(toArray()))).toEqual([42]);
    expect(rpc.size).toBe(0);
    await closeAndJoin(rpc, worker);
  });

  it('a Promise reply', async () => {
    const { worker, rpc } = start(transport);
    const replies = await Promise.all([1, 2, 3].map((n) => firstValueFrom(request(rpc, ask('promise', n, 3)))));
    expect(replies).toEqual([2, 3, 4]);
    await closeAndJoin(rpc, worker);
  });

  it('a streamed reply delivers every value in order, then completes', async () => {
    const { worker, rpc, reports } = start(transport);
    expect(await lastValueFrom(request(rpc, ask('stream', 50)).pipe(toArray()))).toEqual([...Array(50).keys()]);
    await until(() => reports.some((r) => r.streamStopped === 50));
    await closeAndJoin(rpc, worker);
  });

  it('a handler that throws or rejects gives RemoteError with the remote name, code and stack', async () => {
    const { worker, rpc } = start(transport);
    const thrown = await failureOf<RemoteError>(request(rpc, ask('fail', 7)));
    expect(thrown).toBeInstanceOf(RemoteError);
    expect(thrown.code).toBe(ErrorCode.REMOTE);
    expect(thrown.remoteName).toBe('TypeError');
    expect(thrown.remoteCode).toBe('E_PRICE');
    expect(thrown.message).toBe('no price for 7');
    expect(thrown.remoteStack).toContain('serve.worker');
    const rejected = await failureOf<RemoteError>(request(rpc, ask('reject', 0, 2)));
    expect(rejected).toBeInstanceOf(RemoteError);
    expect(rejected.remoteName).toBe('RangeError');
    // A lone surrogate in the text: it arrives as U+FFFD (it killed the server's thread before).
    expect((await failureOf<RemoteError>(request(rpc, ask('failOddText', 3)))).message).toBe('no user named "ab\uFFFD" (3)');
    // The client still serves after a remote failure.
    expect(await firstValueFrom(request(rpc, ask('double', 1)))).toBe(2);
    await closeAndJoin(rpc, worker);
  });

  it('unsubscribing cancels: the handler sees its signal abort, a streamed reply stops producing', async () => {
    const { worker, rpc, reports } = start(transport);
    // A hanging handler, cancelled by unsubscribe.
    const hanging = request(rpc, ask('hang', 1)).subscribe();
    await tick(20);
    hanging.unsubscribe();
    await until(() => reports.some((r) => r.aborted === 1));
    // An endless stream: take 5 values, which unsubscribes.
    const five = await lastValueFrom(request(rpc, ask('stream', 0)).pipe(take(5), toArray()));
    expect(five).toEqual([0, 1, 2, 3, 4]);
    await until(() => reports.some((r) => r.aborted === 0) && reports.some((r) => r.streamStopped === 0));
    expect(rpc.size).toBe(0);
    await closeAndJoin(rpc, worker);
  });

  it('an AbortSignal cancels likewise and errors the request with its reason', async () => {
    const { worker, rpc, reports } = start(transport);
    const controller = new AbortController();
    const failed = lastValueFrom(request(rpc, ask('hang', 2), { signal: controller.signal })).catch((e) => e);
    await tick(10);
    controller.abort(new Error('user gave up'));
    expect(((await failed) as Error).message).toBe('user gave up');
    await until(() => reports.some((r) => r.aborted === 2));
    // An already aborted signal sends nothing.
    await expect(lastValueFrom(request(rpc, ask('double', 1), { signal: controller.signal }))).rejects.toThrow('user gave up');
    await closeAndJoin(rpc, worker);
  });

  it('a timeout gives TimeoutError with the caller\'s stack, and the handler\'s signal fires', async () => {
    const { worker, rpc, reports } = start(transport);
    const err = await failureOf<TimeoutError>(request(rpc, ask('hang', 3), { timeout: 30 }));
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.code).toBe(ErrorCode.TIMEOUT);
    expect(err.stack).toContain('request.spec');
    await until(() => reports.some((r) => r.aborted === 3));
    // A reply in time is not affected by its timeout.
    expect(await firstValueFrom(request(rpc, ask('double', 4), { timeout: 10_000 }))).toBe(8);
    await closeAndJoin(rpc, worker);
  });

  it('the client\'s timeout fails requests whose handler never settles with TimeoutError, each at its own deadline, and their signals fire', async () => {
    const { worker, rpc, reports } = start(transport, {}, { timeout: 200 });
    await served(rpc);
    expect(holdsTimer(rpc)).toBe(false);
    // Three requests 50 ms apart: the one timer of the handle serves them in turn.
    const took: Promise<[number, TimeoutError]>[] = [];
    for (const n of [11, 12, 13]) {
      const began = performance.now();
      took.push(failureOf<TimeoutError>(request(rpc, ask('hang', n))).then((err) => [performance.now() - began, err]));
      await tick(50);
    }
    // A reply in time is not affected.
    expect(await firstValueFrom(request(rpc, ask('promise', 4, 5)))).toBe(5);
    for (const [ms, err] of await Promise.all(took)) {
      expect(err).toBeInstanceOf(TimeoutError);
      expect(err.code).toBe(ErrorCode.TIMEOUT);
      expect(err.message).toContain('200 ms');
      expect(ms).toBeGreaterThanOrEqual(190);
      expect(ms).toBeLessThan(1000);
    }
    await until(() => [11, 12, 13].every((n) => reports.some((r) => r.aborted === n)));
    expect(rpc.size).toBe(0);
    expect(holdsTimer(rpc)).toBe(false); // the handle's timer went with the last deadline
    await closeAndJoin(rpc, worker);
  });

  it('a request\'s own timeout wins over the client\'s, shorter, longer or Infinity', async () => {
    const { worker, rpc, reports } = start(transport, {}, { timeout: 100 });
    await served(rpc);
    // Shorter: its own error, created at call time with the caller's stack.
    const err = await failureOf<TimeoutError>(request(rpc, ask('hang', 21), { timeout: 20 }));
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.message).toBe('no reply within 20 ms');
    expect(err.stack).toContain('request.spec');
    await until(() => reports.some((r) => r.aborted === 21));
    // Longer: a reply after the client's 100 ms still arrives.
    expect(await firstValueFrom(request(rpc, ask('promise', 6, 200), { timeout: 5_000 }))).toBe(7);
    // Infinity: no limit at all.
    let settled = false;
    const open = request(rpc, ask('hang', 22), { timeout: Infinity }).subscribe({ error: () => (settled = true) });
    await tick(300);
    expect(settled).toBe(false);
    expect(rpc.size).toBe(1);
    open.unsubscribe();
    await until(() => reports.some((r) => r.aborted === 22));
    await closeAndJoin(rpc, worker);
  });

  it('client({ timeout: Infinity }) leaves a request pending until it is cancelled; a clone may set its own', async () => {
    const { worker, rpc, reports } = start(transport, {}, { timeout: Infinity });
    await served(rpc);
    const before = timers();
    let settled = false;
    const sub = request(rpc, ask('hang', 31)).subscribe({ error: () => (settled = true), complete: () => (settled = true) });
    expect(timers()).toBe(before); // no deadline, no timer
    const quick = rpc.clone({ timeout: 50 });
    const err = await failureOf<TimeoutError>(request(quick, ask('hang', 32)));
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.message).toContain('50 ms');
    await tick(300);
    expect(settled).toBe(false);
    expect(rpc.size).toBe(1);
    sub.unsubscribe();
    await until(() => reports.some((r) => r.aborted === 31) && reports.some((r) => r.aborted === 32));
    expect(rpc.size).toBe(0);
    quick.close();
    await closeAndJoin(rpc, worker);
  });

  it('the default timeout leaves no timer behind once a handle\'s requests settle', async () => {
    const { worker, rpc } = start(transport); // the default 30 s
    await served(rpc);
    expect(await Promise.all([1, 2, 3].map((n) => firstValueFrom(request(rpc, ask('promise', n, 5)))))).toEqual([2, 3, 4]);
    expect(holdsTimer(rpc)).toBe(false);
    // One timer for the handle while requests wait, however many; none once they end.
    let before = timers();
    const hanging = [1, 2, 3].map((n) => request(rpc, ask('hang', n)).subscribe());
    expect(timers()).toBe(before + 1);
    for (const sub of hanging) sub.unsubscribe();
    expect(timers()).toBe(before);
    // Closing a handle with requests pending clears its timer too.
    const other = rpc.clone();
    before = timers();
    const failed = failureOf(request(other, ask('hang', 4)));
    expect(timers()).toBe(before + 1);
    other.close();
    expect(timers()).toBe(before);
    expect(await failed).toBeInstanceOf(TransportClosedError);
    await closeAndJoin(rpc, worker);
  });

  it('a streamed reply with no value completes the request with no value (firstValueFrom: EmptyError)', async () => {
    const { worker, rpc } = start(transport);
    expect(await lastValueFrom(request(rpc, ask('empty')).pipe(toArray()))).toEqual([]);
    await expect(firstValueFrom(request(rpc, ask('empty')))).rejects.toBeInstanceOf(EmptyError);
    expect(rpc.size).toBe(0);
    await closeAndJoin(rpc, worker);
  });

  it('settles each of 10k concurrent requests exactly once under random delays, errors and cancels', async () => {
    const { worker, rpc, reports } = start(transport);
    const random = seeded(0x5eed);
    const N = 10_000;
    const outcome: (string | undefined)[] = new Array(N);
    let twice = 0;
    let afterEnd = 0;
    const settle = (i: number, what: string) => {
      if (outcome[i] !== undefined) twice++;
      outcome[i] = what;
    };
    const done: Promise<void>[] = [];
    for (let i = 0; i < N; i++) {
      const fails = random() < 0.2;
      const quick = Math.floor(random() * 5);
      const cancelAfter = random() < 0.1 ? Math.floor(random() * 6) : undefined;
      // A request that will be cancelled runs until its CANCEL stops it, so
      // every cancel must reach its handler whatever the machine's timing
      // (delivery yields to timers, so a short handler could otherwise
      // settle before a cancel sent a few ms later arrives).
      const ms = cancelAfter === undefined ? quick : 600_000;
      done.push(
        new Promise<void>((resolve) => {
          let values = 0;
          const sub = request(rpc, ask('random', fails ? -1 - i : i, ms)).subscribe({
            next: (v) => {
              if (outcome[i] !== undefined || v !== i) afterEnd++;
              values++;
            },
            error: (e) => {
              settle(i, e instanceof RemoteError && e.message === `failed ${-1 - i}` ? 'error' : `wrong ${e}`);
              resolve();
            },
            complete: () => {
              settle(i, values === 1 ? 'reply' : `wrong count ${values}`);
              resolve();
            },
          });
          if (cancelAfter !== undefined) {
            setTimeout(() => {
              if (outcome[i] !== undefined) return;
              sub.unsubscribe();
              settle(i, 'cancel');
              resolve();
            }, cancelAfter);
          }
        }),
      );
    }
    await Promise.all(done);
    const count = (what: string) => outcome.filter((o) => o === what).length;
    expect(outcome.filter((o) => o !== 'reply' && o !== 'error' && o !== 'cancel')).toEqual([]);
    expect(count('reply') + count('error') + count('cancel')).toBe(N);
    expect(count('cancel')).toBeGreaterThan(0);
    expect(count('error')).toBeGreaterThan(0);
    expect(twice).toBe(0);
    expect(afterEnd).toBe(0);
    expect(rpc.size).toBe(0);
    // The server's side: every request ran once, and ended once: it settled, or a CANCEL stopped it.
    await firstValueFrom(request(rpc, ask('randomStats')));
    await until(() => reports.some((r) => r.random !== undefined));
    const server = reports.find((r) => r.random !== undefined)!.random!;
    expect(server.started).toBe(N);
    expect(server.settled + server.aborted).toBe(N);
    expect(server.aborted).toBe(count('cancel'));
    await closeAndJoin(rpc, worker);
  });

  it('a server told to stop still delivers the replies already being computed', async () => {
    // The server's incoming stream completes after 5 requests (and the client's SCHEMA, the first envelope).
    const { worker, rpc } = start(transport, { stopAfter: 6 });
    const replies = Promise.all(
      [1, 2, 3, 4, 5].map((n) => lastValueFrom(request(rpc, ask('promise', n, 10 * n)).pipe(toArray()))),
    );
    expect(await replies).toEqual([[2], [3], [4], [5], [6]]);
    // Then the server ends the wire: requests fail at once, typed.
    await until(() => rpc.size === 0);
    await expect(lastValueFrom(request(rpc, ask('double', 1)).pipe(toArray()))).rejects.toBeInstanceOf(TransportClosedError);
    expect(await exited(worker)).toBe(0);
    rpc.close();
  });

  it('a server thread that exits in a handler fails every pending request with WorkerError', async () => {
    const { worker, rpc } = start(transport);
    const pending = [1, 2, 3].map((n) => lastValueFrom(request(rpc, ask('hang', n))).catch((e) => e));
    const stream = lastValueFrom(request(rpc, ask('stream', 0))).catch((e) => e);
    await tick(20);
    const exiting = lastValueFrom(request(rpc, ask('exit'))).catch((e) => e);
    for (const err of await Promise.all([...pending, stream, exiting])) expect(err).toBeInstanceOf(WorkerError);
    expect(rpc.size).toBe(0);
    expect(await exited(worker)).toBe(3);
    await expect(lastValueFrom(request(rpc, ask('double', 1)))).rejects.toBeInstanceOf(WorkerError);
    rpc.close();
  });

  it('a terminated server thread fails every pending request with a typed error', async () => {
    const { worker, rpc } = start(transport);
    const pending = [1, 2, 3].map((n) => lastValueFrom(request(rpc, ask('hang', n))).catch((e) => e));
    await tick(20);
    await worker.terminate();
    for (const err of await Promise.all(pending)) expect(err).toBeInstanceOf(WorkerError);
    expect(rpc.size).toBe(0);
    rpc.close();
  });

  it('a streamed reply a hundred times the server wire\'s maxQueue (and fifty times its window) arrives whole and in order, and other requests on the wire still get their replies', async () => {
    const N = 100_000;
    const { worker, rpc } = start(transport, { maxQueue: 1000 }, {}, 16 * 1024);
    await served(rpc);
    let count = 0;
    let outOfOrder = 0;
    /** How many values of the big reply had arrived when each small reply did. */
    const seenAt: number[] = [];
    const small: Promise<number>[] = [];
    const big = new Promise<void>((resolve, reject) =>
      request(rpc, ask('range', N)).subscribe({
        next: (v) => {
          if (v !== count) outOfOrder++;
          count++;
          if (count === 1000) {
            for (let i = 0; i < 5; i++) small.push(lastValueFrom(request(rpc, ask('double', i))).then((d) => (seenAt.push(count), d)));
          }
        },
        error: reject,
        complete: resolve,
      }),
    );
    await big;
    expect(count).toBe(N);
    expect(outOfOrder).toBe(0);
    expect(await Promise.all(small)).toEqual([0, 2, 4, 6, 8]);
    expect(Math.max(...seenAt)).toBeLessThan(N); // answered while the big reply was still streaming
    expect(await firstValueFrom(request(rpc, ask('double', 21)))).toBe(42); // the wire is healthy
    await closeAndJoin(rpc, worker);
  });

  it('unsubscribing halfway through a large streamed reply cancels it (the handler\'s signal fires) and the wire stays healthy', async () => {
    const { worker, rpc, reports } = start(transport, { maxQueue: 1000 }, {}, 16 * 1024);
    await served(rpc);
    const got = await lastValueFrom(request(rpc, ask('range', 50_000)).pipe(take(5_000), toArray()));
    expect(got).toEqual(Array.from({ length: 5_000 }, (_, i) => i));
    await until(() => reports.some((r) => r.aborted === 50_000));
    expect(await lastValueFrom(request(rpc, ask('range', 3)).pipe(toArray()))).toEqual([0, 1, 2]);
    expect(await firstValueFrom(request(rpc, ask('double', 4)))).toBe(8);
    await closeAndJoin(rpc, worker);
  });

  it('serve({ concurrency }) bounds the handlers running at once', async () => {
    const { worker, rpc } = start(transport, { concurrency: 3 });
    const replies = await Promise.all([...Array(30).keys()].map((n) => firstValueFrom(request(rpc, ask('busy', n, 2)))));
    expect(replies).toEqual([...Array(30).keys()]);
    const max = await firstValueFrom(request(rpc, ask('maxActive')));
    expect(max).toBeGreaterThan(0);
    expect(max).toBeLessThanOrEqual(3);
    await closeAndJoin(rpc, worker);
  });

  it('client({ concurrency }) bounds the requests in flight, first come first served', async () => {
    const { worker, rpc } = start(transport, {}, { concurrency: 4 });
    const replies = await Promise.all([...Array(40).keys()].map((n) => firstValueFrom(request(rpc, ask('busy', n, 1)))));
    expect(replies).toEqual([...Array(40).keys()]);
    const max = await firstValueFrom(request(rpc, ask('maxActive')));
    expect(max).toBeGreaterThan(0);
    expect(max).toBeLessThanOrEqual(4);
    // One at a time: the replies come back in the order the requests were made,
    // whatever their delays.
    const single = rpc.clone({ concurrency: 1 });
    const order: number[] = [];
    await Promise.all(
      [...Array(20).keys()].map((n) => firstValueFrom(request(single, ask('promise', n, (n * 7) % 5))).then((v) => order.push(v - 1))),
    );
    expect(order).toEqual([...Array(20).keys()]);
    single.close();
    await closeAndJoin(rpc, worker);
  });

  it('a request that does not fit fails at subscription with EncodeError; nothing goes out and the wire goes on', async () => {
    // Over a WireSubject a request that starts at once is encoded straight into the wire (ValueEnvelope):
    // its EncodeError must still come at subscription, before anything is written.
    const { worker, rpc, wire } = start(transport);
    expect(await firstValueFrom(request(rpc, ask('double', 1)))).toBe(2);
    const before = wire.stats().sent;
    let failed: unknown;
    request(rpc, { op: 'double', n: 'one', ms: 0 } as unknown as AskValue).subscribe({ error: (err) => (failed = err) });
    expect((failed as EncodeError).code).toBe(ErrorCode.ENCODE);
    expect(rpc.size).toBe(0);
    expect(wire.stats().sent).toBe(before); // nothing written
    expect(await firstValueFrom(request(rpc, ask('double', 21)))).toBe(42);
    await closeAndJoin(rpc, worker);
  });

  it('requests that time out while the way to the server is full leave the wire working: every request settles once', async () => {
    // The CANCELs waited behind the full ring through `next`, which paused the client's reading; the server, whose
    // replies waited, had paused reading too: each waited for the other for good.
    const { worker, rpc } = start(transport, {}, {}, 16 * 1024);
    const outcomes = await Promise.all(
      [...Array(5000).keys()].map((n) => {
        const hangs = n % 10 === 0;
        return firstValueFrom(request(rpc, ask(hangs ? 'hang' : 'double', n), hangs ? { timeout: 1 } : {})).then(
          (v) => v,
          (err: Error) => err.name,
        );
      }),
    );
    outcomes.forEach((outcome, n) => expect(outcome).toBe(n % 10 === 0 ? 'TimeoutError' : 2 * n));
    expect(await firstValueFrom(request(rpc, ask('double', 21)))).toBe(42);
    expect(rpc.size).toBe(0);
    await closeAndJoin(rpc, worker);
  });

  it('requests that find the way full go as their values were when they were made, however the caller changes them after', async () => {
    // Each starts at once: the first go straight into the ring, the rest wait for room, their bytes made then.
    const { worker, rpc } = start(transport, {}, {}, 16 * 1024);
    const asks = [...Array(3000).keys()].map((n) => ask('double', n));
    const replies = Promise.all(asks.map((a) => firstValueFrom(request(rpc, a))));
    for (const a of asks) a.n = -1;
    expect(await replies).toEqual(asks.map((_, n) => 2 * n));
    await closeAndJoin(rpc, worker);
  });

  it('a request that waits for a slot goes as its value was when it was made, however the caller changes it after', async () => {
    const { worker, rpc } = start(transport, {}, { concurrency: 1 });
    const first = firstValueFrom(request(rpc, ask('promise', 1, 20)));
    const waiting = ask('double', 5);
    const second = firstValueFrom(request(rpc, waiting));
    waiting.n = 1000; // after request(): the queued request was encoded when it was made
    expect(await Promise.all([first, second])).toEqual([2, 10]);
    await closeAndJoin(rpc, worker);
  });

  it('a clone is an independent handle on the same wire', async () => {
    const { worker, rpc, reports } = start(transport);
    const other = rpc.clone();
    const mine = lastValueFrom(request(other, ask('hang', 9))).catch((e) => e);
    await tick(10);
    expect(other.size).toBe(1);
    expect(rpc.size).toBe(0);
    // Closing the clone fails only its requests and cancels their work.
    other.close();
    expect(await mine).toBeInstanceOf(TransportClosedError);
    await until(() => reports.some((r) => r.aborted === 9));
    await expect(lastValueFrom(request(other, ask('double', 1)))).rejects.toBeInstanceOf(TransportClosedError);
    // The original still works, and so does a clone of it used alongside.
    const third = rpc.clone({ concurrency: 1 });
    const both = await Promise.all([firstValueFrom(request(rpc, ask('double', 5))), firstValueFrom(request(third, ask('promise', 5, 2)))]);
    expect(both).toEqual([10, 6]);
    third.close();
    await closeAndJoin(rpc, worker);
  });
});

/*
 * The operator cases of the contract, in one thread: the client's wire is
 * looped straight into `serve` (synchronous, no transport).
 */
describe('request/serve in one thread', () => {
  type Handler = Parameters<typeof serve<AskValue, number>>[0];

  function loopback(handler: Handler, options: { serverConcurrency?: number; concurrency?: number; signal?: 'auto' | boolean } = {}) {
    const toServer = new Subject<RpcEnvelope>();
    const toClient = new Subject<RpcEnvelope>();
    const sent: RpcEnvelope[] = [];
    const wire = Object.assign(toClient.asObservable(), {
      next: (e: RpcEnvelope) => {
        sent.push(e);
        toServer.next(e);
      },
      error: (err: unknown) => toServer.error(err),
      complete: () => toServer.complete(),
    });
    const server = toServer
      .pipe(serve(handler, { request: Ask, reply: Answer, concurrency: options.serverConcurrency, signal: options.signal }))
      .subscribe(toClient);
    const rpc = client(wire, { request: Ask, reply: Answer, concurrency: options.concurrency });
    return { rpc, toServer, toClient, sent, server };
  }

  it('a handler error too large for a wire is cut (stack first) to 16 KiB: one request fails, not the wire', async () => {
    const huge = new Error('m'.repeat(100));
    huge.stack = 's'.repeat(1 << 20); // a 1 MiB stack would fill a default shm ring and end the wire for every client
    const { rpc } = loopback(() => {
      throw huge;
    });
    const err = (await failureOf(request(rpc, ask('x', 1)))) as RemoteError;
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.message).toBe('m'.repeat(100));
    expect(err.remoteStack).toBeUndefined();
    rpc.close();
  });

  it('a handler that replies at once works; each subscription is one request (cold)', async () => {
    let calls = 0;
    const { rpc } = loopback((q) => (calls++, q.n + 1));
    const reply$ = request(rpc, ask('x', 1));
    expect(calls).toBe(0); // cold
    expect(await lastValueFrom(reply$.pipe(toArray()))).toEqual([2]);
    expect(await lastValueFrom(reply$.pipe(toArray()))).toEqual([2]);
    expect(calls).toBe(2);
    expect(rpc.size).toBe(0);
  });

  it('a reply that does not fit the reply codec gives RemoteError named EncodeError', async () => {
    const { rpc } = loopback(() => 'not a number' as unknown as number);
    const err = await failureOf<RemoteError>(request(rpc, ask('x')));
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.remoteName).toBe('EncodeError');
  });

  it('a streamed reply value that does not encode stops a synchronous handler Observable at once (not run to its end)', async () => {
    let pulled = 0;
    const { rpc } = loopback(
      () =>
        new Observable<number>((subscriber) => {
          while (!subscriber.closed && pulled < 1_000_000) subscriber.next(pulled++ === 1 ? ('x' as unknown as number) : 7);
        }),
    );
    const err = await failureOf<RemoteError>(request(rpc, ask('x')));
    expect(err.remoteName).toBe('EncodeError');
    expect(pulled).toBe(2);
    rpc.close();
  });

  it('a request that does not fit the request codec fails with EncodeError and sends nothing', async () => {
    const { rpc, sent } = loopback((q) => q.n);
    const err = await failureOf(request(rpc, { op: 'x', n: 'one' } as unknown as AskValue));
    expect((err as EncodeError).code).toBe(ErrorCode.ENCODE);
    expect(sent).toEqual([]);
  });

  it('serve: a value or a Promise goes back as one REPLY envelope, an Observable as NEXTs and COMPLETE', async () => {
    const source = new Subject<RpcEnvelope>();
    const out: RpcEnvelope[] = [];
    source
      .pipe(
        serve((q: AskValue) => (q.op === 'value' ? q.n : q.op === 'promise' ? Promise.resolve(q.n) : of(q.n, q.n + 1)), {
          request: Ask,
          reply: Answer,
        }),
      )
      .subscribe((e) => out.push(e));
    const asking = (id: number, op: string): RpcEnvelope => ({ id, kind: RpcKind.REQUEST, body: Ask.encode(ask(op, id * 10)), error: null });
    source.next(asking(1, 'value'));
    source.next(asking(2, 'promise'));
    source.next(asking(3, 'stream'));
    await tick(0);
    const seen = out.map((e) => [e.id, e.kind, e.body.length > 0 ? Answer.decode(e.body) : null]);
    expect(seen).toEqual([
      [1, RpcKind.REPLY, 10],
      [3, RpcKind.NEXT, 30],
      [3, RpcKind.NEXT, 31],
      [3, RpcKind.COMPLETE, null],
      [2, RpcKind.REPLY, 20],
    ]);
  });

  it('a request body that does not decode gets an ERROR envelope back', () => {
    const toServer = new Subject<RpcEnvelope>();
    const out: RpcEnvelope[] = [];
    toServer.pipe(serve((q: AskValue) => q.n, { request: Ask, reply: Answer })).subscribe((e) => out.push(e));
    toServer.next({ id: 7, kind: RpcKind.REQUEST, body: Buffer.from([1, 2, 3]), error: null });
    expect(out).toHaveLength(1);
    expect(out[0].id).toBe(7);
    expect(out[0].kind).toBe(RpcKind.ERROR);
    expect(out[0].error!.name).toBe('DecodeError');
  });

  it('serve: an empty source completes; a source error aborts running handlers and passes on', () => {
    const empty = new Subject<RpcEnvelope>();
    let completed = false;
    empty.pipe(serve((q: AskValue) => q.n, { request: Ask, reply: Answer })).subscribe({ complete: () => (completed = true) });
    empty.complete();
    expect(completed).toBe(true);

    const source = new Subject<RpcEnvelope>();
    const signals: AbortSignal[] = [];
    let failed: unknown;
    source
      .pipe(serve((_q: AskValue, signal) => (signals.push(signal), new Promise<number>(() => {})), { request: Ask, reply: Answer }))
      .subscribe({ error: (e) => (failed = e) });
    source.next({ id: 1, kind: RpcKind.REQUEST, body: Ask.encode(ask('x')), error: null });
    source.error(new Error('input broke'));
    expect(signals[0].aborted).toBe(true);
    expect((failed as Error).message).toBe('input broke');
  });

  it('serve: unsubscribing the output aborts running handlers; CANCEL of a waiting request drops it', () => {
    const source = new Subject<RpcEnvelope>();
    const started: number[] = [];
    const signals: AbortSignal[] = [];
    const out: RpcEnvelope[] = [];
    const sub = source
      .pipe(
        serve((q: AskValue, signal) => (started.push(q.n), signals.push(signal), new Promise<number>(() => {})), {
          request: Ask,
          reply: Answer,
          concurrency: 1,
        }),
      )
      .subscribe((e) => out.push(e));
    for (let id = 1; id <= 3; id++) source.next({ id, kind: RpcKind.REQUEST, body: Ask.encode(ask('x', id)), error: null });
    expect(started).toEqual([1]);
    source.next({ id: 2, kind: RpcKind.CANCEL, body: Buffer.alloc(0), error: null });
    source.next({ id: 1, kind: RpcKind.CANCEL, body: Buffer.alloc(0), error: null });
    expect(signals[0].aborted).toBe(true);
    expect(started).toEqual([1, 3]); // 2 was cancelled while it waited
    sub.unsubscribe();
    expect(signals[1].aborted).toBe(true);
    expect(out).toEqual([]);
    expect(source.observed).toBe(false);
  });

  it('serve: a handler that declares no signal gets none, and CANCEL still stops its streamed reply', () => {
    const source = new Subject<RpcEnvelope>();
    const given: unknown[] = [];
    const produced: number[] = [];
    const out: RpcEnvelope[] = [];
    const ticks = new Subject<number>();
    source
      .pipe(
        serve(
          function (this: unknown, q: AskValue) {
            given.push(arguments[1]);
            return new Observable<number>((s) => ticks.subscribe((n) => (produced.push(n), s.next(n + q.n))));
          },
          { request: Ask, reply: Answer },
        ),
      )
      .subscribe((e) => out.push(e));
    source.next({ id: 1, kind: RpcKind.REQUEST, body: Ask.encode(ask('x', 10)), error: null });
    ticks.next(1);
    source.next({ id: 1, kind: RpcKind.CANCEL, body: Buffer.alloc(0), error: null });
    ticks.next(2);
    expect(given).toEqual([undefined]);
    expect(produced).toEqual([1]); // unsubscribed on CANCEL: 2 never reached the reply
    expect(out.map((e) => [e.kind, Answer.decode(e.body)])).toEqual([[RpcKind.NEXT, 11]]);
    expect(ticks.observed).toBe(false);
  });

  it('serve({ signal: true }) gives a signal to a handler whose length hides it; \'auto\' gives it none, nor does false', () => {
    const seen: (AbortSignal | undefined)[] = [];
    const rest = (...args: [AskValue, AbortSignal?]): Promise<number> => (seen.push(args[1]), new Promise<number>(() => {}));
    expect(rest.length).toBe(0);
    const always = loopback(rest, { signal: true });
    const sub = request(always.rpc, ask('x', 1)).subscribe();
    expect(seen[0]).toBeInstanceOf(AbortSignal);
    expect(seen[0]!.aborted).toBe(false);
    sub.unsubscribe(); // CANCEL
    expect(seen[0]!.aborted).toBe(true);
    always.rpc.close();

    const auto = loopback(rest);
    request(auto.rpc, ask('x', 2)).subscribe().unsubscribe();
    const never = loopback((_q, signal) => (seen.push(signal), new Promise<number>(() => {})), { signal: false });
    request(never.rpc, ask('x', 3)).subscribe().unsubscribe();
    expect(seen.slice(1)).toEqual([undefined, undefined]);
    auto.rpc.close();
    never.rpc.close();
  });

  it('a request the wire refuses in trySend fails with that error, after the subscribe call returns', async () => {
    const refusal = new TransportClosedError('the reader left');
    const toClient = new Subject<RpcEnvelope>();
    const wire = Object.assign(toClient.asObservable(), {
      next: () => {},
      error: () => {},
      complete: () => {},
      send: () => Promise.resolve(),
      trySend: (): boolean => {
        throw refusal;
      },
    });
    const rpc = client(wire, { request: Ask, reply: Answer });
    let failed: unknown;
    request(rpc, ask('x')).subscribe({ error: (e) => (failed = e) });
    expect(failed).toBeUndefined(); // told on a microtask, as a rejected send would be
    await tick(0);
    expect(failed).toBe(refusal);
    expect(rpc.size).toBe(0);
    rpc.close();
  });

  it('a request that times out while waiting for a slot is never sent', async () => {
    const { rpc, sent } = loopback(() => new Promise<number>(() => {}), { concurrency: 1 });
    const first = request(rpc, ask('x', 1)).subscribe();
    const err = await failureOf(request(rpc, ask('x', 2), { timeout: 5 }));
    expect(err).toBeInstanceOf(TimeoutError);
    expect(sent.map((e) => [e.id, e.kind])).toEqual([
      [0, RpcKind.SCHEMA], // once, before the first request
      [1, RpcKind.REQUEST],
    ]);
    first.unsubscribe();
    expect(sent.map((e) => [e.id, e.kind])).toEqual([
      [0, RpcKind.SCHEMA],
      [1, RpcKind.REQUEST],
      [1, RpcKind.CANCEL],
    ]);
    rpc.close();
  });

  it('requests that time out while waiting for a slot leave the queue, not only the count', async () => {
    const { rpc, sent } = loopback(() => new Promise<number>(() => {}), { concurrency: 1 });
    const first = request(rpc, ask('x', 1)).subscribe();
    const late = Array.from({ length: 100 }, (_, n) => failureOf(request(rpc, ask('x', n + 2), { timeout: 5 })));
    for (const err of await Promise.all(late)) expect(err).toBeInstanceOf(TimeoutError);
    expect(rpc.size).toBe(1);
    // Held by the queue, each kept its bytes and subscriber until the slot freed (it may be held for good).
    expect((rpc as unknown as { queue: { length: number } }).queue.length).toBeLessThan(50);
    first.unsubscribe();
    expect(sent.filter((e) => e.kind === RpcKind.REQUEST)).toHaveLength(1);
    rpc.close();
  });

  it('with concurrency 1, twenty thousand queued requests that a wire answers at once all get their answers (no nested starts)', async () => {
    let release!: () => void;
    let calls = 0;
    const { rpc } = loopback((q) => (calls++ === 0 ? new Promise<number>((resolve) => (release = () => resolve(q.n))) : q.n), { concurrency: 1 });
    const answers = Array.from({ length: 20_000 }, (_, n) => firstValueFrom(request(rpc, ask('x', n))));
    release();
    expect(await Promise.all(answers)).toEqual(Array.from({ length: 20_000 }, (_, n) => n));
    rpc.close();
  });

  it('close() after the WireSubject was unsubscribed does not throw: the wire is over already', () => {
    const [a, b] = shm.pair({ bytes: 4096 });
    const wire = open(a, rpcCodec());
    const other = open(b, rpcCodec());
    const rpc = client(wire, { request: Ask, reply: Answer });
    wire.unsubscribe();
    expect(() => rpc.close()).not.toThrow();
    other.close();
  });

  it('a wire that errors fails every pending request with a typed error, and later ones at once', async () => {
    const { rpc, toClient } = loopback(() => new Promise<number>(() => {}));
    const pending = [1, 2].map((n) => failureOf(request(rpc, ask('x', n))));
    toClient.error(new Error('link lost'));
    for (const err of await Promise.all(pending)) {
      expect(err).toBeInstanceOf(TransportClosedError);
      expect((err as Error).message).toContain('link lost');
    }
    expect(await failureOf(request(rpc, ask('x', 3)))).toBeInstanceOf(TransportClosedError);
  });

  it('closing the last handle completes the wire (the server stops)', () => {
    const { rpc, server } = loopback((q) => q.n);
    const other = rpc.clone();
    rpc.close();
    expect(server.closed).toBe(false);
    other.close();
    expect(server.closed).toBe(true);
  });

  it('options are checked at the door', () => {
    const { rpc } = loopback((q) => q.n);
    expect(() => request(rpc, ask('x'), { timeout: -1 })).toThrow(RangeError);
    expect(() => rpc.clone({ concurrency: 0 })).toThrow(RangeError);
    expect(() => rpc.clone({ timout: 5 } as never)).toThrow(new TypeError('clone: options.timout is not an option (it takes concurrency, timeout)'));
    expect(() => serve((q: AskValue) => q.n, { request: Ask, reply: Answer, concurrency: 1.5 })).toThrow(RangeError);
    for (const timeout of [-1, NaN, 2 ** 31, '5' as unknown as number]) {
      const wire = new Subject<RpcEnvelope>();
      expect(() => client(wire, { request: Ask, reply: Answer, timeout })).toThrow(RangeError);
      expect(() => client(wire, { request: Ask, reply: Answer, timeout })).toThrow('options.timeout');
      expect(wire.observed).toBe(false); // refused before it subscribed
      expect(() => rpc.clone({ timeout })).toThrow(RangeError);
      expect(() => request(rpc, ask('x'), { timeout })).toThrow(RangeError);
    }
    for (const timeout of [0, 2 ** 31 - 1, Infinity]) rpc.clone({ timeout }).close();
    expect(() => serve((q: AskValue) => q.n, { request: Ask, reply: Answer, signal: 'yes' as never })).toThrow(TypeError);
  });

  it('client() and serve() check their wire, codecs and handler at the door, with a TypeError naming it', () => {
    const wire = new Subject<RpcEnvelope>();
    const notCodecs = [undefined, null, 'long', {}, { encode: () => Buffer.alloc(0) }];
    for (const bad of notCodecs) {
      expect(() => client(wire, { request: bad as never, reply: Answer })).toThrow(new TypeError('client: options.request must be a codec (from codec(schema), or raw)'));
      expect(() => client(wire, { request: Ask, reply: bad as never })).toThrow(new TypeError('client: options.reply must be a codec (from codec(schema), or raw)'));
      expect(() => serve((q: AskValue) => q.n, { request: bad as never, reply: Answer })).toThrow(new TypeError('serve: options.request must be a codec (from codec(schema), or raw)'));
      expect(() => serve((q: AskValue) => q.n, { request: Ask, reply: bad as never })).toThrow(new TypeError('serve: options.reply must be a codec (from codec(schema), or raw)'));
    }
    for (const bad of [undefined, null, 42, 'f', {}]) {
      expect(() => serve(bad as never, { request: Ask, reply: Answer })).toThrow(new TypeError('serve: handler must be a function'));
    }
    for (const bad of [undefined, null, 'options']) {
      expect(() => client(wire, bad as never)).toThrow(new TypeError('client: options must be an object with the request and reply codecs'));
      expect(() => serve((q: AskValue) => q.n, bad as never)).toThrow(new TypeError('serve: options must be an object with the request and reply codecs'));
    }
    for (const bad of [undefined, null, {}, of(1), { next: () => {} }]) {
      expect(() => client(bad as never, { request: Ask, reply: Answer })).toThrow(new TypeError('client: wire must be an Observable and an Observer of envelopes (open(end, rpcCodec()))'));
    }
    expect(wire.observed).toBe(false); // every refusal came before the client subscribed
    // A second client on one wire would number its requests from 1 too, and take the first one's replies.
    const first = client(wire, { request: Ask, reply: Answer });
    expect(() => client(wire, { request: Ask, reply: Answer })).toThrow(/has a client already: use its clone\(\)/);
    // A signal that is not an AbortSignal is refused before anything is registered (it used to leave an entry).
    expect(() => request(first, ask('double', 1), { signal: {} as never })).toThrow(new TypeError('request: options.signal must be an AbortSignal'));
    // Options that are not an object are a TypeError saying so (null was a destructuring TypeError from inside).
    for (const bad of [null, 5, 'fast']) expect(() => request(first, ask('double', 1), bad as never)).toThrow(new TypeError('request: options must be an object { timeout, signal }'));
    first.close();
  });

  it('serve: a streamed reply sends STREAM_WINDOW NEXTs, then one more per credit granted; the ending follows the last value', () => {
    const source = new Subject<RpcEnvelope>();
    const out: RpcEnvelope[] = [];
    source.pipe(serve((q: AskValue) => range(0, q.n), { request: Ask, reply: Answer })).subscribe((e) => out.push(e));
    const n = STREAM_WINDOW + 40;
    source.next({ id: 1, kind: RpcKind.REQUEST, body: Ask.encode(ask('x', n)), error: null });
    const values = () => out.filter((e) => e.kind === RpcKind.NEXT).map((e) => Answer.decode(e.body));
    expect(values()).toEqual(Array.from({ length: STREAM_WINDOW }, (_, i) => i));
    expect(out.every((e) => e.id === 1 && e.kind === RpcKind.NEXT)).toBe(true); // no COMPLETE yet: 40 values wait
    source.next(credit(2, 100)); // an id with no streamed reply: ignored
    source.next(credit(1, 30));
    expect(values()).toHaveLength(STREAM_WINDOW + 30);
    source.next(credit(1, 30));
    expect(values()).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(out.map((e) => e.kind).slice(-1)).toEqual([RpcKind.COMPLETE]);
    expect(out).toHaveLength(n + 1);
  });

  it('serve: CANCEL drops the values waiting for credit; a malformed CREDIT ends that reply with ERROR (DecodeError)', () => {
    const source = new Subject<RpcEnvelope>();
    const out: RpcEnvelope[] = [];
    source.pipe(serve((q: AskValue) => range(0, q.n), { request: Ask, reply: Answer })).subscribe((e) => out.push(e));
    source.next({ id: 1, kind: RpcKind.REQUEST, body: Ask.encode(ask('x', 1000)), error: null });
    source.next({ id: 1, kind: RpcKind.CANCEL, body: Buffer.alloc(0), error: null });
    source.next(credit(1, 1000));
    expect(out).toHaveLength(STREAM_WINDOW);
    // 0, -1, truncated, and 2^34 (a 6-byte varint: no Avro int, though avsc reads it)
    for (const body of [Buffer.from([0]), Buffer.from([1]), Buffer.from([0x80]), Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01])]) {
      out.length = 0;
      source.next({ id: 2, kind: RpcKind.REQUEST, body: Ask.encode(ask('x', 1000)), error: null });
      source.next({ id: 2, kind: RpcKind.CREDIT, body, error: null });
      source.next(credit(2, 1000));
      expect(out).toHaveLength(STREAM_WINDOW + 1);
      expect(out[STREAM_WINDOW].kind).toBe(RpcKind.ERROR);
      expect(out[STREAM_WINDOW].error!.name).toBe('DecodeError');
    }
  });

  it('the client grants credit as a streamed reply arrives, and none once it has unsubscribed', async () => {
    const { rpc, sent } = loopback((q) => range(0, q.n));
    const n = 10 * STREAM_WINDOW + 3;
    expect(await lastValueFrom(request(rpc, ask('x', n)).pipe(toArray()))).toEqual(Array.from({ length: n }, (_, i) => i));
    const credits = sent.filter((e) => e.kind === RpcKind.CREDIT);
    expect(credits.length).toBeGreaterThan(0);
    expect(credits.every((e) => e.id === 1 && Int.decode(e.body) === CREDIT_BATCH)).toBe(true);
    sent.length = 0;
    expect(await lastValueFrom(request(rpc, ask('x', n)).pipe(take(3 * CREDIT_BATCH), toArray()))).toHaveLength(3 * CREDIT_BATCH);
    expect(sent.map((e) => e.kind)).toEqual([RpcKind.REQUEST, RpcKind.CREDIT, RpcKind.CREDIT, RpcKind.CANCEL]);
    rpc.close();
  });

  it('serve: once its input completes (no CREDIT can arrive), a streamed reply sends the rest without waiting for credit', () => {
    const source = new Subject<RpcEnvelope>();
    const out: RpcEnvelope[] = [];
    let completed = false;
    source
      .pipe(serve((q: AskValue) => range(0, q.n), { request: Ask, reply: Answer }))
      .subscribe({ next: (e) => out.push(e), complete: () => (completed = true) });
    source.next({ id: 1, kind: RpcKind.REQUEST, body: Ask.encode(ask('x', 3 * STREAM_WINDOW)), error: null });
    expect(out).toHaveLength(STREAM_WINDOW);
    expect(completed).toBe(false);
    source.complete();
    expect(out.filter((e) => e.kind === RpcKind.NEXT).map((e) => Answer.decode(e.body))).toEqual(Array.from({ length: 3 * STREAM_WINDOW }, (_, i) => i));
    expect(out[out.length - 1].kind).toBe(RpcKind.COMPLETE);
    expect(completed).toBe(true);
  });

  it('serve: a streamed reply started from the queue after the input completed does not wait for credit either', () => {
    const source = new Subject<RpcEnvelope>();
    const out: RpcEnvelope[] = [];
    let completed = false;
    let release!: () => void;
    source
      .pipe(
        serve((q: AskValue) => (q.op === 'hold' ? new Observable<number>((s) => void (release = () => s.complete())) : range(0, q.n)), {
          request: Ask,
          reply: Answer,
          concurrency: 1,
        }),
      )
      .subscribe({ next: (e) => out.push(e), complete: () => (completed = true) });
    source.next({ id: 1, kind: RpcKind.REQUEST, body: Ask.encode(ask('hold')), error: null });
    source.next({ id: 2, kind: RpcKind.REQUEST, body: Ask.encode(ask('x', 2 * STREAM_WINDOW)), error: null }); // waits for the slot
    source.complete();
    release();
    expect(out.filter((e) => e.id === 2 && e.kind === RpcKind.NEXT)).toHaveLength(2 * STREAM_WINDOW);
    expect(out.map((e) => [e.id, e.kind]).filter(([, kind]) => kind !== RpcKind.NEXT)).toEqual([
      [1, RpcKind.COMPLETE],
      [2, RpcKind.COMPLETE],
    ]);
    expect(completed).toBe(true);
  });
});

describe('request/serve over tcp', () => {
  afterEach(closeAll);

  /** A server and a client on one tcp channel with a 16 KiB window; the server's wire holds at most 1000 values. */
  async function overTcp() {
    const server = await listen();
    const accepted = nextConnection(server);
    const conn = await connect({ port: server.port });
    const peer = await accepted;
    const aborted: number[] = [];
    const serverWire = peer.open('rpc', rpcCodec(), { maxQueue: 1000, window: 16 * 1024 });
    const handler = (q: AskValue, signal: AbortSignal): Reply<number> => {
      signal.addEventListener('abort', () => aborted.push(q.n));
      return q.op === 'range' ? range(0, q.n) : q.n * 2;
    };
    serverWire.pipe(serve(handler, { request: Ask, reply: Answer })).subscribe(serverWire);
    const rpc = client(conn.open('rpc', rpcCodec(), { window: 16 * 1024 }), { request: Ask, reply: Answer });
    return { rpc, aborted };
  }

  it('a streamed reply a hundred times the server wire\'s maxQueue arrives whole and in order, other requests answered meanwhile; a cancelled one stops', async () => {
    const { rpc, aborted } = await overTcp();
    const N = 100_000;
    let count = 0;
    let outOfOrder = 0;
    const seenAt: number[] = [];
    const small: Promise<number>[] = [];
    await new Promise<void>((resolve, reject) =>
      request(rpc, ask('range', N)).subscribe({
        next: (v) => {
          if (v !== count) outOfOrder++;
          count++;
          if (count === 1000) {
            for (let i = 0; i < 5; i++) small.push(lastValueFrom(request(rpc, ask('double', i))).then((d) => (seenAt.push(count), d)));
          }
        },
        error: reject,
        complete: resolve,
      }),
    );
    expect(count).toBe(N);
    expect(outOfOrder).toBe(0);
    expect(await Promise.all(small)).toEqual([0, 2, 4, 6, 8]);
    expect(Math.max(...seenAt)).toBeLessThan(N);

    const got = await lastValueFrom(request(rpc, ask('range', 50_000)).pipe(take(5_000), toArray()));
    expect(got).toEqual(Array.from({ length: 5_000 }, (_, i) => i));
    await until(() => aborted.includes(50_000));
    expect(await firstValueFrom(request(rpc, ask('double', 21)))).toBe(42); // the wire is healthy
    rpc.close();
  });
});

describe('the client’s SCHEMA: both ends’ codecs compared', () => {
  const AB = codec({ type: 'record', name: 'P', fields: [{ name: 'a', type: 'int' }, { name: 'b', type: 'int' }] } as const);
  const BA = codec({ type: 'record', name: 'P', fields: [{ name: 'b', type: 'int' }, { name: 'a', type: 'int' }] } as const);
  const Long = codec('long');

  /** A server with `request`/`reply` over a real shm pair, and what its handler saw. */
  function served<Q, A>(request: Codec<Q>, reply: Codec<A>, answer: (q: Q) => A) {
    const [a, b] = shm.pair({ bytes: 64 * 1024, prefault: false });
    const server = open(b, rpcCodec());
    const seen: Q[] = [];
    server.pipe(serve((q: Q) => (seen.push(q), answer(q)), { request, reply })).subscribe(server);
    const wire = open(a, rpcCodec());
    return { wire, seen, close: () => (wire.close(), server.close()) };
  }

  it.each([
    ['request', BA, Long, /the request was written with schema [0-9a-f]{64}, this server reads [0-9a-f]{64}/],
    ['reply', AB, Int, /the client reads replies with schema [0-9a-f]{64}, this server writes [0-9a-f]{64}/],
  ] as const)('a client whose %s codec has the same layout but another schema gets SchemaMismatchError for every request; no handler runs', async (_, theirRequest, theirReply, message) => {
    // Same bytes, other meaning: before, {a: 1, b: 2} arrived as {a: 2, b: 1}, and an int reply was read as a long, in silence.
    const { wire, seen, close } = served(AB, Long, (q) => q.a * 10 + q.b);
    const rpc = client(wire, { request: theirRequest as Codec<{ a: number; b: number }>, reply: theirReply as Codec<number> });
    try {
      for (let n = 0; n < 3; n++) {
        const err = await failureOf<RemoteError>(request(rpc, { a: 1, b: 2 }));
        expect(err).toBeInstanceOf(RemoteError);
        expect([err.remoteName, err.remoteCode]).toEqual(['SchemaMismatchError', 'ERR_RXWIRE_SCHEMA_MISMATCH']);
        expect(err.message).toMatch(message);
        expect(err.remoteStack).toBeUndefined();
      }
      expect(seen).toEqual([]);
    } finally {
      rpc.close();
      close();
    }
  });

  it('the same codecs are served as before; the SCHEMA goes once, before the first request', async () => {
    const { wire, seen, close } = served(AB, Long, (q) => q.a * 10 + q.b);
    const before = wire.stats().sent;
    const rpc = client(wire, { request: AB, reply: Long });
    try {
      expect(wire.stats().sent).toBe(before); // nothing until a request
      expect(await firstValueFrom(request(rpc, { a: 1, b: 2 }))).toBe(12);
      expect(await firstValueFrom(request(rpc, { a: 3, b: 4 }))).toBe(34);
      expect(wire.stats().sent - before).toBe(3);
      expect(seen).toEqual([{ a: 1, b: 2 }, { a: 3, b: 4 }]);
    } finally {
      rpc.close();
      close();
    }
  });

  it('a client that sends no SCHEMA (one written from PROTOCOL.md before it) is served unchecked; a malformed SCHEMA fails each request with DecodeError; only the first SCHEMA counts', async () => {
    const input = new Subject<RpcEnvelope>();
    const out: RpcEnvelope[] = [];
    input.pipe(serve((n: number) => n + 1, { request: Long, reply: Long })).subscribe((e) => out.push(e));
    input.next(withBody(1, RpcKind.REQUEST, bodyOf(Long, 1)));
    expect(out.map((e) => [e.id, e.kind])).toEqual([[1, RpcKind.REPLY]]);
    input.next(withBody(0, RpcKind.SCHEMA, Buffer.from([0x04, 0x61]))); // a string of 2 bytes, cut after one
    input.next(schemas(Long, Long)); // too late: the first one counts
    input.next(withBody(2, RpcKind.REQUEST, bodyOf(Long, 2)));
    expect(out[1]).toMatchObject({ id: 2, kind: RpcKind.ERROR, error: { name: 'DecodeError', stack: null } });
    input.complete();
  });
});

describe('serve’s replies straight into the wire (operators/serve-reply.ts)', () => {
  // Both ends in this thread over a real shm pair; the server is `wire.pipe(serve(…)).subscribe(wire)`.
  const Str = codec('string');
  const Num = codec('long');

  function pairUp(bytes: number, pipeOut: (out$: Observable<RpcEnvelope>) => Observable<RpcEnvelope> = (o) => o) {
    const [a, b] = shm.pair({ bytes, prefault: false });
    const server = open(b, rpcCodec());
    // 13 gets a number where the reply codec takes a string: it does not encode.
    pipeOut(server.pipe(serve((n: number) => (n === 13 ? (13 as unknown as string) : 'r'.repeat(n % 200)), { request: Num, reply: Str }))).subscribe(server);
    const wire = open(a, rpcCodec());
    const rpc = client(wire, { request: Num, reply: Str, timeout: 10_000 });
    const close = () => {
      rpc.close();
      wire.close();
      server.close();
    };
    return { rpc, close };
  }

  /** How many REPLY envelopes were written in place by a ValueEnvelope during `run`. */
  async function repliesInPlace(run: () => Promise<void>): Promise<number> {
    const spy = jest.spyOn(ValueEnvelope.prototype, 'encodeInto');
    try {
      await run();
      return spy.mock.contexts.filter((e) => (e as RpcEnvelope).kind === RpcKind.REPLY).length;
    } finally {
      spy.mockRestore();
    }
  }

  it.each(['close', 'unsubscribe'] as const)('a client end that goes away (%s) mid-stream: the one-line server cancels its handler and completes', async (how) => {
    // Before, the server only saw its input complete: the streamed reply went on for ever under no
    // credit, every value dropped by the wire, the handler never cancelled, the server never done.
    const [a, b] = shm.pair({ bytes: 64 * 1024, prefault: false });
    const server = open(b, rpcCodec());
    let aborted = 0;
    let torn = 0;
    const served = server.pipe(
      serve(
        (_: number, signal: AbortSignal) => {
          signal.addEventListener('abort', () => aborted++);
          return interval(1).pipe(finalize(() => torn++));
        },
        { request: Num, reply: Num },
      ),
    );
    const serving = served.subscribe(server); // with nothing between, as the one-line server
    const wire = open(a, rpcCodec());
    const rpc = client(wire, { request: Num, reply: Num, timeout: Infinity });
    const got: number[] = [];
    const asked = request(rpc, 1).subscribe({ next: (n) => got.push(n), error: () => {} });
    await until(() => got.length >= 3);
    wire[how]();
    await until(() => torn === 1 && serving.closed);
    expect(aborted).toBe(1);
    expect(server.stats().dropped).toBeLessThan(2); // at most the value in flight as the reader left
    asked.unsubscribe();
    server.close();
  });

  it('a client that completes, and only later stops reading: the one-line server cancels a handler waiting for its signal, and completes', async () => {
    // Before, the server looked for a gone reader only when its input completed and when a streamed reply sent:
    // a STOP taken after the COMPLETE left a handler that waits for its signal (and the server) waiting for ever.
    const [a, b] = shm.pair({ bytes: 64 * 1024, prefault: false });
    const server = open(b, rpcCodec());
    let started = 0;
    let aborted = 0;
    let inputDone = false;
    const handler = (_: number, signal: AbortSignal) =>
      new Promise<number>((resolve) => {
        started++;
        signal.addEventListener('abort', () => resolve(aborted++));
      });
    const serving = server.pipe(tap({ complete: () => (inputDone = true) }), serve(handler, { request: Num, reply: Num })).subscribe(server);
    const wire = open(a, rpcCodec());
    const rpc = client(wire, { request: Num, reply: Num, timeout: Infinity });
    const asked = request(rpc, 1).subscribe({ error: () => {} });
    try {
      await until(() => started === 1);
      wire.complete();
      await until(() => inputDone);
      await tick(20);
      expect(serving.closed).toBe(false); // the client still reads: the handler's reply may still go
      wire.unsubscribe();
      await until(() => serving.closed, 5000);
      expect(aborted).toBe(1);
    } finally {
      asked.unsubscribe();
      serving.unsubscribe();
      wire.close();
      server.close();
    }
  });

  it('a client that sends requests and never reads the replies: the server stops reading while its replies wait, its memory bounded', async () => {
    // Before, a reply that waited for room went through the wire's `send`, which does not pause reading: the
    // server read every request, ran every handler and queued every reply (without bound, the client's pace).
    const [a, b] = shm.pair({ bytes: 4096, prefault: false });
    const server = open(b, rpcCodec());
    let handled = 0;
    const serving = server.pipe(serve((n: number) => (handled++, n), { request: Num, reply: Num })).subscribe(server);
    const wire = open(a, rpcCodec()); // never subscribed: nothing it is sent is read
    try {
      for (let id = 1; id <= 20_000; id++) wire.next(withBody(id, RpcKind.REQUEST, bodyOf(Num, id)));
      await until(() => handled > 0);
      let before = -1;
      while (handled !== before) {
        before = handled;
        await tick(50);
      }
      expect(server.stats().queued).toBeLessThan(1000); // what it read before the ring filled, not all 20 000
      expect(wire.stats().queued).toBeGreaterThan(15_000); // the client's own, waiting for the server to read
    } finally {
      serving.unsubscribe();
      wire.close();
      server.close();
    }
  });

  it('a server told to stop (its input ends) with a streamed reply a hundred times its maxQueue still sends it whole, at the wire\'s pace', async () => {
    // Before, the end of the input lifted the reply's credit and every waiting value went into the wire's `next`
    // at once: QueueFullError past maxQueue, and the wire ended for every request on it.
    const [a, b] = shm.pair({ bytes: 64 * 1024, prefault: false });
    const server = open(b, rpcCodec(), { maxQueue: 1000 });
    const serving = server.pipe(take(2), serve((n: number) => range(0, n), { request: Num, reply: Num })).subscribe(server); // SCHEMA, REQUEST
    const wire = open(a, rpcCodec());
    const rpc = client(wire, { request: Num, reply: Num, timeout: Infinity });
    try {
      let count = 0;
      let inOrder = true;
      await lastValueFrom(request(rpc, 100_000).pipe(tap((v) => (inOrder &&= v === count++))));
      expect([count, inOrder]).toEqual([100_000, true]);
      await until(() => serving.closed);
      expect(server.hasError).toBe(false);
    } finally {
      rpc.close();
      wire.close();
      server.close();
    }
  });

  it('a second serve on a wire already served straight is refused with a TypeError (each request would be answered twice)', () => {
    const [a, b] = shm.pair({ bytes: 64 * 1024, prefault: false });
    const server = open(b, rpcCodec());
    const first = server.pipe(serve((n: number) => n, { request: Num, reply: Num })).subscribe(server);
    try {
      let refused: unknown;
      const second = server.pipe(serve((n: number) => n, { request: Num, reply: Num })).subscribe({ next: (e) => server.next(e), error: (err) => (refused = err) });
      expect(refused).toBeUndefined(); // with an observer of its own, it is not "straight into the wire": it serves
      second.unsubscribe();
      server.pipe(serve((n: number) => n, { request: Num, reply: Num })).subscribe(server);
      expect(server.hasError).toBe(true); // the refusal reached the wire it was subscribed to
      expect(server.thrownError).toBeInstanceOf(TypeError);
    } finally {
      first.unsubscribe();
      server.close();
      open(a, rpcCodec()).close();
    }
  });

  it('with nothing between, a reply is encoded in place; with an operator between, it goes as bytes; both answer alike', async () => {
    for (const [between, expectInPlace] of [
      [undefined, true],
      [(o: Observable<RpcEnvelope>) => o.pipe(tap(() => {})), false],
    ] as const) {
      const { rpc, close } = pairUp(1 << 16, between);
      try {
        const answers: string[] = [];
        const inPlace = await repliesInPlace(async () => {
          for (const n of [0, 5, 150]) answers.push(await firstValueFrom(request(rpc, n)));
        });
        expect(answers).toEqual(['', 'r'.repeat(5), 'r'.repeat(150)]);
        expect(inPlace > 0).toBe(expectInPlace);
      } finally {
        close();
      }
    }
  });

  it('a reply that does not encode is an ERROR (RemoteError EncodeError) and the server goes on', async () => {
    const { rpc, close } = pairUp(1 << 16);
    try {
      const inPlace = await repliesInPlace(async () => {
        const bad = await failureOf<RemoteError>(request(rpc, 13));
        expect(bad).toBeInstanceOf(RemoteError);
        expect(bad.remoteName).toBe('EncodeError');
        expect(await firstValueFrom(request(rpc, 7))).toBe('r'.repeat(7));
      });
      expect(inPlace).toBe(2); // both went the direct way: the refused one wrote nothing, the next one did
    } finally {
      close();
    }
  });

  it('on a way too small for them, thousands of replies in flight all arrive, each to its request', async () => {
    const { rpc, close } = pairUp(4096);
    try {
      const ns = Array.from({ length: 3000 }, (_, i) => ((i * 7) % 400) || 1).filter((n) => n !== 13);
      const got = await Promise.all(ns.map((n) => firstValueFrom(request(rpc, n))));
      expect(got.every((s, i) => s === 'r'.repeat(ns[i] % 200))).toBe(true);
    } finally {
      close();
    }
  });

  it.each([4096, 16_384])('a handler error larger than a %i-byte ring carries is cut shorter: that request fails with it, not the wire', async (bytes) => {
    // Cut to 16 KiB only, it ended the server's wire (a record that can never fit the ring): every request failed.
    const [a, b] = shm.pair({ bytes, prefault: false });
    const server = open(b, rpcCodec());
    server
      .pipe(
        serve(
          (n: number) => {
            if (n < 0) throw new RangeError('y'.repeat(100_000));
            return n + 1;
          },
          { request: Num, reply: Num },
        ),
      )
      .subscribe(server);
    const wire = open(a, rpcCodec());
    const rpc = client(wire, { request: Num, reply: Num, timeout: 10_000 });
    try {
      expect(await lastValueFrom(request(rpc, 1))).toBe(2);
      const err = await failureOf<RemoteError>(request(rpc, -1));
      expect(err).toBeInstanceOf(RemoteError);
      expect(err.remoteName).toBe('RangeError');
      expect(err.message).toMatch(/^y+/);
      // Two failing at once, behind values: the way full, then each cut as it goes.
      const many = await Promise.all([-1, 5, -1, 6].map((n) => lastValueFrom(request(rpc, n)).then(String, (e: RemoteError) => e.remoteName)));
      expect(many).toEqual(['RangeError', '6', 'RangeError', '7']);
      expect(await lastValueFrom(request(rpc, 41))).toBe(42);
    } finally {
      rpc.close();
      wire.close();
      server.close();
    }
  });

  it('a reply larger than the wire carries fails that request with FrameError, not the wire — the way open or full', async () => {
    // It ended the server's wire: every later request failed with TransportClosedError.
    const [a, b] = shm.pair({ bytes: 1 << 16, prefault: false });
    const server = open(b, rpcCodec());
    server.pipe(serve((n: number) => Buffer.alloc(n, 7), { request: Num, reply: raw })).subscribe(server);
    const wire = open(a, rpcCodec());
    const rpc = client(wire, { request: Num, reply: raw, timeout: 10_000 });
    const outcome = (n: number) =>
      lastValueFrom(request(rpc, n)).then(
        (bytes) => bytes.length,
        (err: RemoteError) => err.remoteName,
      );
    try {
      expect(await outcome(1 << 20)).toBe('FrameError'); // the way open: refused by trySend
      // Two 40 KiB replies in one turn fill the 64 KiB way: the third waits, and then proves too large.
      expect(await Promise.all([40_000, 40_000, 1 << 20, 5].map(outcome))).toEqual([40_000, 40_000, 'FrameError', 5]);
      expect(await outcome(10)).toBe(10);
    } finally {
      rpc.close();
      wire.close();
      server.close();
    }
  });
});
