/**
 * The cluster config: its options and command line, and clusters of real
 * processes (and of `initialize` calls in this process) linked by real
 * sockets on 127.0.0.1, with ports found free at test time. Nothing here
 * asserts on speed; waits are for events, with generous limits.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Config, freeLocalHosts, initialize, type HostAddress } from '../../index';
import { TransportClosedError, WorkerError } from '../../core/errors';
import { Link } from '../../runtime/cluster-link';
import * as tcp from '../../transports/tcp';
import { countInPlace, DEFAULT_CORPUS } from '../../examples/corpus';
import type { ClusterCounts } from '../../examples/word-count';
import type { AllToAll } from '../workers/runtime.worker';
import { liveSockets, liveThreads, threadsBackTo, until } from '../helpers';

const root = join(__dirname, '..', '..');
const RUNTIME_WORKER = join(root, 'spec', 'workers', 'runtime.worker.ts');
const TS_NODE = ['-r', 'ts-node/register/transpile-only'];

let dir: string;
let baselineThreads = 0;
let baselineSockets = 0;
const children = new Set<ChildProcess>();
/** Children that lead a process group of their own (a launcher and its children). */
const groups = new Set<ChildProcess>();

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rxwire-cluster-spec-'));
  baselineThreads = liveThreads();
  baselineSockets = liveSockets();
});

afterEach(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      // A launcher leads a group of its own, its children in it: the group goes.
      if (groups.has(child)) process.kill(-child.pid!, 'SIGKILL');
      else child.kill('SIGKILL');
    }
  }
  children.clear();
  groups.clear();
  await threadsBackTo(baselineThreads);
  await until(() => liveSockets() <= baselineSockets, 5000);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function hostfileOf(hosts: readonly HostAddress[], name = 'hosts.txt'): string {
  const file = join(dir, name);
  writeFileSync(file, hosts.map(({ host, port }) => `${host}:${port}\n`).join(''));
  return file;
}

/** A child process, killed after the test if still alive; its output collected. */
function track(child: ChildProcess, group = false): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  children.add(child);
  if (group) groups.add(child);
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (out += text));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (out += text));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => out, exited };
}

/**
 * A driver script for a cluster process of `Config.fromArgs()`: its worker
 * module prints `running <index>` when its function runs (every link is up),
 * then waits forever; the driver prints `outcome <json>` of `join()`.
 */
function writeDriver(): string {
  const probe = join(dir, 'probe.worker.js');
  writeFileSync(
    probe,
    `const run = require(${JSON.stringify(RUNTIME_WORKER)}).default;
     exports.default = (worker, args) => { process.stdout.write('running ' + worker.index + '\\n'); return run(worker, args); };`,
  );
  const driver = join(dir, 'driver.js');
  writeFileSync(
    driver,
    `const { Config, initialize } = require(${JSON.stringify(join(root, 'index'))});
     initialize(Config.fromArgs(), ${JSON.stringify(probe)}, { mode: 'forever' }).join().then(
       () => console.log('outcome ' + JSON.stringify({ ok: true })),
       (err) => {
         console.log('outcome ' + JSON.stringify({ name: err.name, workerName: err.workerName, workerIndex: err.workerIndex, message: err.message }));
         process.exitCode = 1;
       },
     );`,
  );
  return driver;
}

async function failure(promise: Promise<unknown>): Promise<WorkerError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkerError);
  return err as WorkerError;
}

