/**
 * stage on real worker threads: values through 1 and N workers, ordered and
 * unordered output, keyed routing, worker state, failures, early
 * unsubscribe, bad options; no thread outlives a test.
 */
import { promises as fs } from 'node:fs';
import { concat, EMPTY, firstValueFrom, from, interval, lastValueFrom, map, Observable, of, range, scan, Subject, take, tap, throwError, toArray } from 'rxjs';
import { codec, raw, type Codec } from '../../core/codec';
import { EncodeError, FrameError, WorkerError } from '../../core/errors';
import { keyHash } from '../../core/hash';
import { stage, type StageOptions } from '../../operators/stage';
import { LAST_VALUES_MS } from '../../operators/stage-internals';
import { NAMES_CASES } from '../fixtures/names';
import { N, Tagged } from '../workers/stage-map.worker';
import { liveThreads, threadsBackTo } from '../helpers';

const worker = (name: string) => `${__dirname}/../workers/stage-${name}.worker.ts`;
const MAP = worker('map');
const io = { input: N, output: Tagged };
let baseline = 0;

beforeAll(async () => {
  await fs.stat(__filename); // start libuv's pool, so the thread baseline is stable
  baseline = liveThreads();
});

afterEach(async () => {
  await threadsBackTo(baseline);
});

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (err: unknown) => err,
  );
}

