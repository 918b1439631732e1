/**
 * pipeline on real worker threads: a 3-step chain equals the same operators
 * here, values do not come back here between steps, completion and failures
 * travel down the chain, early unsubscribe; no thread outlives a test.
 */
import { promises as fs } from 'node:fs';
import { BroadcastChannel } from 'node:worker_threads';
import { concat, EMPTY, from, interval, lastValueFrom, map, Observable, of, range, Subject, take, takeUntil, tap, throwError, toArray } from 'rxjs';
import { EncodeError, FrameError, WorkerError } from '../../core/errors';
import { raw } from '../../core/codec';
import { WireSubject } from '../../core/wire-subject';
import { pipeline, step, type Step } from '../../operators/pipeline';
import { N } from '../workers/stage-map.worker';
import { keep, Kept, Line, parse, Parsed, total, Total } from '../workers/pipeline-parse.worker';
import { liveThreads, threadsBackTo } from '../helpers';

const worker = (name: string) => `${__dirname}/../workers/${name}.worker.ts`;
const parseStep = step(worker('pipeline-parse'), { input: Line, output: Parsed });
const keepStep = step(worker('pipeline-keep'), { input: Parsed, output: Kept });
const totalStep = step(worker('pipeline-total'), { input: Kept, output: Total });
const lines = (count: number) => range(0, count).pipe(map((n) => `line ${n}`));
let baseline = 0;

beforeAll(async () => {
  await fs.stat(__filename); // start libuv's pool, so the thread baseline is stable
  baseline = liveThreads();
});

afterEach(async () => {
  jest.restoreAllMocks();
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
  test('parse → filter → running total over 20000 lines through 4 KiB rings equals the same operators here', async () => {
    // Small rings: every ring laps about a hundred times and every step is
    // held back by the next one again and again (more wraps and more
    // backpressure than 100,000 lines through the default 256 KiB gave, at a
    // fifth of the work on two cores).
    const small = <I, O>(s: Step<I, O>) => step(s.module, { input: s.input, output: s.output, bytes: 1 << 12 });
    const chain = pipeline(small(parseStep), small(keepStep), small(totalStep));
    const out = await lastValueFrom(lines(20_000).pipe(chain, toArray()));
    const here = await lastValueFrom(lines(20_000).pipe(parse, keep, total, toArray()));
    expect(out).toHaveLength(here.length);
    expect(out).toEqual(here);
  });

  test('values do not come back to this thread between steps: it reads only the last ring', async () => {
    const delivered: unknown[] = [];
    const deliver = (WireSubject.prototype as unknown as { deliver(values: unknown[]): void }).deliver;
    jest.spyOn(WireSubject.prototype as unknown as { deliver(values: unknown[]): void }, 'deliver').mockImplementation(function (
      this: unknown,
      values: unknown[],
    ) {
      delivered.push(...values);
      return deliver.call(this, values);
    });
    const out = await lastValueFrom(lines(3000).pipe(pipeline(parseStep, keepStep, totalStep), toArray()));
    expect(out).toHaveLength(2000);
    // One envelope per input arrives here, and each step's ready mark (3000 + 3; through this
    // thread at every link it would be about 3 × 3000), carrying Totals only: no Parsed or Kept
    // record is ever decoded in this thread.
    expect(delivered.length).toBeGreaterThan(0);
    expect(delivered.length).toBeLessThanOrEqual(3000 + 3);
    const carried = delivered.flatMap((envelope) => (envelope as { values: unknown[] }).values);
    expect(carried).toEqual(out);
    expect(carried.every((v) => Object.keys(v as object).sort().join() === 'n,total')).toBe(true);
  });

  test('one step works as a single-worker stage', async () => {
    const out = await lastValueFrom(from(['line 4', 'line 2']).pipe(pipeline(parseStep), toArray()));
    expect(out).toEqual([
      { n: 4, text: 'line 4' },
      { n: 2, text: 'line 2' },
    ]);
  });

  test('an empty source completes', async () => {
    const out = await lastValueFrom(EMPTY.pipe(pipeline(parseStep, keepStep, totalStep), toArray()));
    expect(out).toEqual([]);
  });

  test('a middle step that completes early (take) completes the output, and an endless source is dropped', async () => {
    const take3 = step(worker('stage-take'), { input: N, output: N });
    const echo = step(worker('stage-echo'), { input: N, output: N });
    const out = await lastValueFrom(interval(1).pipe(pipeline(echo, take3, echo), toArray()));
    expect(out).toEqual([0, 1, 2]);
  });

  test('asynchronous outputs of a step (a delay) reach the next step and the end', async () => {
    const delayed = step(worker('stage-delay'), { input: N, output: N });
    const echo = step(worker('stage-echo'), { input: N, output: N });
    const out = await lastValueFrom(range(0, 200).pipe(pipeline(echo, delayed, echo), toArray()));
    expect([...out].sort((a, b) => a - b)).toEqual([...Array(200).keys()]);
  });
});

