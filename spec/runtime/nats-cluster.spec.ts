/**
 * `Config.nats`: clusters of `initialize` calls in this process and of real
 * child processes, found through a real nats-server (started here, stopped
 * after). Nothing here asserts on speed; waits are for events.
 */
import { Config, initialize } from '../../index';
import { ClusterError, TimeoutError, WorkerError } from '../../core/errors';
import { countInPlace } from '../../examples/corpus';
import { startNatsServer, type NatsServer } from '../../examples/nats-server';
import type { AllToAll } from '../workers/runtime.worker';
import { liveThreads, threadsBackTo } from '../helpers';
import { join } from 'node:path';

const RUNTIME_WORKER = join(__dirname, '..', 'workers', 'runtime.worker.ts');
const WORD_COUNT_WORKER = require.resolve('../../examples/word-count.worker');

let server: NatsServer;
let baselineThreads = 0;
let clusterNo = 0;
/** A fresh cluster name per test, so no test hears another's. */
const fresh = () => `spec-${process.pid}-${++clusterNo}`;
const FAST = { interval: 200, timeout: 2000 };

beforeAll(async () => {
  server = await startNatsServer({ jetstream: false });
  baselineThreads = liveThreads();
});
afterEach(async () => {
  await threadsBackTo(baselineThreads);
});
afterAll(async () => {
  await server?.stop();
});

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as Error;
}

describe('Config.nats', () => {
  test('checks its options and fills the defaults', () => {
    expect(Config.nats({ servers: 'nats://127.0.0.1:4222', name: 'wc', processes: 2 })).toEqual({
      kind: 'nats',
      servers: ['nats://127.0.0.1:4222'],
      name: 'wc',
      processes: 2,
      workers: 1,
      joinTimeout: 30_000,
      heartbeat: { interval: 1000, timeout: 5000 },
    });
    const ok = { servers: ['nats://h:1'], name: 'wc', processes: 2, workers: 2 };
    expect(Config.nats({ ...ok, process: 1, heartbeat: { interval: 100, timeout: 400 } })).toMatchObject({ process: 1, heartbeat: { interval: 100, timeout: 400 } });
    expect(() => Config.nats({ ...ok, servers: [] })).toThrow(TypeError);
    expect(() => Config.nats({ ...ok, name: 'a.b' })).toThrow(/options.name must be/);
    expect(() => Config.nats({ ...ok, processes: 0 })).toThrow('Config.nats: options.processes must be a positive integer');
    expect(() => Config.nats({ ...ok, workers: 1.5 })).toThrow(RangeError);
    expect(() => Config.nats({ ...ok, process: 2 })).toThrow(/options.process must be an integer from 0 to 1/);
    expect(() => Config.nats({ ...ok, joinTimeout: -1 })).toThrow(RangeError);
    expect(() => Config.nats({ ...ok, heartbeat: { interval: 500, timeout: 400 } })).toThrow(RangeError);
    expect(() => Config.nats({ ...ok, heartbeat: { interval: Infinity } })).toThrow(/cannot be off/);
    expect(() => initialize({ ...Config.nats(ok), processes: -1 }, RUNTIME_WORKER)).toThrow(RangeError);
  });
});

describe('a NATS cluster of initialize calls in this process', () => {
  test('2 processes × 2 workers: every worker gets what every peer sent it, FIFO per sender', async () => {
    const name = fresh();
    const count = 2000;
    const results = await Promise.all(
      [0, 1].map(() => initialize<AllToAll>(Config.nats({ servers: server.url, name, processes: 2, workers: 2 }), RUNTIME_WORKER, { mode: 'all-to-all', count }).join()),
    );
    const all = results.flat().sort((a, b) => a.index - b.index);
    expect(all.map((r) => r.index)).toEqual([0, 1, 2, 3]);
    for (const r of all) {
      expect(r.peers).toBe(4);
      expect(r.completed).toBe(true);
      expect(r.perSender).toEqual(Array.from({ length: 4 }, () => ({ count, inOrder: true })));
    }
  });

  test('exchange: the word count over 2 processes × 2 workers equals the single-process count', async () => {
    const name = fresh();
    const corpus = { lines: 3000, wordsPerLine: 8, vocabulary: 400 };
    const results = await Promise.all(
      [0, 1].map(() => initialize<[string, number][]>(Config.nats({ servers: server.url, name, processes: 2, workers: 2 }), WORD_COUNT_WORKER, corpus).join()),
    );
    const perWorker = results.flat();
    expect(perWorker).toHaveLength(4);
    const words = perWorker.flat().map(([w]) => w);
    expect(new Set(words).size).toBe(words.length);
    expect(perWorker.flat().sort()).toEqual([...countInPlace(corpus)].sort());
  });
});
