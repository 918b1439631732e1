/**
 * exchange: on real worker threads (process config) for routing and order,
 * and with two runtime contexts in this thread, linked by real rings and a
 * real MessageChannel, for the operator's standard cases.
 */
import { promises as fs } from 'node:fs';
import { MessageChannel } from 'node:worker_threads';
import { EMPTY, Observable, Subject, from, lastValueFrom, map, of, range, take, throwError, toArray } from 'rxjs';
import { Config, initialize } from '../../index';
import { codec } from '../../core/codec';
import { EncodeError, RemoteError, WorkerError } from '../../core/errors';
import { route } from '../../core/hash';
import { Peers, type WorkerContext } from '../../runtime/context';
import { meshOf } from '../../runtime/initialize';
import { exchange } from '../../operators/exchange';
import { liveThreads, threadsBackTo } from '../helpers';

const MODULE = `${__dirname}/../workers/runtime.worker.ts`;
const Num = codec('long');
const byValue = (n: number) => n;

let baseline = 0;
beforeAll(async () => {
  await fs.stat(__filename);
  baseline = liveThreads();
});

/** Two workers' contexts in this thread, linked as `initialize` links threads. */
function twoPeers(): [Peers, Peers] {
  const { port1, port2 } = new MessageChannel();
  return [new Peers(0, 2, [null, port1]), new Peers(1, 2, [port2, null])];
}

const contexts: Peers[] = [];
function peers(): [WorkerContext, WorkerContext] {
  const made = twoPeers();
  contexts.push(...made);
  return [made[0].asContext(), made[1].asContext()];
}

/** `n` workers' contexts in this thread, linked by `initialize`'s own mesh of MessageChannels. */
function nPeers(n: number): WorkerContext[] {
  const made = meshOf(n).map((ports, index) => new Peers(index, n, ports));
  contexts.push(...made);
  return made.map((p) => p.asContext());
}

afterEach(async () => {
  for (const context of contexts.splice(0)) context.dispose();
  await threadsBackTo(baseline);
});

describe('on worker threads', () => {
  test.each(['string', 'number'])('equal %s keys meet at one worker, in order per sender', async (keys) => {
    const count = 200;
    const keyCount = 50;
    const results = await initialize<[string, number[][]][]>(Config.process(4), MODULE, { mode: 'keys', keys, count, keyCount }).join();
    const owner = new Map<string, number>();
    results.forEach((perKey, index) => {
      for (const [key, perSender] of perKey) {
        expect(owner.has(key)).toBe(false); // a key lives at one worker only
        owner.set(key, index);
        const routedBy = keys === 'number' ? Number(key) : key;
        expect(index).toBe(route(routedBy, 4));
        // every sender's values of this key arrived, 0..count-1, in order
        for (const seqs of perSender) expect(seqs).toEqual([...Array(count).keys()]);
      }
    });
    expect(owner.size).toBe(keyCount);
    expect(new Set(owner.values()).size).toBeGreaterThan(1); // the keys spread over workers
  });

  test('thread config: every key stays at the one worker', async () => {
    const [perKey] = await initialize<[string, number[][]][][]>(Config.thread(), MODULE, { mode: 'keys', keys: 'string', count: 20, keyCount: 10 }).join();
    expect(perKey).toHaveLength(10);
    for (const [, perSender] of perKey) expect(perSender).toEqual([[...Array(20).keys()]]);
  });

  test('join() names the worker whose exchange failed, not a peer that was passed its error', async () => {
    // Each peer fails with the error passed on (a RemoteError with the original's name): the first report won,
    // and a peer was named in about a third of runs. A peer's report now waits for the root cause.
    for (let round = 0; round < 4; round++) {
      const err = await initialize(Config.process(3), MODULE, { mode: 'bad-key-0' }).join().catch((e) => e);
      expect(err).toBeInstanceOf(WorkerError);
      expect([err.workerIndex, err.workerName, err.cause instanceof RemoteError]).toEqual([0, 'RangeError', false]);
    }
  });

  test('a worker whose exchange fails fails join() with WorkerError', async () => {
    const err = await initialize(Config.process(2), MODULE, { mode: 'bad-key' }).join().catch((e) => e);
    expect(err).toBeInstanceOf(WorkerError);
    expect(err.workerName).toBe('TypeError');
    expect(err.message).toContain('a key must be');
  });
});

