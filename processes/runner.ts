/**
 * The runner of a node's worker threads (threads/worker-host.ts loads it):
 * joins the thread to its node and keeps it there until the node releases it.
 */
import type { MessagePort } from 'node:worker_threads';
import { joinCluster } from './remote-uplink';
import { joinNode, type ThreadSetup } from './thread';

/** What `startNode` hands each worker. */
export interface WorkerSetup extends ThreadSetup {
  /** Per thread of the node, the port to it (null for this one). */
  mesh: (MessagePort | null)[];
}

/** Joins the node; the worker's "result" is reported at once, and `release` (the node's close) leaves it. */
export async function run(_module: unknown, setup: unknown, index: number) {
  const { mesh, ...thread } = setup as WorkerSetup;
  const joined = joinNode(thread, index, mesh);
  joinCluster(joined.scheduler); // its calls to other nodes go through the node's own thread, when it is a cluster node
  return { value: undefined, release: () => joined.close() };
}

/** The module a node's workers load as their "user module": the processes they run are loaded by their entries. */
export default function nodeThread(): void {}
