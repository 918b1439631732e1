/**
 * What a thread's scheduler asks of the node's links to other nodes
 * (implemented by processes/remote-peer.ts, one per linked node). Only the
 * node's own thread has them: the scheduler of a worker thread has no
 * `remote` and refuses calls to another node with `UnknownNodeError`.
 */
import type { Ops } from './ops';
import type { ProcessRef } from './types';

/**
 * The calls to processes of one other node: those of a thread's scheduler
 * (see `Process` for what each does; `send` ignores the timer flag), plus
 * a lookup in that node's registry.
 */
export interface RemoteOps extends Pick<Ops, 'spawn' | 'send' | 'request' | 'link' | 'unlink' | 'monitor' | 'kill' | 'register' | 'isAlive'> {
  /** The ref registered as `name` on that node, if any. */
  lookup(name: string): Promise<ProcessRef | undefined>;
}

/** The node's links to other nodes, by node id. */
export interface RemoteRouter {
  /** The link to node `node`, if there is one now. */
  to(node: string): RemoteOps | undefined;
}

/** A call to another node: what finding its link throws (`UnknownNodeError`) rejects the Promise instead. */
export function tryFar<T>(call: () => Promise<T>): Promise<T> {
  try {
    return call();
  } catch (err) {
    return Promise.reject(err);
  }
}
