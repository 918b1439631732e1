/**
 * `Config.nats`: clusters of `initialize` calls in this process and of real
 * child processes, found through a real nats-server (started here, stopped
 * after). Nothing here asserts on speed; waits are for events.
 */
import { Config, initialize, route, type NatsClusterConfig } from '../../index';
import { AuthError, ClusterError, TimeoutError, TransportClosedError, WorkerError } from '../../core/errors';
import { countInPlace } from '../../examples/corpus';
import { startNatsServer, type NatsServer } from '../../examples/nats-server';
import type { AllToAll } from '../workers/runtime.worker';
import { liveSockets, liveThreads, threadsBackTo, until } from '../helpers';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { channelName } from '../../runtime/nats-subjects';
import { checkChannelName } from '../../transports/nats/wire';

const RUNTIME_WORKER = join(__dirname, '..', 'workers', 'runtime.worker.ts');
const WORD_COUNT_WORKER = require.resolve('../../examples/word-count.worker');

let server: NatsServer;
let dir: string;
let baselineThreads = 0;
let baselineSockets = 0;
let clusterNo = 0;
/** A fresh cluster name per test, so no test hears another's. */
const fresh = () => `spec-${process.pid}-${++clusterNo}`;
const FAST = { interval: 200, timeout: 2000 };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rxwire-nats-cluster-spec-'));
  server = await startNatsServer({ jetstream: false });
  baselineThreads = liveThreads();
  baselineSockets = liveSockets();
});
afterEach(async () => {
  // No worker thread and no connection outlives a test (the server's listening socket is its own process's).
  await threadsBackTo(baselineThreads);
  await until(() => liveSockets() <= baselineSockets, 5000);
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A worker module that marks `<args.ran><index>` (a file) once its links are up, then runs `runtime.worker`'s mode. */
function probe(): string {
  const file = join(dir, 'probe.worker.js');
  writeFileSync(
    file,
    `const run = require(${JSON.stringify(RUNTIME_WORKER)}).default;
     exports.default = (worker, args) => { require('node:fs').writeFileSync(args.ran + worker.index, ''); return run(worker, args); };`,
  );
  return file;
}

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
    expect(() => Config.nats({ ...ok, joinTimeout: 2 ** 31 })).toThrow(RangeError); // a Node timer would fire at once
    expect(() => Config.nats({ ...ok, heartbeat: { interval: 500, timeout: 400 } })).toThrow(RangeError);
    expect(() => Config.nats({ ...ok, heartbeat: { interval: Infinity } })).toThrow(/cannot be off/);
    expect(Config.nats({ ...ok, heartbeat: {} }).heartbeat).toEqual({ interval: 1000, timeout: 5000 }); // this config's default, not TCP's
    expect(() => Config.nats({ ...ok, heartbeat: { timout: 5 } as never })).toThrow(TypeError);
    expect(() => Config.nats({ ...ok, workers: 1025 })).toThrow('Config.nats: options.workers must be at most 1024');
    expect(() => Config.nats({ ...ok, processes: 2 ** 40 })).toThrow('Config.nats: options.processes must be at most 1024');
    expect(() => initialize({ ...Config.nats(ok), processes: -1 }, RUNTIME_WORKER)).toThrow(RangeError);
  });
});