describe('values', () => {
  test.each([1, 4])('a map on %i worker(s), in order', async (workers) => {
    const out = await lastValueFrom(range(0, 2000).pipe(stage(MAP, { ...io, workers }), toArray()));
    expect(out.map((t) => [t.n, t.value])).toEqual([...Array(2000).keys()].map((n) => [n, n * 2]));
    expect(new Set(out.map((t) => t.thread)).size).toBeLessThanOrEqual(workers);
  });

  test('ordered with 4 workers and random busy work: results in input order, work spread over workers', async () => {
    const out = await lastValueFrom(range(0, 400).pipe(stage(worker('busy'), { ...io, workers: 4, inFlight: 16 }), toArray()));
    expect(out.map((t) => t.n)).toEqual([...Array(400).keys()]);
    expect(out.every((t) => t.value === t.n * 2)).toBe(true);
    expect(new Set(out.map((t) => t.thread)).size).toBeGreaterThan(1);
  });

  test('unordered gives the same multiset', async () => {
    const out = await lastValueFrom(range(0, 400).pipe(stage(worker('busy'), { ...io, workers: 4, ordered: false }), toArray()));
    expect(out.map((t) => t.n).sort((a, b) => a - b)).toEqual([...Array(400).keys()]);
    expect(out.every((t) => t.value === t.n * 2)).toBe(true);
  });

  test.each(NAMES_CASES)('$name: a codec with a type in no namespace nested in a namespaced record (the worker failed: duplicate type name, a mismatch)', async ({ writer, value }) => {
    const C = codec(writer as never) as unknown as Codec<object>;
    expect(await lastValueFrom(of(value, value).pipe(stage(worker('echo'), { input: C, output: C }), toArray()))).toEqual([value, value]);
  });

  test('inFlight 1 still gets every value through, in order', async () => {
    const out = await lastValueFrom(range(0, 200).pipe(stage(MAP, { ...io, workers: 3, inFlight: 1 }), toArray()));
    expect(out.map((t) => t.n)).toEqual([...Array(200).keys()]);
  });

  test('key: each key at one worker, per-key order kept (unordered output)', async () => {
    const keyOf = (n: number) => `k${n % 7}`;
    const out = await lastValueFrom(
      range(0, 700).pipe(stage(worker('busy'), { ...io, workers: 4, ordered: false, key: keyOf }), toArray()),
    );
    expect(out).toHaveLength(700);
    const threadsOfKey = new Map<string, Set<number>>();
    const seenOfKey = new Map<string, number[]>();
    for (const t of out) {
      const k = keyOf(t.n);
      threadsOfKey.set(k, (threadsOfKey.get(k) ?? new Set()).add(t.thread));
      seenOfKey.set(k, [...(seenOfKey.get(k) ?? []), t.n]);
    }
    for (const [k, threads] of threadsOfKey) expect([k, threads.size]).toEqual([k, 1]);
    for (const [k, seen] of seenOfKey) expect([k, seen]).toEqual([k, [...seen].sort((a, b) => a - b)]);
    // Keys that hash to one worker share its thread; keys that hash apart do not.
    const byWorker = new Map<number, Set<number>>();
    for (const [k, threads] of threadsOfKey) {
      const w = keyHash(k) % 4;
      byWorker.set(w, new Set([...(byWorker.get(w) ?? []), ...threads]));
    }
    for (const threads of byWorker.values()) expect(threads.size).toBe(1);
    expect(new Set([...byWorker.values()].map((s) => [...s][0])).size).toBe(byWorker.size);
  });

  test('a stateful scan in one worker equals the same scan here', async () => {
    const inputs = [...Array(500).keys()].map((n) => (n * 7919) % 1000);
    const out = await lastValueFrom(from(inputs).pipe(stage(worker('scan'), { input: N, output: N }), toArray()));
    const here = await lastValueFrom(from(inputs).pipe(scan((sum, n) => sum + n, 0), toArray()));
    expect(out).toEqual(here);
  });

  test('filter and a synchronous mergeMap (fewer and more outputs than inputs), ordered on 4 workers', async () => {
    const out = await lastValueFrom(range(0, 300).pipe(stage(worker('filter'), { input: N, output: N, workers: 4 }), toArray()));
    const expected = [...Array(300).keys()].filter((n) => n % 3 === 0).flatMap((n) => [n, 1000 + n]);
    expect(out).toEqual(expected);
  });

  test('ordered: an output before the first input comes first, one after the input completed comes last', async () => {
    const out = await lastValueFrom(range(0, 50).pipe(stage(worker('tail'), { input: N, output: N, workers: 2 }), toArray()));
    expect(out).toEqual([-1, -1, ...Array(50).keys(), 25, 25]);
  });

  test('asynchronous outputs (a delay in the worker) all arrive, ordered per worker, and the stream completes', async () => {
    const out = await lastValueFrom(range(0, 200).pipe(stage(worker('delay'), { input: N, output: N, workers: 2 }), toArray()));
    expect([...out].sort((a, b) => a - b)).toEqual([...Array(200).keys()]);
  });

  test('raw codecs carry bytes', async () => {
    const out = await lastValueFrom(
      from([new Uint8Array([1, 2]), Buffer.from([3])]).pipe(stage(worker('echo'), { input: raw, output: raw }), toArray()),
    );
    expect(out.map((b) => [...b])).toEqual([[1, 2], [3]]);
    // Bytes in another kind of view are refused as raw refuses them, not read as their underlying bytes.
    for (const bad of [new Uint16Array([1, 2]), new DataView(new ArrayBuffer(4))]) {
      const err = await failure(lastValueFrom(from([bad as never]).pipe(stage(worker('echo'), { input: raw, output: raw }), toArray())));
      expect(err).toBeInstanceOf(EncodeError);
      expect((err as Error).message).toContain('expected Uint8Array');
    }
  });

  test('a worker operator that completes early takes no more inputs; all of them completing completes the output', async () => {
    const one = await lastValueFrom(range(0, 100).pipe(stage(worker('take'), { input: N, output: N }), toArray()));
    expect(one).toEqual([0, 1, 2]);
    // An endless source: the output completes once both workers' operators have, and the source is dropped.
    const two = await lastValueFrom(interval(1).pipe(stage(worker('take'), { input: N, output: N, workers: 2 }), toArray()));
    expect(two).toHaveLength(6);
    expect(two).toEqual([...two].sort((a, b) => a - b));
  });

  test('an empty source completes', async () => {
    const out = await lastValueFrom(EMPTY.pipe(stage(MAP, { ...io, workers: 2 }), toArray()));
    expect(out).toEqual([]);
  });
});