describe('Config.cluster', () => {
  test('normalizes the hosts; worker t of process p is p * workers + t', () => {
    const config = Config.cluster({ hosts: ['10.0.0.1:2101', { host: 'b.local', port: 3000 }, '[::1]:4000'], process: 1, workers: 4 });
    expect(config).toEqual({
      kind: 'cluster',
      hosts: [
        { host: '10.0.0.1', port: 2101 },
        { host: 'b.local', port: 3000 },
        { host: '::1', port: 4000 },
      ],
      process: 1,
      workers: 4,
      connectTimeout: 30_000,
    });
    expect(Config.cluster({ hosts: ['h:1'], process: 0, secret: 's' })).toMatchObject({ workers: 1, secret: 's' });
    expect(Config.cluster({ hosts: ['h:1'], process: 0, heartbeat: { interval: 100 } })).toMatchObject({ heartbeat: { interval: 100, timeout: 300 } });
    expect(Config.cluster({ hosts: ['h:1'], process: 0, heartbeat: false })).toMatchObject({ heartbeat: false });
  });

  test('refuses bad options with TypeError / RangeError naming the option', () => {
    const ok = { hosts: ['127.0.0.1:2101', '127.0.0.1:2103'], process: 0, workers: 2 };
    expect(() => Config.cluster({ ...ok, hosts: [] })).toThrow(TypeError);
    expect(() => Config.cluster({ ...ok, hosts: ['nohost'] })).toThrow(/options.hosts\[0\]: "nohost" is not host:port/);
    expect(() => Config.cluster({ ...ok, hosts: ['a:0', 'b:1'] })).toThrow(RangeError);
    expect(() => Config.cluster({ ...ok, hosts: ['a:1', 'b:70000'] })).toThrow(/options.hosts\[1\]: port "70000" must be an integer from 1 to 65535/);
    expect(() => Config.cluster({ ...ok, hosts: ['a:1', 'b:http'] })).toThrow(RangeError);
    expect(() => Config.cluster({ ...ok, hosts: ['a:65535'] })).toThrow(/no room for 2 workers/);
    expect(() => Config.cluster({ ...ok, hosts: ['a:2101', 'a:2102'] })).toThrow(/overlap on a/);
    expect(() => Config.cluster({ ...ok, process: 2 })).toThrow(/options.process must be an integer from 0 to 1/);
    expect(() => Config.cluster({ ...ok, process: -1 })).toThrow(RangeError);
    expect(() => Config.cluster({ ...ok, workers: 0 })).toThrow('Config.cluster: options.workers must be a positive integer');
    expect(() => Config.cluster({ ...ok, workers: 1e9 })).toThrow('Config.cluster: options.workers must be at most 1024'); // before any ring or port is made
    expect(() => Config.cluster({ ...ok, connectTimeout: 0 })).toThrow(RangeError);
    expect(() => Config.cluster({ ...ok, connectTimeout: 1e10 })).toThrow(RangeError); // a Node timer would fire at once
    expect(() => Config.cluster({ ...ok, secret: 42 as never })).toThrow(TypeError);
    expect(() => Config.cluster({ ...ok, heartbeat: { interval: 0 } })).toThrow('Config.cluster: options.heartbeat.interval must be an integer');
    expect(() => Config.cluster({ ...ok, heartbeat: { interval: 500, timeout: 400 } })).toThrow(RangeError);
    expect(() => Config.cluster({ ...ok, heartbeat: 'on' as never })).toThrow(TypeError);
    // initialize checks a cluster config at the door too
    expect(() => initialize({ ...Config.cluster(ok), process: 5 }, RUNTIME_WORKER)).toThrow(RangeError);
  });
});

