/**
 * A cluster node in a child process, for spec/processes/remote.spec.ts:
 * `remote-child.ts ID THREADS` starts node ID with THREADS workers,
 * listening on an ephemeral port on 127.0.0.1; with workers, it also runs
 * `adder` (capture 100) on worker 0, registered as `w-adder`. It tells its
 * parent `{ port }` over IPC and closes when the parent sends 'close'.
 */
import { startClusterNode } from '../../processes/remote';
import { adder } from './remote-entries';

process.env.RXWIRE_REMOTE_CHILD = '1';

async function main(): Promise<void> {
  const [id, threads] = process.argv.slice(2);
  const node = await startClusterNode({ id, threads: Number(threads), listen: { port: 0 }, heartbeat: { interval: 250, timeout: 1500 } });
  // Ready once the worker runs it (a worker starting under ts-node takes a while).
  if (node.threads > 0) await node.spawn(adder, 100, { placement: { thread: 0 }, name: 'w-adder' }).request(0, { timeout: 60_000 });
  process.on('message', (message) => {
    if (message !== 'close') return;
    void node.close().then(() => process.disconnect());
  });
  process.send!({ port: node.port });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