describe('failures', () => {
  test("a worker's operator that throws errors the stream with WorkerError naming the worker", async () => {
    const err = await failure(lastValueFrom(range(0, 10).pipe(stage(worker('throw'), { input: N, output: N }), toArray())));
    expect(err).toBeInstanceOf(WorkerError);
    expect((err as WorkerError).workerIndex).toBe(0);
    expect((err as WorkerError).message).toContain('bad input 3');
    expect((err as WorkerError).workerName).toBe('BadInput');
  });

  test('with 4 workers, the failing worker is the one named', async () => {
    // Input 3 goes to worker keyHash(3) % 4 under a key of the value itself.
    const err = await failure(lastValueFrom(range(0, 10).pipe(stage(worker('throw'), { input: N, output: N, workers: 4, key: (n) => n }), toArray())));
    expect(err).toBeInstanceOf(WorkerError);
    expect((err as WorkerError).workerIndex).toBe(keyHash(3) % 4);
  });

  test('a worker thread that dies errors the stream with WorkerError naming the worker', async () => {
    const err = await failure(lastValueFrom(range(0, 10).pipe(stage(worker('exit'), { input: N, output: N, workers: 2, key: () => 'one' }), toArray())));
    expect(err).toBeInstanceOf(WorkerError);
    expect((err as WorkerError).workerIndex).toBe(keyHash('one') % 2);
  });

  test('an output that does not fit the output codec is a WorkerError', async () => {
    const Str = codec('string');
    const err = await failure(lastValueFrom(range(0, 3).pipe(stage(MAP, { input: N, output: Str as never }), toArray())));
    expect(err).toBeInstanceOf(WorkerError);
    expect((err as WorkerError).workerName).toBe('EncodeError');
  });

  test('a module without a default operator is a WorkerError', async () => {
    const err = await failure(lastValueFrom(range(0, 3).pipe(stage(`${__dirname}/../workers/no-default.worker.ts`, { input: N, output: N }), toArray())));
    expect(err).toBeInstanceOf(WorkerError);
  });

  test('an input that does not fit the input codec errors the stream with EncodeError', async () => {
    const err = await failure(lastValueFrom(from([1, 2, 'three' as never, 4]).pipe(stage(MAP, { ...io, workers: 2 }), toArray())));
    expect(err).toBeInstanceOf(EncodeError);
  });

  test.each([true, false])('the outputs of one input larger than a ring are sent in parts (ordered: %s)', async (ordered) => {
    // Before, all of one input's outputs went as one record: past the ring, FrameError and nothing delivered.
    const out = await lastValueFrom(of(100_000, 5, 100_000).pipe(stage(worker('fan'), { input: N, output: N, workers: 2, ordered }), toArray()));
    const expected = [...Array(100_000).keys(), 0, 1, 2, 3, 4, ...Array(100_000).keys()];
    if (ordered) expect(out).toEqual(expected);
    else expect(out.length).toBe(expected.length);
  });

  test('an input that does not fit stops a synchronous source at once: it is not run to its end', async () => {
    let pulled = 0;
    const endless = new Observable<number>((subscriber) => {
      while (!subscriber.closed && pulled < 1_000_000) subscriber.next(pulled++ === 0 ? ('x' as never) : 1);
    });
    const err = await failure(lastValueFrom(endless.pipe(stage(MAP, { ...io, workers: 2 }), toArray())));
    expect(err).toBeInstanceOf(EncodeError);
    expect(pulled).toBe(1);
  });

  test.each([[1024], [3000]])('an input that does not fit, after %i others (it waited its turn), is still EncodeError, not a WorkerError', async (before) => {
    // Once it had waited behind the in-flight limit, the worker's side of the way down was over: the worker,
    // told of the failure, failed first, and the input's error came out as a WorkerError blaming it.
    const err = await failure(lastValueFrom(concat(range(0, before), of('x' as unknown as number), range(0, 10)).pipe(stage(MAP, { ...io, workers: 2 }), toArray())));
    expect(err).toBeInstanceOf(EncodeError);
    const big = await failure(
      lastValueFrom(concat(range(0, 2000).pipe(map(() => new Uint8Array(8))), of(new Uint8Array(4000))).pipe(stage(worker('echo'), { input: raw, output: raw, bytes: 1024 }), toArray())),
    );
    expect(big).toBeInstanceOf(FrameError);
  });

  test('an input that does not fit, sent once the worker runs, errors the stream with EncodeError, even when its operator catches its input errors', async () => {
    // The worker completes its side of the way down at start, so that wire's own error reached no one here; the
    // worker saw its input fail, and an operator that catches that (catchError) completed the stream short, in silence.
    const source = new Subject<number>();
    let first = true;
    const out = source.pipe(stage(`${__dirname}/../workers/pipeline-forgiving.worker.ts`, { input: N, output: N }), tap(() => {
      if (!first) return;
      first = false; // the first value has been through: the worker runs
      source.next('x' as never);
      source.next(3);
      source.complete();
    }));
    const ended = failure(lastValueFrom(out.pipe(toArray())));
    source.next(1);
    expect(await ended).toBeInstanceOf(EncodeError);
  });

  test('an operator that never completes and holds nothing open: every value it sent, then a WorkerError that says so, not a hang', async () => {
    // The crew's news of the exit came before the ring was read, in about half the runs: values were lost.
    const got: number[] = [];
    const err = await failure(lastValueFrom(range(0, 50).pipe(stage(worker('never'), { input: N, output: N, workers: 2, ordered: false }), tap((v) => got.push(v)))));
    expect(err).toBeInstanceOf(WorkerError);
    expect((err as Error).message).toContain('exited with code 0 while its work was unfinished: nothing was left to run'); // it said only "exited with code 0"
    expect(got.sort((a, b) => a - b)).toEqual([...Array(50).keys()]);
  });

  test('the same, one worker not run for 1.5 s (a loaded machine): the other has ended long before, and its values still all come', async () => {
    // The failure gave the other workers 500 ms from the first one's end: CI lost every value of the later one.
    const got: number[] = [];
    const err = await failure(lastValueFrom(range(0, 50).pipe(stage(worker('never-slow'), { input: N, output: N, workers: 2, ordered: false }), tap((v) => got.push(v)))));
    expect(err).toBeInstanceOf(WorkerError);
    expect(got.sort((a, b) => a - b)).toEqual([...Array(50).keys()]);
  });

  test('an operator that throws, unordered: the outputs before the throw, then its WorkerError', async () => {
    for (let run = 0; run < 4; run++) {
      const got: number[] = [];
      const err = await failure(lastValueFrom(range(0, 4).pipe(stage(worker('throw'), { input: N, output: N, ordered: false }), tap((v) => got.push(v)))));
      expect((err as WorkerError).workerName).toBe('BadInput');
      expect(got).toEqual([0, 1, 2]);
    }
  });

  test.each([
    ['throws', 'throw', 3],
    ['exits', 'exit', 2],
  ])('a worker that %s once it is up: its WorkerError comes as its up wire ends, not after the LAST_VALUES_MS fallback', async (_, name, at) => {
    // The worker's ERROR (or its exit) ended its up wire before the crew's report came: the failure then
    // waited for an ending that had already happened, and came out LAST_VALUES_MS (5 s) late. Not a speed
    // check: the fallback is the only way the error could take that long.
    const started = performance.now();
    const got: number[] = [];
    const err = await failure(
      lastValueFrom(
        interval(100).pipe(
          take(at + 1),
          stage(worker(name), { input: N, output: N }),
          tap((v) => got.push(v)),
        ),
      ),
    );
    expect(err).toBeInstanceOf(WorkerError);
    expect(got).toEqual([...Array(at).keys()]);
    expect(performance.now() - started).toBeLessThan(LAST_VALUES_MS - 1000);
  });

  test('a thread that calls process.exit: what it sent in that very turn, then its WorkerError', async () => {
    const got: number[] = [];
    const err = await failure(lastValueFrom(range(0, 10).pipe(stage(worker('quit'), { input: N, output: N, ordered: false }), tap((v) => got.push(v)))));
    expect(err).toBeInstanceOf(WorkerError);
    expect((err as Error).message).toContain('or it called process.exit(0)'); // it spoke of an event loop run out alone
    expect(got).toEqual([...Array(10).keys(), ...Array.from({ length: 10 }, (_, i) => 100 + i)]);
  });

  test('a thread that crashes from a timer: what it sent in that very turn, then its WorkerError', async () => {
    // Written into the ring but not yet published (that waits for the turn's end) when the thread died.
    const got: number[] = [];
    const err = await failure(lastValueFrom(range(0, 10).pipe(stage(worker('crash'), { input: N, output: N, ordered: false }), tap((v) => got.push(v)))));
    expect((err as WorkerError).message).toContain('crash in a timer');
    expect(got).toEqual([...Array(10).keys(), ...Array.from({ length: 10 }, (_, i) => 100 + i)]);
  });

  test("an input that does not fit names the user's own type and field, not the stage's envelope", async () => {
    const Point = codec({ type: 'record', name: 'Point', fields: [{ name: 'x', type: 'int' }, { name: 'y', type: 'int' }] } as const);
    const bad = { x: 1, y: 'two' } as never;
    const err = await failure(lastValueFrom(from([{ x: 0, y: 0 }, bad]).pipe(stage(worker('echo'), { input: Point, output: Point }), toArray())));
    expect(err).toBeInstanceOf(EncodeError);
    expect(err).toMatchObject({ path: 'Point.y', expected: 'int', actual: 'two' });
    expect((err as Error).message).not.toMatch(/RxwireStage/);
  });

  test('an input too large for the ring errors the stream with FrameError', async () => {
    const err = await failure(lastValueFrom(from([new Uint8Array(4000)]).pipe(stage(worker('echo'), { input: raw, output: raw, bytes: 1024 }), toArray())));
    expect(err).toBeInstanceOf(FrameError);
  });

  test('a source error propagates as is', async () => {
    const boom = new Error('boom');
    const err = await failure(lastValueFrom(concat(range(0, 5), throwError(() => boom)).pipe(stage(MAP, { ...io, workers: 2 }), toArray())));
    expect(err).toBe(boom);
  });

  test('a key function that throws errors the stream with its error', async () => {
    const bad = new TypeError('no key');
    const key = (n: number) => {
      if (n === 4) throw bad;
      return n;
    };
    const err = await failure(lastValueFrom(range(0, 10).pipe(stage(MAP, { ...io, workers: 2, key }), toArray())));
    expect(err).toBe(bad);
  });
});