describe('failures', () => {
  test("a step's operator that throws errors the stream with WorkerError naming that step", async () => {
    const throwing = step(worker('pipeline-throw'), { input: Parsed, output: Kept });
    const err = await failure(lastValueFrom(lines(100).pipe(pipeline(parseStep, throwing, totalStep), toArray())));
    expect(err).toBeInstanceOf(WorkerError);
    expect((err as WorkerError).workerIndex).toBe(1);
    expect((err as WorkerError).workerName).toBe('BadStep');
    expect((err as WorkerError).message).toContain('bad step at 7');
  });

  test('a step whose thread dies errors the stream with WorkerError naming that step', async () => {
    const echo = step(worker('stage-echo'), { input: N, output: N });
    const exit = step(worker('stage-exit'), { input: N, output: N });
    const err = await failure(lastValueFrom(range(0, 10).pipe(pipeline(echo, echo, exit, echo), toArray())));
    expect(err).toBeInstanceOf(WorkerError);
    expect((err as WorkerError).workerIndex).toBe(2);
  });

  test('a step whose thread dies before the next step has loaded: what it sent for its inputs comes out first', async () => {
    // Before, a step read its inputs before the next step accepted its way up: what it sent waited in its own
    // memory, and died with its thread (no value came out).
    const exit = step(worker('stage-exit'), { input: N, output: N });
    const slow = step(worker('pipeline-slow-import'), { input: N, output: N });
    const got: unknown[] = [];
    const err = await failure(lastValueFrom(range(0, 10).pipe(pipeline(exit, slow), tap((v) => got.push(v)))));
    expect([(err as WorkerError).workerIndex, got]).toEqual([0, [0, 1]]);
  });

  describe('what a failing step sent before its failure comes out first', () => {
    // The crew's news of the failure came before the chain's last ring was read: values were lost.
    const echo = step(worker('stage-echo'), { input: N, output: N });
    const got: number[] = [];
    beforeEach(() => (got.length = 0));
    const outcome = (...steps: Step<number, number>[]) => (source: Observable<number>) =>
      failure(lastValueFrom(source.pipe(pipeline(...steps), tap((v) => got.push(v as number))))) as Promise<WorkerError>;

    test('a step that never completes, whose thread runs out of work', async () => {
      const err = await outcome(echo, step(worker('stage-never'), { input: N, output: N }))(range(0, 50));
      expect(err.workerIndex).toBe(1);
      expect(got).toEqual([...Array(50).keys()]);
    });

    test('a step whose operator throws', async () => {
      const err = await outcome(echo, step(worker('stage-throw'), { input: N, output: N }), echo)(range(0, 4));
      expect([err.workerIndex, err.workerName]).toEqual([1, 'BadInput']);
      expect(got).toEqual([0, 1, 2]);
    });

    test('a step whose thread crashes from a timer, in the turn it sent values', async () => {
      const err = await outcome(echo, step(worker('stage-crash'), { input: N, output: N }))(range(0, 10));
      expect(err.message).toContain('crash in a timer');
      expect(got).toEqual([...Array(10).keys(), ...Array.from({ length: 10 }, (_, i) => 100 + i)]);
    });
  });

  test('a value that does not fit a step output is a WorkerError naming that step', async () => {
    const echo = step(worker('stage-echo'), { input: N, output: N });
    const wrong = step(worker('stage-map'), { input: N, output: N }); // emits Tagged records, not longs
    const err = await failure(lastValueFrom(range(0, 3).pipe(pipeline(echo, wrong, echo), toArray())));
    expect(err).toBeInstanceOf(WorkerError);
    expect((err as WorkerError).workerIndex).toBe(1);
    expect((err as WorkerError).workerName).toBe('EncodeError');
  });

  test.each([0, 1])('a value too large for the ring, emitted by step %i of 3, is a WorkerError naming that step', async (at) => {
    // It was named after the last step (which only heard of it), a second late.
    const steps = [0, 1, 2].map((i) => step(worker(i === at ? 'pipeline-big' : 'stage-echo'), { input: raw, output: raw }));
    const err = await failure(lastValueFrom(from([new Uint8Array(4), new Uint8Array(1)]).pipe(pipeline(steps[0], steps[1], steps[2]), toArray())));
    expect(err).toBeInstanceOf(WorkerError);
    expect((err as WorkerError).workerIndex).toBe(at);
    expect((err as WorkerError).workerName).toBe('FrameError');
  });

  test('an input that does not fit the first step input errors the stream with EncodeError', async () => {
    const err = await failure(lastValueFrom(from(['line 1', 2 as never, 'line 3']).pipe(pipeline(parseStep, keepStep, totalStep), toArray())));
    expect(err).toBeInstanceOf(EncodeError);
  });

  test('a subscriber that leaves during a synchronous source’s subscribe call stops the source (takeUntil fired by the source)', async () => {
    let pulled = 0;
    const stop = new Subject<void>();
    const endless = new Observable<number>((subscriber) => {
      while (!subscriber.closed && pulled < 1_000_000) {
        if (pulled === 5) stop.next();
        subscriber.next(pulled++);
      }
    });
    const echo = step(worker('stage-echo'), { input: N, output: N });
    const out = await lastValueFrom(endless.pipe(pipeline(echo), takeUntil(stop), toArray()));
    expect(out).toEqual([]);
    expect(pulled).toBe(6); // the value in hand when it left (the loop's next) was the last
  });

  test('an input that does not fit stops a synchronous source at once: it is not run to its end', async () => {
    let pulled = 0;
    const endless = new Observable<string>((subscriber) => {
      while (!subscriber.closed && pulled < 1_000_000) subscriber.next(pulled++ === 0 ? (2 as never) : 'line');
    });
    const err = await failure(lastValueFrom(endless.pipe(pipeline(parseStep, keepStep), toArray())));
    expect(err).toBeInstanceOf(EncodeError);
    expect(pulled).toBe(1);
  });

  // The first step completes its side of the way down at start, so the way down's own error reached no one here;
  // the step saw its input fail, and one that catches that (catchError) completed the stream short, in silence.
  test.each([
    ['does not fit', N, 'x' as never, EncodeError, 4096],
    ['is too large for the ring', raw, new Uint8Array(1000) as never, FrameError, 256],
  ])('an input that %s, sent once the first step runs, errors the stream with its error, even when that step catches its input errors', async (_what, codec, bad, type, bytes) => {
    const forgiving = step(worker('pipeline-forgiving'), { input: codec as never, output: codec as never, bytes });
    const echo = step(worker('stage-echo'), { input: codec as never, output: codec as never });
    const good = (codec === N ? 1 : new Uint8Array(4)) as never;
    const source = new Subject<never>();
    let first = true;
    const out = source.pipe(pipeline(forgiving, echo), tap(() => {
      if (!first) return;
      first = false; // the first value has been through: the steps run
      source.next(bad);
      source.next(good);
    }));
    const ended = failure(lastValueFrom(out.pipe(toArray())));
    source.next(good);
    expect(await ended).toBeInstanceOf(type);
  });

  test('a source error propagates as is', async () => {
    const boom = new Error('boom');
    const source = concat(lines(5), throwError(() => boom));
    const err = await failure(lastValueFrom(source.pipe(pipeline(parseStep, keepStep, totalStep), toArray())));
    expect(err).toBe(boom);
  });
});