describe('Config.fromArgs: -n, -p, -h as timely', () => {
  test('-n above 1 gives a cluster; without a hostfile, 127.0.0.1 from port 2101, one port per worker', () => {
    expect(Config.fromArgs(['-n', '2', '-p', '1', '-w', '2'])).toEqual({
      kind: 'cluster',
      hosts: [
        { host: '127.0.0.1', port: 2101 },
        { host: '127.0.0.1', port: 2103 },
      ],
      process: 1,
      workers: 2,
      connectTimeout: 30_000,
    });
    expect(Config.fromArgs(['--processes=3', '--process', '2'])).toMatchObject({ kind: 'cluster', process: 2, workers: 1 });
    expect(Config.fromArgs(['-n3', '-p0']).kind).toBe('cluster');
    // one process: as before
    expect(Config.fromArgs(['-n', '1', '-p', '0', '-w', '4'])).toEqual({ kind: 'process', workers: 4 });
    expect(Config.fromArgs(['-n', '1', '-h', 'never-read.txt'])).toEqual({ kind: 'thread' });
  });

  test('a hostfile gives the addresses: blank and # lines skipped, the first n used', () => {
    const file = join(dir, 'hosts-ok.txt');
    writeFileSync(file, '# the cluster\n10.0.0.1:2101\n\n  10.0.0.2:2101  \r\n10.0.0.3:2101\n');
    expect(Config.fromArgs(['-n', '2', '-p', '0', '-h', file])).toMatchObject({
      hosts: [
        { host: '10.0.0.1', port: 2101 },
        { host: '10.0.0.2', port: 2101 },
      ],
    });
    expect(Config.fromArgs(['-n', '3', '-p', '2', `--hostfile=${file}`, '-w', '8'])).toMatchObject({ kind: 'cluster', workers: 8, hosts: { length: 3 } });
  });

  test('refusals name the flag, the file and the line', () => {
    expect(() => Config.fromArgs(['-n', '2', '-p', '2'])).toThrow(RangeError);
    expect(() => Config.fromArgs(['-n', '2', '-p', '2'])).toThrow('-p must be an integer from 0 to 1 (one index per process of -n 2), got "2"');
    expect(() => Config.fromArgs(['-p', '1'])).toThrow(/-p must be an integer from 0 to 0/);
    expect(() => Config.fromArgs(['--process=x', '-n', '2'])).toThrow(/--process must be/);
    expect(() => Config.fromArgs(['-n', '0'])).toThrow('-n must be a positive integer');
    expect(() => Config.fromArgs(['--processes', 'two'])).toThrow('--processes must be a positive integer');
    expect(() => Config.fromArgs(['-n', '2', '-h'])).toThrow(TypeError);

    const short = join(dir, 'hosts-short.txt');
    writeFileSync(short, '127.0.0.1:2101\n');
    expect(() => Config.fromArgs(['-n', '2', '-h', short])).toThrow(RangeError);
    expect(() => Config.fromArgs(['-n', '2', '-h', short])).toThrow(`hostfile ${short} has 1 address(es); -n 2 needs one per process`);

    const badPort = join(dir, 'hosts-bad-port.txt');
    writeFileSync(badPort, '127.0.0.1:2101\n127.0.0.1:99999\n');
    expect(() => Config.fromArgs(['-n', '2', '-h', badPort])).toThrow(RangeError);
    expect(() => Config.fromArgs(['-n', '2', '-h', badPort])).toThrow(`hostfile ${badPort} line 2: port "99999" must be an integer from 1 to 65535`);

    const notAddress = join(dir, 'hosts-not-address.txt');
    writeFileSync(notAddress, '127.0.0.1:2101\nmachine-two\n');
    expect(() => Config.fromArgs(['-n', '2', '-h', notAddress])).toThrow(TypeError);

    const overlapping = join(dir, 'hosts-overlap.txt');
    writeFileSync(overlapping, '127.0.0.1:2101\n127.0.0.1:2102\n');
    expect(() => Config.fromArgs(['-n', '2', '-w', '2', '-h', overlapping])).toThrow(/overlap/);

    expect(() => Config.fromArgs(['-n', '2', '-h', join(dir, 'missing.txt')])).toThrow(/cannot be read/);
  });
});

test('freeLocalHosts checks its arguments: a count that is no positive integer, or too many ports, is a RangeError', async () => {
  for (const [processes, workers] of [
    [NaN, 1],
    [0, 0],
    [-1, 2],
    [2.5, 1],
    ['2', '2'],
    [1, 1025],
    [100, 1000],
  ]) {
    await expect(freeLocalHosts(processes as number, workers as number)).rejects.toBeInstanceOf(RangeError);
  }
  expect(await freeLocalHosts(1, 1)).toHaveLength(1);
});

