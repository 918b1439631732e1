/**
 * The word count as a cluster of processes on this machine, started by one
 * command: picks free ports on 127.0.0.1, writes a hostfile, starts N copies
 * of examples/word-count.ts (`-n N -p i -w W -h hostfile`), each with W
 * worker threads, and checks that the union of every worker's counts equals
 * a count made here in one loop, each word counted by exactly one worker.
 *
 *   npm run word-count:cluster                        # 2 processes × 2 workers, compiled
 *   npx ts-node examples/word-count-cluster.ts -n 3 -w 2 --lines 20000
 *
 * On real machines there is no launcher: run `word-count -n N -p i -w W -h
 * hosts.txt` on each, with the same hostfile (one `host:port` per process;
 * process i's workers listen on port, port + 1, ..., port + W - 1).
 *
 * Exits with 1 when a process fails or the check fails. A process that fails
 * takes the others down: their workers' links to it close, which fails them
 * with `TransportClosedError`, and the launcher stops whatever is left.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { freeLocalHosts } from '../index'; // in your app: from 'rxwire'
import { DEFAULT_CORPUS } from './corpus';
import { count, exitCode, prefixLines, verdict } from './launch';
import type { ClusterCounts } from './word-count';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const processes = count(argv, '-n', 2);
  const workers = count(argv, '-w', 2);
  const lines = count(argv, '--lines', DEFAULT_CORPUS.lines);

  // Ports free now on 127.0.0.1 (another program could take one before the
  // workers listen: that run then fails with EADDRINUSE; run it again).
  const hosts = await freeLocalHosts(processes, workers);
  const dir = mkdtempSync(join(tmpdir(), 'rxwire-word-count-'));
  const hostfile = join(dir, 'hosts.txt');
  writeFileSync(hostfile, hosts.map(({ host, port }) => `${host}:${port}\n`).join(''));
  const last = hosts[processes - 1].port + workers - 1;
  console.log(`${processes} processes × ${workers} workers, ports ${hosts[0].port} to ${last} on 127.0.0.1, hostfile ${hostfile}`);

  const program = join(__dirname, `word-count${extname(__filename)}`);
  // Under ts-node, the children run the TypeScript source too.
  const execArgv = extname(__filename) === '.ts' ? ['-r', 'ts-node/register/transpile-only'] : [];
  const children: ChildProcess[] = [];
  const received: ClusterCounts[] = [];
  const stopAll = () => children.forEach((child) => child.exitCode === null && child.signalCode === null && child.kill());
  process.once('exit', stopAll);
  try {
    const exits = Array.from({ length: processes }, (_, p) => {
      const args = ['-n', `${processes}`, '-p', `${p}`, '-w', `${workers}`, '-h', hostfile, '--lines', `${lines}`];
      const child = fork(program, args, { execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
      children.push(child);
      prefixLines(child, `[process ${p}] `);
      child.on('message', (message: ClusterCounts) => {
        if (message?.type === 'word-counts') received.push(message);
      });
      return exitCode(child, stopAll); // the others cannot finish without a failed one
    });
    return verdict(await Promise.all(exits), received, processes, workers, lines);
  } finally {
    stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => (process.exitCode = code),
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);