describe('unsubscribing', () => {
  test('take(5) from a long source ends the workers', async () => {
    const out = await lastValueFrom(interval(1).pipe(stage(MAP, { ...io, workers: 4 }), take(5), toArray()));
    expect(out.map((t) => t.n)).toEqual([0, 1, 2, 3, 4]);
  });

  test('take(5) from a synchronous source of 100000 values ends the workers', async () => {
    const out = await lastValueFrom(range(0, 100_000).pipe(stage(MAP, { ...io, workers: 2 }), take(5), toArray()));
    expect(out.map((t) => t.n)).toEqual([0, 1, 2, 3, 4]);
  });

  test('unsubscribing while values are in flight ends the workers', async () => {
    const source = new Subject<number>();
    const seen: number[] = [];
    const sub = source.pipe(stage(worker('busy'), { ...io, workers: 3 })).subscribe((t) => seen.push(t.n));
    for (let n = 0; n < 100; n++) source.next(n);
    await firstValueFrom(interval(20));
    sub.unsubscribe();
    expect(seen).toEqual([...Array(seen.length).keys()]); // what came out came in order
  });
});

describe('options are checked at the door', () => {
  const cases: [string, unknown, unknown, RegExp][] = [
    ['workers 0', MAP, { ...io, workers: 0 }, /options\.workers/],
    ['workers 1e9', MAP, { ...io, workers: 1e9 }, /options\.workers must be at most 1024/],
    ['workers 1.5', MAP, { ...io, workers: 1.5 }, /options\.workers/],
    ['no input codec', MAP, { output: Tagged }, /options\.input/],
    ['output not a codec', MAP, { input: N, output: { type: 'long' } }, /options\.output/],
    ['inFlight 0', MAP, { ...io, inFlight: 0 }, /options\.inFlight/],
    ['ordered not a boolean', MAP, { ...io, ordered: 'yes' }, /options\.ordered/],
    ['key not a function', MAP, { ...io, key: 'n' }, /options\.key/],
    ['bytes not a power of two', MAP, { ...io, bytes: 1000 }, /options\.bytes/],
    ['module a number', 42, io, /module/],
    ['no options', MAP, undefined, /options/],
  ];
  test.each(cases)('%s', (_, module, options, message) => {
    const before = liveThreads();
    expect(() => stage(module as string, options as StageOptions<number, Tagged>)).toThrow(message);
    expect(liveThreads()).toBe(before);
  });

  test('RangeError for a number out of range, TypeError for a wrong type', () => {
    expect(() => stage(MAP, { ...io, workers: -1 })).toThrow(RangeError);
    expect(() => stage(MAP, { ...io, inFlight: 0 })).toThrow(RangeError);
    // The wrong type is a TypeError (it was a RangeError), a URL other than file: is refused here (not at subscribe).
    for (const wrong of [{ inFlight: '4' }, { inFlight: null }, { workers: '2' }, { bytes: '4096' }]) expect(() => stage(MAP, { ...io, ...(wrong as object) })).toThrow(/must be a number/);
    expect(() => stage(new URL('http://example.com/w.js'), io)).toThrow(TypeError);
    expect(() => stage(new URL(`file://${MAP}`), io)).not.toThrow();
    expect(() => stage(MAP, { output: Tagged } as never)).toThrow(TypeError);
  });

  test('nothing starts before subscribe', () => {
    const before = liveThreads();
    range(0, 3).pipe(stage(MAP, io), map((t) => t.n));
    expect(liveThreads()).toBe(before);
  });
});