describe('backpressure and records', () => {
  test('a slow step holds back the step before it: that step reads a ring or two ahead, not its whole input', async () => {
    // Before, a step read on while its way up was full, keeping what it could not send in its own memory.
    const reports = new BroadcastChannel('pipeline-counted');
    let mostRead = 0;
    reports.onmessage = (event) => (mostRead = Math.max(mostRead, (event as { data: number }).data));
    try {
      const counted = step(worker('pipeline-counted'), { input: N, output: N, bytes: 4096 });
      const sluggish = step(worker('pipeline-sluggish'), { input: N, output: N, bytes: 4096 });
      const out = await lastValueFrom(range(0, 20_000).pipe(pipeline(counted, sluggish), take(100), toArray()));
      expect(out).toEqual([...Array(100).keys()]);
      await new Promise((resolve) => setTimeout(resolve, 200)); // the reports still on their way
      expect(mostRead).toBeGreaterThan(0); // it did report
      expect(mostRead).toBeLessThan(5000); // two 4 KiB rings hold a few hundred; before, all 20000 were read
    } finally {
      reports.close();
    }
  });

  test('the outputs of one input larger than a ring are sent in parts, in order', async () => {
    const fan = step(worker('stage-fan'), { input: N, output: N });
    const out = await lastValueFrom(of(100_000, 3).pipe(pipeline(fan, step(worker('stage-echo'), { input: N, output: N })), toArray()));
    expect(out).toEqual([...Array(100_000).keys(), 0, 1, 2]);
  });
});

