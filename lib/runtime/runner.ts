/**
 * The runtime's runner: what a worker thread started by `initialize` runs
 * (through lib/worker-host.ts) around the user's module.
 */
import type { MessagePort } from 'node:worker_threads';
import { Peers } from './context';
import { runToResult } from './run';

/** What the parent hands each worker. */
export interface RuntimeSetup {
  peers: number;
  /** Per peer, the port to it; null at this worker's own index. */
  mesh: (MessagePort | null)[];
  args: unknown;
}

export async function run(userExport: (...params: never[]) => unknown, setup: unknown, index: number) {
  const { peers, mesh, args } = setup as RuntimeSetup;
  const context = new Peers(index, peers, mesh);
  try {
    const value = await runToResult(userExport, [context.asContext(), args], (error) => context.finish(error));
    return { value, release: () => context.dispose() };
  } catch (err) {
    context.dispose();
    throw err;
  }
}