test('a channel id of any length has a NATS channel name within 200 characters, the same at both ends', () => {
  for (const key of ['s:words', `s:${'w'.repeat(180)}`, `s:${'a b '.repeat(25)}`, 'n:7']) {
    const one = channelName('wc', 'r1f2', key, 3, 1);
    expect(one).toBe(channelName('wc', 'r1f2', key, 1, 3));
    expect(checkChannelName(one)).toBe(one);
  }
  expect(channelName('wc', 'r1f2', 's:words', 0, 1)).toBe('cluster.wc.r1f2.s-words.0.1');
  expect(channelName('wc', 'r1f2', `s:${'a b '.repeat(25)}`, 0, 1)).toMatch(/^cluster\.wc\.r1f2\.h[0-9a-f]{64}\.0\.1$/);
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

  test('workers that return at once, before the others are up: every process joins (a `done` before its `up` counted as up)', async () => {
    // Before, the worker that heard a peer's `done` before its `up` waited for that `up` until joinTimeout (6 of 6 runs).
    const file = join(dir, 'at-once.worker.js');
    writeFileSync(file, 'exports.default = (worker) => worker.index * 10;');
    for (let round = 0; round < 3; round++) {
      const name = fresh();
      const results = await Promise.all([0, 1].map(() => initialize<number>(Config.nats({ servers: server.url, name, processes: 2, workers: 4, joinTimeout: 20_000 }), file).join()));
      expect(results.flat().sort((a, b) => a - b)).toEqual([0, 10, 20, 30, 40, 50, 60, 70]);
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

  test('exchange keeps per-key order across processes: each key at the one worker it routes to, every sender in order', async () => {
    const name = fresh();
    const count = 200;
    const keyCount = 40;
    const results = await Promise.all(
      [0, 1].map((p) =>
        initialize<[string, number[][]][]>(Config.nats({ servers: server.url, name, processes: 2, workers: 2, process: p }), RUNTIME_WORKER, {
          mode: 'keys',
          count,
          keyCount,
        }).join(),
      ),
    );
    const owner = new Map<string, number>();
    results.flat().forEach((perKey, index) => {
      for (const [key, perSender] of perKey) {
        expect(owner.has(key)).toBe(false); // a key lives at one worker only
        owner.set(key, index);
        expect(index).toBe(route(key, 4));
        expect(perSender).toHaveLength(4);
        for (const seqs of perSender) expect(seqs).toEqual([...Array(count).keys()]); // every sender's values, in order
      }
    });
    expect(owner.size).toBe(keyCount);
    expect(new Set([...owner.values()].map((w) => Math.floor(w / 2))).size).toBe(2); // keys on both processes
  });
});

describe('a NATS cluster that cannot start or loses a process', () => {
  test('a worker that throws fails the other process with WorkerError (TransportClosedError) at once', async () => {
    const name = fresh();
    // Worker 1 throws once linked; every other worker would wait forever. The
    // heartbeat is long: the other process learns it from `fail`, not a timeout.
    const config = Config.nats({ servers: server.url, name, processes: 2, workers: 2, heartbeat: { interval: 1000, timeout: 600_000 } });
    const runs = [0, 1].map((p) => initialize(Config.nats({ ...config, process: p }), RUNTIME_WORKER, { mode: 'throw' }).join());
    const [thrown, lost] = (await Promise.all(runs.map(rejection))) as WorkerError[];
    expect(thrown).toBeInstanceOf(WorkerError);
    expect(thrown.workerIndex).toBe(1);
    expect(thrown.workerName).toBe('RangeError');
    expect(lost).toBeInstanceOf(WorkerError);
    expect(lost.workerName).toBe('TransportClosedError');
    expect(lost.message).toMatch(/lost process 0 .*it failed: .*worker 1/);
  });

  test.each([
    [0, 'skip'],
    [1, 'skip'],
    [0, 'skip-late'],
  ])('a worker (%i of 2, one per process) that finishes without allocating a channel its peer reads fails that peer, not a hang (%s)', async (skip, mode) => {
    const name = fresh();
    // The peer's end waited for ever to pair, and the one that finished for the peer's `done`. With skip-late the
    // peer allocates after it heard `done`.
    const config = Config.nats({ servers: server.url, name, processes: 2, workers: 1 });
    const runs = [0, 1].map((p) => initialize(Config.nats({ ...config, process: p }), RUNTIME_WORKER, { mode, count: skip }).join());
    const [skipped, waited] = skip === 0 ? runs : [runs[1], runs[0]];
    expect(await skipped).toEqual(['skipped']);
    const err = (await rejection(waited)) as WorkerError;
    expect(err).toBeInstanceOf(WorkerError);
    expect(err.workerIndex).toBe(1 - skip);
    expect(err.workerName).toBe('TransportClosedError');
    expect(err.message).toContain(`worker ${skip} finished before it allocated this channel`);
  });

  test('given indices are kept; two processes claiming one index fail with ClusterError', async () => {
    const name = fresh();
    const run = (p: number) => initialize<AllToAll>(Config.nats({ servers: server.url, name, processes: 2, process: p }), RUNTIME_WORKER, { mode: 'all-to-all', count: 10 }).join();
    const [one, zero] = await Promise.all([run(1), run(0)]);
    expect([one[0].index, zero[0].index]).toEqual([1, 0]);

    const again = fresh();
    const clash = () => initialize(Config.nats({ servers: server.url, name: again, processes: 2, process: 0 }), RUNTIME_WORKER, { mode: 'forever' }).join();
    const errors = await Promise.all([rejection(clash()), rejection(clash())]);
    for (const err of errors) {
      expect(err).toBeInstanceOf(ClusterError);
      expect(err.message).toMatch(/both claim index 0/);
    }
  });

  test('processes of different sizes refuse each other with ClusterError naming both', async () => {
    const name = fresh();
    const errors = await Promise.all(
      [2, 3].map((processes) => rejection(initialize(Config.nats({ servers: server.url, name, processes }), RUNTIME_WORKER, { mode: 'forever' }).join())),
    );
    for (const err of errors) {
      expect(err).toBeInstanceOf(ClusterError);
      expect(err.message).toMatch(/has processes \d, workers 1, version 1, heartbeat 1000\/5000 ms, this one .* processes \d/);
    }
  });

  test('processes with different heartbeats refuse each other at the start with ClusterError naming both', async () => {
    // Each judges the others by its own timeout: a process beating every 1500 ms looked dead, mid-run, to one
    // that waits 700 ms (both failed with WorkerError once the run was on).
    const name = fresh();
    const errors = await Promise.all(
      [
        { interval: 200, timeout: 700 },
        { interval: 1500, timeout: 4500 },
      ].map((heartbeat) => rejection(initialize(Config.nats({ servers: server.url, name, processes: 2, heartbeat }), RUNTIME_WORKER, { mode: 'forever' }).join())),
    );
    for (const err of errors) {
      expect(err).toBeInstanceOf(ClusterError);
      expect(err.message).toMatch(/heartbeat (200\/700|1500\/4500) ms, this one .* heartbeat (200\/700|1500\/4500) ms/);
    }
  });

  test('three processes of a 2-process cluster starting at once all fail with ClusterError', async () => {
    const config = Config.nats({ servers: server.url, name: fresh(), processes: 2 });
    const errors = await Promise.all([0, 1, 2].map(() => rejection(initialize(config, RUNTIME_WORKER, { mode: 'forever' }).join())));
    for (const err of errors) {
      expect(err).toBeInstanceOf(ClusterError);
      expect(err.message).toMatch(/more than its 2/);
    }
  });

  test('a stray process with the name of a running cluster is refused with ClusterError', async () => {
    const config = Config.nats({ servers: server.url, name: fresh(), processes: 2 });
    const ran = join(dir, 'stray-running-');
    const cluster = [0, 1].map(() => initialize(config, probe(), { mode: 'forever', ran }));
    await until(() => existsSync(`${ran}0`) && existsSync(`${ran}1`), 120_000);
    const stray = await rejection(initialize(config, RUNTIME_WORKER, { mode: 'forever' }).join());
    expect(stray).toBeInstanceOf(ClusterError);
    expect(stray.message).toContain('is already running with 2 processes; this process is not one of them');
    await Promise.all(cluster.map((guards) => guards.terminate()));
    for (const guards of cluster) expect(await rejection(guards.join())).toBeInstanceOf(WorkerError);
  });

  test('the NATS server killed mid-run fails every process with WorkerError (TransportClosedError), not a hang', async () => {
    const own = await startNatsServer({ jetstream: false });
    try {
      const config = Config.nats({ servers: own.url, name: fresh(), processes: 2, workers: 2 });
      const ran = join(dir, 'server-killed-');
      const cluster = [0, 1].map(() => initialize(config, probe(), { mode: 'forever', ran }));
      await until(() => [0, 1, 2, 3].every((w) => existsSync(`${ran}${w}`)), 120_000);
      await own.kill();
      for (const guards of cluster) {
        const err = (await rejection(guards.join())) as WorkerError;
        expect(err).toBeInstanceOf(WorkerError);
        expect(err.workerName).toBe('TransportClosedError');
        expect(err.message).toMatch(/lost the cluster .*its NATS connection closed/);
      }
    } finally {
      await own.stop();
    }
  });

  test('a server with credentials: the right ones run the cluster, wrong ones are refused with AuthError', async () => {
    const own = await startNatsServer({ jetstream: false, user: 'wc', pass: 'secret' });
    try {
      const config = Config.nats({ servers: own.url, name: fresh(), processes: 2, user: 'wc', pass: 'secret' });
      const results = await Promise.all([0, 1].map(() => initialize<AllToAll>(config, RUNTIME_WORKER, { mode: 'all-to-all', count: 10 }).join()));
      expect(results.flat().map((r) => r.completed)).toEqual([true, true]);
      const refused = await rejection(initialize(Config.nats({ ...config, pass: 'wrong' }), RUNTIME_WORKER, { mode: 'forever' }).join());
      expect(refused).toBeInstanceOf(AuthError);
    } finally {
      await own.stop();
    }
  });

  test('a process alone: TimeoutError saying how many came; no server: TransportClosedError', async () => {
    const alone = await rejection(
      initialize(Config.nats({ servers: server.url, name: fresh(), processes: 2, joinTimeout: 1000 }), RUNTIME_WORKER, { mode: 'forever' }).join(),
    );
    expect(alone).toBeInstanceOf(TimeoutError);
    expect(alone.message).toContain('1 of 2 processes present after 1000 ms');
    const nobody = await rejection(initialize(Config.nats({ servers: 'nats://127.0.0.1:1', name: fresh(), processes: 2 }), RUNTIME_WORKER, { mode: 'forever' }).join());
    expect(nobody).toBeInstanceOf(TransportClosedError);
    expect(nobody.message).toContain('cannot connect to NATS at nats://127.0.0.1:1');
  });
});

describe('a NATS cluster of real processes', () => {
  // Child processes start ts-node and worker threads on a shared machine: a
  // generous limit against hangs, never a speed assertion.
  const LIMIT = 240_000;
  const root = join(__dirname, '..', '..');
  const TS_NODE = ['-r', 'ts-node/register/transpile-only'];
  const children = new Set<ChildProcess>();

  afterEach(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    children.clear();
  });

  /** A child process, killed after the test if still alive; its output collected. */
  function track(child: ChildProcess) {
    children.add(child);
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (text: string) => (out += text));
    child.stderr?.setEncoding('utf8').on('data', (text: string) => (out += text));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, out: () => out, exited };
  }

  /** A process of the cluster `config`: prints `running <index>` per worker once linked, then `outcome <json>` of join(). */
  function member(config: NatsClusterConfig) {
    const driver = join(dir, 'driver.js');
    writeFileSync(
      driver,
      `const { Config, initialize } = require(${JSON.stringify(join(root, 'index'))});
       const probe = ${JSON.stringify(probe())};
       initialize(Config.nats(JSON.parse(process.argv[2])), probe, { mode: 'forever', ran: ${JSON.stringify(join(dir, `ran-${config.name}-`))} }).join().then(
         () => console.log('outcome ' + JSON.stringify({ ok: true })),
         (err) => {
           console.log('outcome ' + JSON.stringify({ name: err.name, workerName: err.workerName, workerIndex: err.workerIndex, message: err.message }));
           process.exitCode = 1;
         },
       );`,
    );
    return track(spawn(process.execPath, [...TS_NODE, driver, JSON.stringify(config)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  test('a process killed mid-run (SIGKILL) fails every other process with WorkerError, not a hang', async () => {
    const config = Config.nats({ servers: server.url, name: fresh(), processes: 3, workers: 2, heartbeat: FAST, joinTimeout: 120_000 });
    const runs = [0, 1, 2].map((p) => member({ ...config, process: p }));
    const ran = (w: number) => existsSync(join(dir, `ran-${config.name}-${w}`));
    await until(() => [0, 1, 2, 3, 4, 5].every(ran), 180_000);
    runs[1].child.kill('SIGKILL');
    for (const p of [0, 2]) {
      expect(await runs[p].exited).toBe(1);
      const outcome = JSON.parse(/outcome (.*)/.exec(runs[p].out())![1]);
      expect(outcome).toMatchObject({ name: 'WorkerError', workerName: 'TransportClosedError' });
      expect([2 * p, 2 * p + 1]).toContain(outcome.workerIndex);
      expect(outcome.message).toMatch(/lost process 1 \(workers 2, 3 had not finished\): not heard for \d+ ms \(heartbeat timeout 2000 ms\)/);
    }
  }, LIMIT);

  test('npm run word-count:nats (the launcher): a local nats-server, 2 processes × 2 workers, the union checked, the server stopped', async () => {
    const launcher = track(spawn(process.execPath, [...TS_NODE, join(root, 'examples', 'word-count-nats.ts'), '--lines', '5000'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }));
    const code = await launcher.exited;
    expect({ code, out: launcher.out() }).toMatchObject({ code: 0 });
    expect(launcher.out()).toContain('check: OK, the union of 2 processes × 2 workers equals a single-threaded count');
    const url = /started nats-server on (nats:\/\/[\d.]+:\d+)/.exec(launcher.out())![1];
    // Its server is gone: nothing listens on its port any more.
    const refused = await rejection(initialize(Config.nats({ servers: url, name: fresh(), processes: 1 }), RUNTIME_WORKER, { mode: 'forever' }).join());
    expect(refused).toBeInstanceOf(TransportClosedError);
  }, LIMIT);
});
