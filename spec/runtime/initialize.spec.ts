/**
 * initialize on real worker threads (process config) and in this thread
 * (thread config): links among all workers, end of stream, failures.
 */
import { promises as fs } from 'node:fs';
import { Config, initialize } from '../../index';
import { WorkerError } from '../../core/errors';
import { countInPlace, type CorpusOptions } from '../../examples/corpus';
import { allocatedAfter, type AllToAll } from '../workers/runtime.worker';
import { liveThreads, threadsBackTo, until } from '../helpers';

const MODULE = `${__dirname}/../workers/runtime.worker.ts`;
let baseline = 0;

beforeAll(async () => {
  await fs.stat(__filename); // start libuv's pool, so the thread baseline is stable
  baseline = liveThreads();
});

afterEach(async () => {
  await threadsBackTo(baseline);
});

async function failure(promise: Promise<unknown>): Promise<WorkerError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkerError);
  return err as WorkerError;
}

describe('process(n): every worker gets what every peer sent it', () => {
  test.each([1, 2, 4])('%i worker(s), FIFO per sender, receivers complete', async (n) => {
    const count = 3000;
    const results = await initialize<AllToAll>(Config.process(n), MODULE, { mode: 'all-to-all', count }).join();
    expect(results.map((r) => r.index)).toEqual([...Array(n).keys()]);
    for (const r of results) {
      expect(r.peers).toBe(n);
      expect(r.completed).toBe(true);
      expect(r.perSender).toEqual(Array.from({ length: n }, () => ({ count, inOrder: true })));
    }
    expect(liveThreads()).toBeGreaterThanOrEqual(baseline); // join resolved: the threads are on their way out
  });

  test('thread config runs the same program in this thread', async () => {
    const before = liveThreads();
    const results = await initialize<AllToAll>(Config.thread(), MODULE, { mode: 'all-to-all', count: 3000 }).join();
    expect(results).toEqual([{ index: 0, peers: 1, perSender: [{ count: 3000, inOrder: true }], completed: true }]);
    expect(liveThreads()).toBeLessThanOrEqual(before); // no thread was started
  });

  test('{ workers: n } is process(n); an Observable result is its last value', async () => {
    const results = await initialize<number[]>({ workers: 3 }, MODULE, { mode: 'observable' }).join();
    expect(results).toEqual([
      [0, 1, 2],
      [0, 1, 2],
      [0, 1, 2],
    ]);
  });

  test('a .js ES module of a "type": "module" package, with a top-level await, loads as Node loads it', async () => {
    const results = await initialize(Config.process(2), `${__dirname}/../workers/esm/tla.worker.js`, { factor: 2 }).join();
    expect(results).toEqual([
      { index: 0, times: 0 },
      { index: 1, times: 20 },
    ]);
  });

  test('an ES module worker loads too', async () => {
    const results = await initialize(Config.process(2), `${__dirname}/../workers/plain.worker.mjs`, { factor: 10 }).join();
    expect(results).toEqual([
      { index: 0, peers: 2, times: 0 },
      { index: 1, peers: 2, times: 10 },
    ]);
  });
});

describe('the word count gives one answer in every config', () => {
  const corpus: CorpusOptions = { lines: 3000, wordsPerLine: 8, vocabulary: 400 };
  const expected = [...countInPlace(corpus)].sort();

  const merged = (perWorker: [string, number][][]) => {
    const words = perWorker.flat().map(([w]) => w);
    expect(new Set(words).size).toBe(words.length); // each word counted by one worker only
    return perWorker.flat().sort();
  };

  test('thread', async () => {
    const results = await initialize<[string, number][]>(Config.thread(), require.resolve('../../examples/word-count.worker'), corpus).join();
    expect(merged(results)).toEqual(expected);
  });

  test('process(4)', async () => {
    const results = await initialize<[string, number][]>(Config.process(4), require.resolve('../../examples/word-count.worker'), corpus).join();
    expect(results).toHaveLength(4);
    for (const counts of results) expect(counts.length).toBeGreaterThan(0);
    expect(merged(results)).toEqual(expected);
  });
});