describe('a cluster of two initialize calls in this process, over real sockets', () => {
  test('2 processes × 2 workers: every worker gets what every peer sent it, FIFO per sender', async () => {
    const hosts = await freeLocalHosts(2, 2);
    const count = 2000;
    const [zero, one] = await Promise.all(
      [0, 1].map((p) => initialize<AllToAll>(Config.cluster({ hosts, process: p, workers: 2 }), RUNTIME_WORKER, { mode: 'all-to-all', count }).join()),
    );
    expect([...zero, ...one].map((r) => r.index)).toEqual([0, 1, 2, 3]);
    for (const r of [...zero, ...one]) {
      expect(r.peers).toBe(4);
      expect(r.completed).toBe(true);
      expect(r.perSender).toEqual(Array.from({ length: 4 }, () => ({ count, inOrder: true })));
    }
  });

  test('the word count worker gives the single-process answer', async () => {
    const hosts = await freeLocalHosts(2, 2);
    const corpus = { lines: 3000, wordsPerLine: 8, vocabulary: 400 };
    const module = require.resolve('../../examples/word-count.worker');
    const results = await Promise.all(
      [0, 1].map((p) => initialize<[string, number][]>(Config.cluster({ hosts, process: p, workers: 2 }), module, corpus).join()),
    );
    const perWorker = results.flat();
    expect(perWorker).toHaveLength(4);
    const words = perWorker.flat().map(([w]) => w);
    expect(new Set(words).size).toBe(words.length); // each word at one worker
    expect(perWorker.flat().sort()).toEqual([...countInPlace(corpus)].sort());
  });

  test('a process whose worker throws fails the other process with WorkerError (TransportClosedError), no hang', async () => {
    const hosts = await freeLocalHosts(2, 2);
    // Worker 1 (process 0) throws once linked; every other worker would wait forever.
    const [zero, one] = [0, 1].map((p) => initialize(Config.cluster({ hosts, process: p, workers: 2 }), RUNTIME_WORKER, { mode: 'throw' }));
    const [thrown, lost] = await Promise.all([failure(zero.join()), failure(one.join())]);
    expect(thrown.workerIndex).toBe(1);
    expect(thrown.workerName).toBe('RangeError');
    expect(lost.workerName).toBe('TransportClosedError');
    expect(lost.message).toMatch(/process 0/);
  });

  test.each([
    [0, 'skip'],
    [1, 'skip'],
    [0, 'skip-late'],
  ])('a worker (%i of 2, one per process) that finishes without allocating a channel its peer reads fails that peer, not a hang (%s)', async (skip, mode) => {
    const hosts = await freeLocalHosts(2, 1);
    // The peer waited for ever for the channel's HELLO, and the one that finished for the peer's `done`. With
    // skip-late the peer allocates after it heard `done`.
    const runs = [0, 1].map((p) => initialize(Config.cluster({ hosts, process: p, workers: 1 }), RUNTIME_WORKER, { mode, count: skip }).join());
    const [skipped, waited] = skip === 0 ? runs : [runs[1], runs[0]];
    expect(await skipped).toEqual(['skipped']);
    const err = await failure(waited);
    expect(err.workerIndex).toBe(1 - skip);
    expect(err.workerName).toBe('TransportClosedError');
    expect(err.message).toContain(`worker ${skip} finished before it allocated this channel`);
  });

  test('a worker thread that exits fails its process, and through it the other', async () => {
    const hosts = await freeLocalHosts(2, 1);
    // Worker 1 is process 1's only worker: it exits once linked.
    const [zero, one] = [0, 1].map((p) => initialize(Config.cluster({ hosts, process: p, workers: 1 }), RUNTIME_WORKER, { mode: 'exit' }));
    const [lost, exited] = await Promise.all([failure(zero.join()), failure(one.join())]);
    expect(exited.message).toContain('code 2');
    expect(lost.workerIndex).toBe(0);
    expect(lost.workerName).toBe('TransportClosedError');
  });

  test('a process that starts before its peers listen retries until they do', async () => {
    const hosts = await freeLocalHosts(2, 1);
    const early = initialize<AllToAll>(Config.cluster({ hosts, process: 0 }), RUNTIME_WORKER, { mode: 'all-to-all', count: 100 });
    await new Promise((resolve) => setTimeout(resolve, 1500)); // process 0 is refused a few times meanwhile
    const late = initialize<AllToAll>(Config.cluster({ hosts, process: 1 }), RUNTIME_WORKER, { mode: 'all-to-all', count: 100 });
    const results = [...(await early.join()), ...(await late.join())];
    expect(results.map((r) => [r.index, r.completed])).toEqual([
      [0, true],
      [1, true],
    ]);
  });

  test('with a shared secret the cluster runs; a process with another secret is refused with AuthError', async () => {
    const hosts = await freeLocalHosts(2, 1);
    const run = (p: number, secret: string) =>
      initialize<AllToAll>(Config.cluster({ hosts, process: p, secret, connectTimeout: 3000 }), RUNTIME_WORKER, { mode: 'all-to-all', count: 100 }).join();
    const same = await Promise.all([run(0, 'one secret'), run(1, 'one secret')]);
    expect(same.flat().map((r) => r.completed)).toEqual([true, true]);

    const [dialer, listener] = await Promise.all([failure(run(0, 'one secret')), failure(run(1, 'another'))]);
    expect(dialer.workerName).toBe('AuthError');
    expect(dialer.message).toContain('do not share the secret');
    expect(listener.workerName).toBe('TimeoutError');
    expect(listener.message).toContain('AuthError');
  });

  test('a process alone: TimeoutError naming the peer it waited for', async () => {
    const hosts = await freeLocalHosts(2, 1);
    const options = { hosts, workers: 1, connectTimeout: 1500 };
    const dialer = await failure(initialize(Config.cluster({ ...options, process: 0 }), RUNTIME_WORKER, { mode: 'forever' }).join());
    expect(dialer.workerName).toBe('TimeoutError');
    expect(dialer.message).toContain(`could not connect to worker 1 (process 1, 127.0.0.1:${hosts[1].port}) within 1500 ms`);
    const listener = await failure(initialize(Config.cluster({ ...options, process: 1 }), RUNTIME_WORKER, { mode: 'forever' }).join());
    expect(listener.workerName).toBe('TimeoutError');
    expect(listener.message).toContain('heard nothing from worker 0 (process 0');
  });

  test('a second hello from an index already linked is refused at once: the connection closes unanswered (TransportClosedError there)', async () => {
    // Process 2 of 3 waits for workers 0 and 1; two raw dialers both say they are worker 0 (two processes started
    // with one -p). Before, the second was answered too, and its start went on over a link nobody served.
    const hosts = await freeLocalHosts(3, 1);
    const run = initialize(Config.cluster({ hosts, process: 2, workers: 1, connectTimeout: 20_000 }), RUNTIME_WORKER, { mode: 'forever' });
    const hello = { kind: 'hello' as const, index: 0, peers: 3, workers: 1, allocated: [], listed: true };
    const links: Link[] = [];
    const dialWorker0 = async (): Promise<Link> => {
      for (;;) {
        try {
          const link = new Link(await tcp.connect({ host: '127.0.0.1', port: hosts[2].port }));
          links.push(link);
          link.say(hello);
          return link;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 50)); // not listening yet
        }
      }
    };
    try {
      const first = await dialWorker0();
      expect((await first.hello).index).toBe(2);
      const second = await dialWorker0();
      await expect(second.hello).rejects.toBeInstanceOf(TransportClosedError);
    } finally {
      await Promise.all(links.map((link) => link.close()));
      await run.terminate();
    }
  });

  test('processes started with different worker counts refuse each other with RangeError', async () => {
    const hosts = await freeLocalHosts(2, 2);
    const [zero, one] = [
      initialize(Config.cluster({ hosts, process: 0, workers: 2, connectTimeout: 20_000 }), RUNTIME_WORKER, { mode: 'forever' }),
      initialize(Config.cluster({ hosts, process: 1, workers: 1, connectTimeout: 20_000 }), RUNTIME_WORKER, { mode: 'forever' }),
    ];
    const errors = await Promise.all([failure(zero.join()), failure(one.join())]);
    for (const err of errors) {
      expect(err.workerName).toBe('RangeError');
      expect(err.message).toMatch(/every process needs the same hosts and workers/);
    }
  });
});

