/**
 * The word count as a cluster of processes found through NATS, with no
 * hostfile and no ports to choose: every process runs
 * `initialize(Config.nats({ servers, name, processes, workers }), ...)`
 * with examples/word-count.worker.ts, whose `exchange` sends each word to the
 * worker that owns it, over shared-memory rings inside a process and over
 * NATS between processes.
 *
 *   npm run word-count:nats                  # a local nats-server, 2 processes × 2 workers, compiled
 *   npx ts-node examples/word-count-nats.ts -n 3 -w 2 --lines 20000 --servers nats://127.0.0.1:4222
 *
 * As a launcher (the default) it starts a local nats-server when no
 * `--servers` is given (examples/nats-server.ts; stopped at the end), starts
 * `-n` copies of itself as members, and checks that the union of every
 * worker's counts equals a count made here in one loop, each word counted
 * by exactly one worker. Exits with 0 when it does, else 1.
 *
 * On real machines there is no launcher: run, on each,
 *
 *   node dist/examples/word-count-nats.js --member --servers nats://nats.local:4222 --name wc -n 2 -w 4
 *
 * and each member prints its own workers' counts (the indices are assigned
 * at the start; no member needs to know which it is).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { extname, join } from 'node:path';
import { Config, initialize } from '../index'; // in your app: from 'rxwire'
import { DEFAULT_CORPUS } from './corpus';
import { count, exitCode, flag, prefixLines, verdict, type ProcessCounts } from './launch';
import { startNatsServer, type NatsServer } from './nats-server';

/** What a member sends its launcher (when it has one: `process.send`). */
interface MemberCounts extends ProcessCounts {
  type: 'nats-word-counts';
}

const argv = process.argv.slice(2);
const processes = count(argv, '-n', 2);
const workers = count(argv, '-w', 2);
const lines = count(argv, '--lines', DEFAULT_CORPUS.lines);

/** One member of the cluster: its workers count the words they own. */
async function member(): Promise<number> {
  const servers = flag(argv, '--servers');
  const name = flag(argv, '--name');
  if (!servers || !name) throw new TypeError('--member needs --servers URL and --name NAME');
  const module = join(__dirname, `word-count.worker${extname(__filename)}`);
  const started = performance.now();
  const perWorker = await initialize<[string, number][]>(Config.nats({ servers, name, processes, workers }), module, { ...DEFAULT_CORPUS, lines }).join();
  const distinct = perWorker.reduce((n, pairs) => n + pairs.length, 0);
  const total = perWorker.flat().reduce((n, [, c]) => n + c, 0);
  console.log(`${total.toLocaleString('en-US')} words, ${distinct} distinct, on this process's ${workers} worker(s) in ${(performance.now() - started).toFixed(0)} ms (start included)`);
  const message: MemberCounts = { type: 'nats-word-counts', perWorker };
  process.send?.(message);
  return 0;
}

/** Starts a server if none is given, then the members; checks the union. */
async function launcher(): Promise<number> {
  let server: NatsServer | undefined;
  const children: ChildProcess[] = [];
  const stopAll = () => children.forEach((child) => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
  process.once('exit', stopAll);
  try {
    let servers = flag(argv, '--servers');
    if (!servers) {
      server = await startNatsServer({ jetstream: false });
      servers = server.url;
      console.log(`started nats-server on ${servers}`);
    }
    const name = flag(argv, '--name') ?? `word-count-${process.pid}`;
    console.log(`${processes} processes × ${workers} workers, cluster ${name} on ${servers}`);
    // Under ts-node, the members run the TypeScript source too.
    const execArgv = extname(__filename) === '.ts' ? ['-r', 'ts-node/register/transpile-only'] : [];
    const args = ['--member', '--servers', servers, '--name', name, '-n', `${processes}`, '-w', `${workers}`, '--lines', `${lines}`];
    const received: ProcessCounts[] = [];
    const exits = Array.from({ length: processes }, (_, m) => {
      const child = fork(__filename, args, { execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
      children.push(child);
      prefixLines(child, `[member ${m}] `);
      child.on('message', (message: MemberCounts) => {
        if (message?.type === 'nats-word-counts') received.push(message);
      });
      return exitCode(child);
    });
    return verdict(await Promise.all(exits), received, processes, workers, lines);
  } finally {
    stopAll();
    await server?.stop();
  }
}

(argv.includes('--member') ? member() : launcher()).then(
  (code) => (process.exitCode = code),
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);
