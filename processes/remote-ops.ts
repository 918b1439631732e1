/**
 * What a thread's scheduler asks of the node's links to other nodes
 * (implemented by processes/remote-peer.ts, one per linked node). Only the
 * node's own thread has them: the scheduler of a worker thread has no
 * `remote` and refuses calls to another node with `UnknownNodeError`.
 */
import type { Codec } from '../core/codec';
import type { Proc } from './proc';
import type { EntryCodecs, EntryLike, Monitor, Process, ProcessRef, SpawnOptions } from './types';

/** The calls to processes of one other node (see `Process` for what each does). */
export interface RemoteOps {
  spawn<C, M, R>(entry: EntryLike<C, M, R>, capture: C, options: SpawnOptions, parent: Proc | null): Process<M, R>;
  send(ref: ProcessRef, codec: Codec<unknown>, tag: number, message: unknown): void;
  request<R>(ref: ProcessRef, codecs: EntryCodecs<unknown, unknown, R>, message: unknown, timeout: number, tag: number): Promise<R>;
  link(owner: Proc, ref: ProcessRef, tag: number): void;
  unlink(owner: Proc, ref: ProcessRef): void;
  monitor(owner: Proc | null, ref: ProcessRef): Monitor;
  kill(ref: ProcessRef): void;
  register(ref: ProcessRef, name: string): Promise<void>;
  isAlive(ref: ProcessRef): Promise<boolean>;
  /** The ref registered as `name` on that node, if any. */
  lookup(name: string): Promise<ProcessRef | undefined>;
}

/** The node's links to other nodes, by node id. */
export interface RemoteRouter {
  /** The link to node `node`. @throws UnknownNodeError when there is none */
  to(node: string): RemoteOps;
}

/** A call to another node: what finding its link throws (`UnknownNodeError`) rejects the Promise instead. */
export function tryFar<T>(call: () => Promise<T>): Promise<T> {
  try {
    return call();
  } catch (err) {
    return Promise.reject(err);
  }
}