describe('a cluster of real processes', () => {
  // Child processes start ts-node and worker threads on a shared machine: a
  // generous limit against hangs, never a speed assertion.
  const LIMIT = 180_000;

  test('examples/word-count.ts, 2 processes × 2 workers: the union equals the single-process count', async () => {
    const hosts = await freeLocalHosts(2, 2);
    const hostfile = hostfileOf(hosts);
    const lines = 20_000;
    const received: ClusterCounts[] = [];
    const runs = [0, 1].map((p) => {
      const child = fork(join(root, 'examples', 'word-count.ts'), ['-n', '2', '-p', `${p}`, '-w', '2', '-h', hostfile, '--lines', `${lines}`], {
        cwd: root,
        execArgv: TS_NODE,
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
      child.on('message', (message: ClusterCounts) => received.push(message));
      return track(child);
    });
    const codes = await Promise.all(runs.map((run) => run.exited));
    const outputs = runs.map((run) => run.out());
    expect({ codes, outputs }).toMatchObject({ codes: [0, 0] });
    for (const [p, out] of outputs.entries()) {
      expect(out).toContain(`of process ${p} of 2 (workers ${p * 2} to ${p * 2 + 1})`);
      expect(out).toContain("check: OK, equal to this process's share of a single-threaded count");
    }
    expect(received.map((m) => m.process).sort()).toEqual([0, 1]);
    const perWorker = received.flatMap((m) => m.perWorker);
    expect(perWorker).toHaveLength(4);
    const words = perWorker.flat().map(([w]) => w);
    expect(new Set(words).size).toBe(words.length); // each word counted by one worker only
    expect(perWorker.flat().sort()).toEqual([...countInPlace({ ...DEFAULT_CORPUS, lines })].sort());
  }, LIMIT);

  test('a process killed mid-run (SIGKILL) fails the other with WorkerError (TransportClosedError), not a hang', async () => {
    const hosts = await freeLocalHosts(2, 2);
    const hostfile = hostfileOf(hosts, 'hosts-kill.txt');
    const driver = writeDriver();
    const runs = [0, 1].map((p) =>
      track(spawn(process.execPath, [...TS_NODE, driver, '-n', '2', '-p', `${p}`, '-w', '2', '-h', hostfile], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })),
    );
    await until(() => [0, 1, 2, 3].every((w) => runs[Math.floor(w / 2)].out().includes(`running ${w}\n`)), 120_000);
    runs[1].child.kill('SIGKILL');
    expect(await runs[0].exited).toBe(1);
    const outcome = JSON.parse(/outcome (.*)/.exec(runs[0].out())![1]);
    expect(outcome).toMatchObject({ name: 'WorkerError', workerName: 'TransportClosedError' });
    expect([0, 1]).toContain(outcome.workerIndex);
    expect(outcome.message).toMatch(/closed before that worker finished/);
  }, LIMIT);

  test('a process stopped by SIGSTOP (sockets open, nothing said) fails the other with WorkerError (TransportClosedError), not a hang', async () => {
    const hosts = await freeLocalHosts(2, 1);
    const hostfile = hostfileOf(hosts, 'hosts-stop.txt');
    const driver = writeDriver();
    const stopped = track(spawn(process.execPath, [...TS_NODE, driver, '-n', '2', '-p', '1', '-w', '1', '-h', hostfile], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }));
    // Process 0 here, with a small heartbeat (a silent peer is given up on
    // quickly) and a long start (the child starts ts-node on a shared machine).
    // Its worker says it runs (every link up) by a file.
    const marker = join(dir, 'marker.worker.js');
    writeFileSync(
      marker,
      `const run = require(${JSON.stringify(RUNTIME_WORKER)}).default;
       exports.default = (worker, args) => { require('node:fs').writeFileSync(args.ran, ''); return run(worker, args); };`,
    );
    const ran = join(dir, 'running-0');
    const config = Config.cluster({ hosts, process: 0, workers: 1, connectTimeout: 120_000, heartbeat: { interval: 100, timeout: 600 } });
    const outcome = failure(initialize(config, marker, { mode: 'forever', ran }).join());
    await until(() => stopped.out().includes('running 1\n') && existsSync(ran), 120_000);
    stopped.child.kill('SIGSTOP');
    const lost = await outcome;
    expect(lost.workerIndex).toBe(0);
    expect(lost.workerName).toBe('TransportClosedError');
    expect(lost.message).toMatch(/the peer was silent for \d+ ms/);
    stopped.child.kill('SIGKILL'); // a stopped process dies of SIGKILL too
    await stopped.exited;
  }, LIMIT);

  test('the example launcher (npm run word-count:cluster) starts 2 processes and checks the union', async () => {
    const launcher = track(
      spawn(process.execPath, [...TS_NODE, join(root, 'examples', 'word-count-cluster.ts'), '--lines', '5000'], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true, // its own process group, so afterEach can stop its children too
      }),
      true,
    );
    const code = await launcher.exited;
    expect({ code, out: launcher.out() }).toMatchObject({ code: 0 });
    expect(launcher.out()).toContain('[process 0] check: OK');
    expect(launcher.out()).toContain('[process 1] check: OK');
    expect(launcher.out()).toContain('check: OK, the union of 2 processes × 2 workers equals a single-threaded count');
  }, LIMIT);
});