describe('unsubscribing', () => {
  test('take(5) after the pipeline, on a long source, ends every worker', async () => {
    const echo = step(worker('stage-echo'), { input: N, output: N });
    const out = await lastValueFrom(interval(1).pipe(pipeline(echo, echo, echo), take(5), toArray()));
    expect(out).toEqual([0, 1, 2, 3, 4]);
  });

  test('take(5) from a synchronous source of 100000 values ends every worker', async () => {
    const out = await lastValueFrom(lines(100_000).pipe(pipeline(parseStep, keepStep, totalStep), take(5), toArray()));
    const here = await lastValueFrom(lines(100_000).pipe(parse, keep, total, take(5), toArray()));
    expect(out).toEqual(here);
  });

  test('threads are started on subscribe, one per step, and ended on unsubscribe', async () => {
    const echo = step(worker('stage-echo'), { input: N, output: N });
    const before = liveThreads();
    const seen: number[] = [];
    const sub = interval(1).pipe(pipeline(echo, echo, echo)).subscribe((n) => seen.push(n));
    expect(liveThreads()).toBeGreaterThanOrEqual(before + 3);
    while (seen.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    sub.unsubscribe();
    await threadsBackTo(before);
    expect(seen).toEqual([...Array(seen.length).keys()]);
  });
});

describe('steps are checked at the door', () => {
  test.each([
    ['workers 2', () => step(worker('stage-echo'), { input: N, output: N, workers: 2 }), RangeError, /options\.workers/],
    ['no input codec', () => step(worker('stage-echo'), { output: N } as never), TypeError, /options\.input/],
    ['output not a codec', () => step(worker('stage-echo'), { input: N, output: 'long' as never }), TypeError, /options\.output/],
    ['bytes not a power of two', () => step(worker('stage-echo'), { input: N, output: N, bytes: 1000 }), RangeError, /options\.bytes/],
    ['module a number', () => step(42 as never, { input: N, output: N }), TypeError, /module/],
    // Wrong types were RangeErrors, and a URL other than file: failed only at subscribe.
    ['bytes a string', () => step(worker('stage-echo'), { input: N, output: N, bytes: '4096' as never }), TypeError, /options\.bytes must be a number/],
    ['workers a string', () => step(worker('stage-echo'), { input: N, output: N, workers: '1' as never }), TypeError, /options\.workers must be a number/],
    ['module an http: URL', () => step(new URL('http://example.com/w.js'), { input: N, output: N }), TypeError, /step: module must be a path or a file: URL/],
    ['module an http: URL as a string', () => step('https://example.com/w.js', { input: N, output: N }), TypeError, /file: URL/],
    ['no steps', () => pipeline(), TypeError, /at least one step/],
    ['not a step', () => pipeline({} as Step<unknown, unknown>), TypeError, /step 0/],
    // Look-alikes made without step(): their bad bytes or module failed only at subscribe.
    ['a look-alike with bad bytes', () => pipeline(parseStep, { ...keepStep, bytes: 1000 }), RangeError, /step 1's bytes/],
    ['a look-alike with no module', () => pipeline({ ...parseStep, module: 7 as never }), TypeError, /step 0's module/],
    ['adjacent codecs differ', () => pipeline(parseStep, totalStep as never), TypeError, /step 1's input/],
  ])('%s', (_, make, kind, message) => {
    const before = liveThreads();
    expect(make).toThrow(kind);
    expect(make).toThrow(message);
    expect(liveThreads()).toBe(before);
  });

  test('nothing starts before subscribe', () => {
    const before = liveThreads();
    lines(3).pipe(pipeline(parseStep, keepStep, totalStep));
    expect(liveThreads()).toBe(before);
  });
});
