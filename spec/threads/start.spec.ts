/**
 * The one worker start-up (threads/start.ts) on real worker threads: results,
 * one WorkerError per crew, one teardown, and a failed start that leaves no
 * thread, wire or port behind.
 */
import { promises as fs } from 'node:fs';
import { once } from 'node:events';
import { MessageChannel } from 'node:worker_threads';
import { WorkerError } from '../../core/errors';
import { startWorkers, type WorkerPlan } from '../../threads/start';
import { liveThreads, threadsBackTo } from '../helpers';

const runner = `${__dirname}/../workers/crew-runner.worker.ts`;
const MODULE = `${__dirname}/../workers/crew.worker.ts`;
let baseline = 0;

beforeAll(async () => {
  await fs.stat(__filename); // start libuv's pool, so the thread baseline is stable
  baseline = liveThreads();
});

afterEach(async () => {
  await threadsBackTo(baseline);
});

const plans = (n: number, setup: object): WorkerPlan[] =>
  Array.from({ length: n }, (_, index) => ({ module: MODULE, index, setup, transferList: [] }));

/** A port made for the start, and a promise that its other side sees it close. */
function watchedPort() {
  const { port1, port2 } = new MessageChannel();
  const closed = once(port2, 'close').then(() => true);
  return { port: port1, closed };
}

test('results in plan order; a graceful end releases every worker and they exit', async () => {
  const failures: WorkerError[] = [];
  const crew = startWorkers({ runner, plans: plans(2, { mode: 'value' }), onFailure: (err) => failures.push(err) });
  expect(await crew.results).toEqual([0, 10]);
  await crew.end(true);
  expect(await Promise.all(crew.hosts.map((host) => host.exited))).toEqual([0, 0]);
  expect(failures).toEqual([]);
});

test("a worker's death is one WorkerError naming it, given once; the teardown ends the others", async () => {
  const failures: WorkerError[] = [];
  const crew = startWorkers({ runner, plans: plans(3, { mode: 'exit', failing: 1 }), onFailure: (err) => failures.push(err) });
  const err = await crew.results.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkerError);
  expect(err).toMatchObject({ workerIndex: 1 });
  expect((err as Error).message).toContain('code 3');
  // A later report of the same worker's wire is not a second failure.
  crew.fail(new Error('its wire closed too'), 1);
  await crew.end(false);
  expect(failures).toEqual([err]);
});

test("messages the user's module posts on parentPort are its own: not taken for the worker's result or error", async () => {
  const failures: WorkerError[] = [];
  const crew = startWorkers({ runner, plans: plans(2, { mode: 'post' }), onFailure: (err) => failures.push(err) });
  expect(await crew.results).toEqual([0, 10]);
  await crew.end(true);
  expect(failures).toEqual([]);
});

test.each([
  ['throw-null', 'null'],
  ['throw-text', 'boom'],
])('a worker whose timer throws a value that is no Error (%s) fails with a WorkerError carrying it', async (mode, message) => {
  const failures: WorkerError[] = [];
  const crew = startWorkers({ runner, plans: plans(2, { mode, failing: 1 }), onFailure: (err) => failures.push(err) });
  const err = await crew.results.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkerError);
  expect(err).toMatchObject({ workerIndex: 1, message: `worker 1: ${message}` });
  await crew.end(false);
  expect(failures).toEqual([err]);
});

test('a failure reported for a wire is mapped to the WorkerError of its worker', async () => {
  const failures: WorkerError[] = [];
  const crew = startWorkers({ runner, plans: plans(1, { mode: 'forever' }), onFailure: (err) => failures.push(err) });
  const mapped = crew.fail(new TypeError('ring gone'), 0);
  expect(mapped).toBeInstanceOf(WorkerError);
  expect(mapped).toMatchObject({ workerIndex: 0, workerName: 'TypeError' });
  await crew.end(false);
  expect(failures).toEqual([mapped]);
  await expect(crew.results).rejects.toBeInstanceOf(WorkerError);
});

test('a setup that does not clone: the start throws, and the workers started before it, its wires and ports are gone', async () => {
  const { port, closed } = watchedPort();
  const bad: WorkerPlan[] = [...plans(1, { mode: 'forever' }), { module: MODULE, index: 1, setup: { f: () => 1 }, transferList: [] }];
  expect(() => startWorkers({ runner, plans: bad, ports: [port] })).toThrow(/could not be cloned/);
  expect(await closed).toBe(true);
  await threadsBackTo(baseline);
});

test('a connect that throws: the start throws its error; every worker, owned wire and port is closed', async () => {
  const { port, closed } = watchedPort();
  const wire = { closed: 0, close() { this.closed++; } };
  const boom = new Error('cannot open');
  expect(() =>
    startWorkers({
      runner,
      plans: plans(2, { mode: 'forever' }),
      ports: [port],
      connect: (_hosts, own) => {
        own(wire);
        throw boom;
      },
    }),
  ).toThrow(boom);
  expect(wire.closed).toBe(1);
  expect(await closed).toBe(true);
  await threadsBackTo(baseline);
});