describe('failures', () => {
  test('a worker that throws fails join() with WorkerError naming its index; the others are stopped', async () => {
    const err = await failure(initialize(Config.process(3), MODULE, { mode: 'throw' }).join());
    expect(err.workerIndex).toBe(1);
    expect(err.workerName).toBe('RangeError');
    expect(err.message).toContain('worker 1 refuses');
    expect(err.workerStack).toContain('runtime.worker.ts');
  });

  test('a worker that exits fails join() with WorkerError naming its index and code', async () => {
    const err = await failure(initialize(Config.process(3), MODULE, { mode: 'exit' }).join());
    expect(err.workerIndex).toBe(1);
    expect(err.message).toContain('code 2');
  });

  test('thread config: a throw is a WorkerError of worker 0', async () => {
    const err = await failure(initialize(Config.thread(), MODULE, { mode: 'throw' }).join());
    expect(err.workerIndex).toBe(0);
    expect(err.workerName).toBe('RangeError');
  });

  test.each([0, 1, 2])('a worker (%i of 3) that finishes without allocating a channel its peers read fails them, not a hang', async (skip) => {
    // Its peers waited for ever: those after it for its end of the channel, those before it for it to open theirs.
    const err = await failure(initialize(Config.process(3), MODULE, { mode: 'skip', count: skip }).join());
    expect(err.workerIndex).not.toBe(skip);
    expect(err.workerName).toBe('TransportClosedError');
    if (skip === 0) expect(err.message).toContain('worker 0 finished before it allocated this channel');
  });

  test('a worker that allocated a channel and finished still links it with a peer that allocates it later: nothing it sent is lost', async () => {
    expect(await initialize(Config.process(2), MODULE, { mode: 'late' }).join()).toEqual([
      [
        { from: 1, seq: 0 },
        { from: 1, seq: 1 },
      ],
      'sent',
    ]);
  });

  test('allocate after the worker’s function settled is a TypeError (on the thread config it opened a link nothing closed: the program never exited)', async () => {
    expect(await initialize(Config.thread(), MODULE, { mode: 'allocate-after' }).join()).toEqual(['returned']);
    await until(() => allocatedAfter.outcome !== undefined);
    expect(allocatedAfter.outcome).toMatch(/^TypeError: allocate: worker 0's function has settled/);
  });

  test('allocating a channel twice is a TypeError in the worker', async () => {
    const err = await failure(initialize(Config.process(2), MODULE, { mode: 'allocate-twice' }).join());
    expect(err.workerName).toBe('TypeError');
    expect(err.message).toContain('already allocated');
  });

  test('a result that cannot be cloned is a WorkerError, not a hang', async () => {
    const err = await failure(initialize(Config.process(1), MODULE, { mode: 'uncloneable' }).join());
    expect(err.workerIndex).toBe(0);
    expect(err.message).toMatch(/could not be cloned/);
  });

  test('a module without a default export is refused', async () => {
    const module = `${__dirname}/../workers/no-default.worker.ts`;
    const err = await failure(initialize(Config.process(1), module).join());
    expect(err.workerName).toBe('TypeError');
    expect(err.message).toContain('default export');
    await expect(initialize(Config.thread(), module).join()).rejects.toThrow(/default export/);
    // In this thread too, the typed error of Config.process: WorkerError naming what the module threw.
    const here = await failure(initialize(Config.thread(), module).join());
    expect(here.workerName).toBe('TypeError');
    const missing = await failure(initialize(Config.thread(), `${__dirname}/../workers/no-such.worker.ts`).join());
    expect(missing.message).toMatch(/Cannot find module/);
  });

  test.each([
    ['process', Config.process(2)],
    ['thread', Config.thread()],
  ])('terminate() ends every worker (%s config); join() rejects with WorkerError', async (_, config) => {
    // In this thread the function cannot be stopped, but join() no longer waits for it (before, for ever).
    const guards = initialize(config, MODULE, { mode: 'forever' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await guards.terminate();
    const err = await failure(guards.join());
    expect(err.message).toContain('terminated');
  });
});

describe('configs', () => {
  test('fromArgs reads -w / --workers as timely does', () => {
    expect(Config.fromArgs([])).toEqual({ kind: 'thread' });
    expect(Config.fromArgs(['-w', '1'])).toEqual({ kind: 'thread' });
    expect(Config.fromArgs(['input.txt', '-w', '4'])).toEqual({ kind: 'process', workers: 4 });
    expect(Config.fromArgs(['--workers', '3'])).toEqual({ kind: 'process', workers: 3 });
    expect(Config.fromArgs(['--workers=2', '--verbose'])).toEqual({ kind: 'process', workers: 2 });
    expect(Config.fromArgs(['-w8'])).toEqual({ kind: 'process', workers: 8 });
    expect(() => Config.fromArgs(['-w'])).toThrow(RangeError);
    expect(() => Config.fromArgs(['-w', 'four'])).toThrow('-w must be a positive integer');
    expect(() => Config.fromArgs(['--workers=0'])).toThrow('--workers must be a positive integer');
  });

  test('fromArgs with --nats gives a NATS cluster: servers, name, counts, and -p only when given', () => {
    expect(Config.fromArgs(['-n', '2', '-w', '3', '--nats', 'nats://127.0.0.1:4222', '--name', 'wc'])).toMatchObject({
      kind: 'nats',
      servers: ['nats://127.0.0.1:4222'],
      name: 'wc',
      processes: 2,
      workers: 3,
    });
    expect(Config.fromArgs(['-n', '2', '--nats', 'nats://127.0.0.1:4222', '--name', 'wc'])).not.toHaveProperty('process');
    expect(Config.fromArgs(['-n', '2', '-p', '1', '--nats=a:4222,b:4222', '--name=wc'])).toMatchObject({ servers: ['a:4222', 'b:4222'], process: 1 });
    // No --name: the program's file name, made a legal cluster name.
    const program = process.argv[1];
    try {
      process.argv[1] = '/srv/word count.v2.js';
      expect(Config.fromArgs(['-n', '2', '--nats', 'a:4222'])).toMatchObject({ name: 'word_count_v2' });
    } finally {
      process.argv[1] = program;
    }
    // --name without --nats is the program's own argument.
    expect(Config.fromArgs(['--name', 'x', '-w', '2'])).toEqual({ kind: 'process', workers: 2 });
    expect(() => Config.fromArgs(['-n', '2', '--nats'])).toThrow('--nats needs a server URL');
    expect(() => Config.fromArgs(['-n', '2', '--nats', 'a:4222', '--name', ''])).toThrow('--name needs a cluster name');
    expect(() => Config.fromArgs(['-n', '2', '--nats', 'a:4222', '--name', 'no.dots'])).toThrow(TypeError);
  });

  test('bad configs are refused at the door', () => {
    expect(() => Config.process(0)).toThrow(RangeError);
    expect(() => Config.process(1.5)).toThrow(RangeError);
    expect(() => initialize(null as never, MODULE)).toThrow(TypeError);
    expect(() => initialize({ kind: 'galaxy' } as never, MODULE)).toThrow(/unknown config kind/);
    expect(() => initialize({ workers: -1 }, MODULE)).toThrow(RangeError);
  });

  test('a module that is not a path or a file: URL is a TypeError naming it, and starts nothing', () => {
    const before = liveThreads();
    for (const config of [Config.thread(), Config.process(2)]) {
      expect(() => initialize(config, 42 as never)).toThrow(TypeError);
      expect(() => initialize(config, undefined as never)).toThrow(/initialize: module must be a path or a file: URL/);
      expect(() => initialize(config, 'http://example.com/w.js')).toThrow(/initialize: module must be a path or a file: URL/);
    }
    expect(liveThreads()).toBe(before);
  });

  test('args that cannot cross to a thread are a TypeError naming them, and leave no thread behind', async () => {
    const err = (() => {
      try {
        initialize(Config.process(3), MODULE, { mode: 'forever', callback: () => 1 });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toMatch(/initialize: args/);
    await threadsBackTo(baseline);
  });
});
