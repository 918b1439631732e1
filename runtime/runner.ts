/**
 * The runtime's runner: what a worker thread started by `initialize` runs
 * (through threads/worker-host.ts) around the user's module.
 */
import type { MessagePort } from 'node:worker_threads';
import type { ClusterLinks } from './cluster';
import type { ClusterConfig } from './config';
import type { NatsLinks } from './nats-links';
import type { NatsWorkerSetup } from './nats-subjects';
import { Peers } from './context';
import { runToResult } from '../threads/run';

/** What the parent hands each worker. */
export interface RuntimeSetup {
  /** How many workers there are, in every process. */
  peers: number;
  /** Per peer (global index), the port to it; null at this worker's own index and for workers of other processes. */
  mesh: (MessagePort | null)[];
  args: unknown;
  /** In a cluster, the config, to link this worker to the other processes' workers. */
  cluster?: ClusterConfig;
  /** In a NATS cluster, what the start agreed on, to link this worker to the other processes' workers over NATS. */
  nats?: NatsWorkerSetup;
}

export async function run(userExport: (...params: never[]) => unknown, setup: unknown, index: number) {
  const { peers, mesh, args, cluster, nats } = setup as RuntimeSetup;
  let remote: ClusterLinks | NatsLinks | undefined;
  try {
    // In a cluster, every link is up before the user's function starts. (Loaded
    // only then, so threads of one process never load the TCP transport.)
    if (cluster) remote = await (await import('./cluster')).ClusterLinks.start(cluster, index);
    if (nats) remote = await (await import('./nats-links')).NatsLinks.start(nats, index);
  } catch (err) {
    for (const port of mesh) port?.close();
    throw err;
  }
  const context = new Peers(index, peers, mesh, remote);
  try {
    const result = runToResult(userExport, [context.asContext(), args], (failure) => context.finish(failure));
    if (!remote) return { value: await result, release: () => context.dispose() };
    // A peer process that dies fails this worker, whatever its function waits for.
    const lost = remote.lost.then((err) => {
      context.finish({ error: err });
      throw err;
    });
    lost.catch(() => {}); // it may lose the race, or come after it
    const value = await Promise.race([result, lost]);
    await remote.farewell(context.allocatedChannels());
    return { value, release: () => context.dispose() };
  } catch (err) {
    context.dispose();
    await remote?.close();
    throw err;
  }
}
