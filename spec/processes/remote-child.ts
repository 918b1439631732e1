/**
 * A cluster node in a child process, for the remote-process specs:
 * `remote-child.ts ID THREADS [NATS_URL]` starts node ID with THREADS
 * workers, listening on an ephemeral port on 127.0.0.1 (or, given a NATS
 * server's URL, meeting other nodes over NATS only); with workers, it also runs
 * `adder` (capture 100) on worker 0, registered as `w-adder`. It tells its
 * parent `{ port }` over IPC and closes when the parent sends 'close'.
 */
import { startClusterNode } from '../../processes/remote';
import { adder } from './remote-entries';

process.env.RXWIRE_REMOTE_CHILD = '1';

async function main(): Promise<void> {
  const [id, threads, nats] = process.argv.slice(2);
  const heartbeat = { interval: 250, timeout: 1500 };
  const node = nats
    ? await startClusterNode({ id, threads: Number(threads), nats: { servers: nats }, heartbeat })
    : await startClusterNode({ id, threads: Number(threads), listen: { port: 0 }, heartbeat });
  // Ready once the worker runs it (a worker starting under ts-node takes a while).
  if (node.threads > 0) await node.spawn(adder, 100, { placement: { thread: 0 }, name: 'w-adder' }).request(0, { timeout: 60_000 });
  process.on('message', (message) => {
    if (message !== 'close') return;
    void node.close().then(() => process.disconnect());
  });
  process.send!({ port: node.port ?? 0 });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