describe('the operator in two contexts of this thread', () => {
  test('values are routed by key and both outputs complete', async () => {
    const [a, b] = peers();
    const outA = lastValueFrom(from([1, 2, 3, 4, 5, 6]).pipe(exchange({ worker: a, channel: 'n', codec: Num, key: byValue }), toArray()));
    const outB = lastValueFrom(from([10, 11, 12, 13]).pipe(exchange({ worker: b, channel: 'n', codec: Num, key: byValue }), toArray()));
    const [gotA, gotB] = await Promise.all([outA, outB]);
    for (const v of gotA) expect(route(v, 2)).toBe(0);
    for (const v of gotB) expect(route(v, 2)).toBe(1);
    expect([...gotA, ...gotB].sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 10, 11, 12, 13]);
  });

  test('empty sources complete both outputs', async () => {
    const [a, b] = peers();
    const out = await Promise.all([
      lastValueFrom(EMPTY.pipe(exchange({ worker: a, channel: 'n', codec: Num, key: byValue }), toArray())),
      lastValueFrom((EMPTY as Observable<number>).pipe(exchange({ worker: b, channel: 'n', codec: Num, key: byValue }), toArray())),
    ]);
    expect(out).toEqual([[], []]);
  });

  test('a key function that throws errors this output and reaches the peer as RemoteError', async () => {
    const [a, b] = peers();
    const boom = new RangeError('no key for 3');
    const keyA = (n: number) => {
      if (n === 3) throw boom;
      return n;
    };
    const outA = lastValueFrom(of(1, 2, 3, 4).pipe(exchange({ worker: a, channel: 'n', codec: Num, key: keyA })));
    const outB = lastValueFrom(new Subject<number>().pipe(exchange({ worker: b, channel: 'n', codec: Num, key: byValue })));
    await expect(outA).rejects.toBe(boom);
    const errB = await outB.catch((e) => e);
    expect(errB).toBeInstanceOf(RemoteError);
    expect(errB.remoteName).toBe('RangeError');
  });

  test('a value that does not fit, sent to a peer that has completed its side, errors this output with EncodeError', async () => {
    // The link's incoming side had ended (the peer completed), so the link's own error reached no one: this output
    // completed, the value and the rest routed that way dropped in silence, and the peer was blamed.
    const [a, b] = peers();
    const toB = [...Array(64).keys()].find((k) => route(k, 2) === 1)!;
    const bDone = lastValueFrom(EMPTY.pipe(exchange({ worker: b, channel: 'n', codec: Num, key: byValue }), toArray())).catch((e: unknown) => e);
    const source = new Subject<number>();
    const outA = lastValueFrom(source.pipe(exchange({ worker: a, channel: 'n', codec: Num, key: () => toB }), toArray()));
    await new Promise((resolve) => setTimeout(resolve, 50)); // b's completion has reached a
    source.next('x' as never);
    source.next(1);
    source.complete();
    await expect(outA).rejects.toBeInstanceOf(EncodeError);
    expect(await bDone).toBeInstanceOf(RemoteError); // told, as for any failure of this worker's side
  });

  test('three workers: a value of one that does not fit, routed to a second, errors the third too (it completed before)', async () => {
    // The failing link's own incoming side reported the error to this output first, whose teardown completed the
    // other senders before they could be errored: the third worker saw this one complete, its values lost unsaid.
    const [a, b, c] = nPeers(3);
    const toB = [...Array(64).keys()].find((k) => route(k, 3) === 1)!;
    const source = new Subject<number>();
    const outA = lastValueFrom(source.pipe(exchange({ worker: a, channel: 'n', codec: Num, key: () => toB }), toArray()));
    const outB = lastValueFrom(new Subject<number>().pipe(exchange({ worker: b, channel: 'n', codec: Num, key: byValue }), toArray())).catch((e: unknown) => e);
    const outC = lastValueFrom(new Subject<number>().pipe(exchange({ worker: c, channel: 'n', codec: Num, key: byValue }), toArray())).catch((e: unknown) => e);
    source.next(1);
    source.next('x' as never);
    await expect(outA).rejects.toBeInstanceOf(EncodeError);
    expect(await outB).toBeInstanceOf(RemoteError);
    expect(await outC).toBeInstanceOf(RemoteError);
  });

  test('maxQueue: undefined is the default here (Infinity): a synchronous burst of 150 000 to a peer is not refused at 65 536', async () => {
    const [a, b] = peers();
    const toB = [...Array(64).keys()].find((k) => route(k, 2) === 1)!;
    const outA = lastValueFrom(range(0, 150_000).pipe(exchange({ worker: a, channel: 'n', codec: Num, key: () => toB, maxQueue: undefined }), toArray()));
    const outB = lastValueFrom(EMPTY.pipe(exchange({ worker: b, channel: 'n', codec: Num, key: byValue }), toArray()));
    const [gotA, gotB] = await Promise.all([outA, outB]);
    expect([gotA.length, gotB.length]).toEqual([0, 150_000]);
  });

  test('a key that throws stops a synchronous source at once: the key is not called for the values after', async () => {
    const [a, b] = peers();
    let calls = 0;
    const key = (): number => {
      calls++;
      throw new RangeError('no key');
    };
    const outA = lastValueFrom(range(0, 1_000_000).pipe(exchange({ worker: a, channel: 'n', codec: Num, key })));
    const outB = lastValueFrom(EMPTY.pipe(exchange({ worker: b, channel: 'n', codec: Num, key: byValue }))).catch((e: unknown) => e);
    await expect(outA).rejects.toThrow('no key');
    expect(calls).toBe(1);
    expect(await outB).toBeInstanceOf(RemoteError);
  });

  test('a key that is not a value is a TypeError', async () => {
    const [a] = peers();
    const out = lastValueFrom(of({ id: 1 }).pipe(exchange({ worker: a, channel: 'n', codec: codec({ type: 'record', name: 'R', fields: [{ name: 'id', type: 'int' }] } as const), key: (r) => r as never })));
    await expect(out).rejects.toThrow(TypeError);
  });

  test('a source error errors this output and reaches the peer', async () => {
    const [a, b] = peers();
    const outA = lastValueFrom(throwError(() => new Error('source broke')).pipe(exchange({ worker: a, channel: 'n', codec: Num, key: byValue })));
    const outB = lastValueFrom(EMPTY.pipe(exchange({ worker: b, channel: 'n', codec: Num, key: byValue }), toArray()));
    await expect(outA).rejects.toThrow('source broke');
    await expect(outB).rejects.toBeInstanceOf(RemoteError);
  });

  test('unsubscribing early completes this worker’s side: the peer still finishes', async () => {
    const [a, b] = peers();
    const source = new Subject<number>();
    const seen: number[] = [];
    const sub = source.pipe(exchange({ worker: a, channel: 'n', codec: Num, key: byValue })).subscribe((v) => seen.push(v));
    const outB = lastValueFrom(of(100).pipe(exchange({ worker: b, channel: 'n', codec: Num, key: () => 0 }), toArray()));
    source.next(1);
    sub.unsubscribe();
    // b gets what a sent before leaving, then completion, because a's senders completed on unsubscribe.
    const gotB = await outB;
    expect(gotB.every((v) => route(v, 2) === 1 || v === 100)).toBe(true);
  });

  test('an error downstream of exchange that fails the worker reaches the peer as that failure, not as this side completing', async () => {
    // The error unsubscribed exchange, whose teardown completed every sender at once: the runtime's error of the
    // worker's failure (Peers.finish) then had nothing left to end, and the peer finished with a partial result.
    const [pa, pb] = twoPeers();
    contexts.push(pa, pb);
    const boom = new RangeError('downstream broke');
    const outA = lastValueFrom(
      new Subject<number>().pipe(
        exchange({ worker: pa.asContext(), channel: 'n', codec: Num, key: byValue }),
        map(() => {
          throw boom;
        }),
      ),
    ).catch((err: unknown) => {
      pa.finish({ error: err }); // as the runtime does when the worker's function fails with it
      return err;
    });
    const outB = lastValueFrom(of(1, 2, 3, 4).pipe(exchange({ worker: pb.asContext(), channel: 'n', codec: Num, key: () => 0 }), toArray())).catch((e: unknown) => e);
    expect(await outA).toBe(boom);
    const errB = await outB;
    expect(errB).toBeInstanceOf(RemoteError);
    expect((errB as RemoteError).message).toContain('downstream broke');
  });

  test('a synchronous source stopped by take', async () => {
    const [a, b] = peers();
    const outA = lastValueFrom(from([1, 2, 3, 4, 5, 6, 7, 8]).pipe(exchange({ worker: a, channel: 'n', codec: Num, key: () => 'all-here' }), take(3), toArray()));
    const outB = lastValueFrom(EMPTY.pipe(exchange({ worker: b, channel: 'n', codec: Num, key: byValue }), toArray()));
    const target = route('all-here', 2);
    const [gotA, gotB] = await Promise.all([outA, outB]);
    if (target === 0) expect(gotA).toEqual([1, 2, 3]);
    else expect(gotB).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  test('allocate checks every option before it makes a link: a refused one leaves nothing, and a retry with good ones carries values', () => {
    // Worker 1 made its link to worker 0 before its own ring refused the size: the retry of the channel failed.
    const [a, b] = peers();
    for (const [options, refusal] of [
      [{ bytes: 100_000 }, /allocate: options.bytes must be a power of two/],
      [{ spinMicros: Infinity }, /allocate: options.spinMicros/],
      [{ wait: 'bogus' }, /allocate: options.wait/],
      [{ maxQueue: -1 }, /allocate: options.maxQueue/],
      [{ transport: 'port', wait: 'spin' }, /for transport 'shm' only/],
      [{ transport: 'port', bytes: 0 }, /allocate: options.bytes must be a positive integer/],
    ] as const) {
      expect(() => b.allocate('x', Num, options as never)).toThrow(refusal);
    }
    const fromA = a.allocate('x', Num, { bytes: 4096 });
    const fromB = b.allocate('x', Num, { bytes: 4096 });
    const got = lastValueFrom(fromA.receiver.pipe(take(1)));
    fromB.senders[0].next(42);
    return expect(got).resolves.toBe(42);
  });

  test('the same channel twice in one worker is refused', async () => {
    const [a] = peers();
    lastValueFrom(EMPTY.pipe(exchange({ worker: a, channel: 'n', codec: Num, key: byValue }))).catch(() => {});
    await expect(lastValueFrom(EMPTY.pipe(exchange({ worker: a, channel: 'n', codec: Num, key: byValue })))).rejects.toThrow(/already allocated/);
  });
});

describe('options are checked at the door', () => {
  // The door looks at the options only: nothing is allocated before subscribe.
  const allocate = () => {
    throw new Error('allocated at the door');
  };
  const worker = { index: 0, peers: 1, allocate } as unknown as WorkerContext;
  const good = () => ({ worker, channel: 'n', codec: Num, key: byValue });
  const cases: [string, unknown, RegExp][] = [
    ['no options', undefined, /exchange: options/],
    ['worker missing', { ...good(), worker: undefined }, /options\.worker/],
    ['worker not a context', { ...good(), worker: {} }, /options\.worker/],
    ['channel an object', { ...good(), channel: {} }, /options\.channel/],
    ['codec a schema, not a codec', { ...good(), codec: 'long' }, /options\.codec/],
    ['codec missing', { ...good(), codec: undefined }, /options\.codec/],
    ['key not a function', { ...good(), key: 'id' }, /options\.key/],
  ];
  test.each(cases)('%s: TypeError naming it, before any subscribe', (_, options, message) => {
    expect(() => exchange(options as never)).toThrow(TypeError);
    expect(() => exchange(options as never)).toThrow(message);
  });

  test('a good options object is taken without allocating anything', () => {
    expect(typeof exchange(good())).toBe('function');
  });
});
