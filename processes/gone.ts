/**
 * Calls to a process of an earlier run of a node: a ref whose `incarnation`
 * is not the one its node runs now (this node, or the linked node of that
 * id, restarted under the same id since the ref was made). Its `thread`
 * and `id` may be those of a new process there; the call must not reach
 * it. Each call acts as on a process that has ended (Erlang's pids carry
 * their node's "creation" for the same reason): a message or kill is
 * dropped, a request rejects and a register fails with ProcessExitedError
 * `noproc`, `isAlive` is false, a link fires `noproc`, a monitor delivers
 * ProcessDied `noproc` — all without asking the node.
 */
import { ProcessExitedError } from '../core/errors';
import type { Proc } from './proc';
import { refText } from './ref';
import type { RemoteOps } from './remote-ops';
import type { Monitor, ProcessRef } from './types';

/** What the calls need of the thread's scheduler (processes/bonds.ts). */
export interface GoneHost {
  /** `owner`'s link to `ref` fired: LinkDied, or its end. */
  linkFired(owner: Proc, ref: ProcessRef, tag: number, reason: 'noproc', error: null): void;
  /** A monitor that fires at once with `noproc`. */
  monitorEnded(owner: Proc | null, ref: ProcessRef): Monitor;
}

/** The calls a ref makes, when it names a process of an earlier run of its node. */
export type RefOps = Pick<RemoteOps, 'send' | 'request' | 'link' | 'unlink' | 'monitor' | 'kill' | 'register' | 'isAlive'>;

/** See the module's comment. */
export function goneOps(host: GoneHost): RefOps {
  const ended = (call: string, ref: ProcessRef) =>
    new ProcessExitedError(`${call}: process ${refText(ref)} is of an earlier run of node ${JSON.stringify(ref.node)} (incarnation ${ref.incarnation}): it has ended`, 'noproc');
  return {
    send: () => undefined,
    request: (ref) => Promise.reject(ended('request', ref)),
    link: (owner, ref, tag) => host.linkFired(owner, ref, tag, 'noproc', null),
    unlink: () => undefined,
    monitor: (owner, ref) => host.monitorEnded(owner, ref),
    kill: () => undefined,
    register: (ref) => Promise.reject(ended('register', ref)),
    isAlive: () => Promise.resolve(false),
  };
}
