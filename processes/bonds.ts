/**
 * Links, monitors and exits: what a thread does when one of its processes
 * ends, when a process elsewhere that one of its processes is linked to or
 * monitors ends, and when a whole thread of the node dies.
 *
 * Rules (Erlang's). A link is both ways. When a process ends, each linked
 * process hears of it: one that traps exits receives `LinkDied` (for every
 * reason, `normal` included); one that does not is killed (reason `linked`,
 * carrying the first error) unless the reason is `normal`. A monitor
 * delivers `ProcessDied` once, for every reason, and kills no one. A link
 * or monitor to a process that has already ended fires at once with reason
 * `noproc`; processes of a thread that died end with reason `thread`.
 */
import { ErrorCode, NodeClosedError, ProcessExitedError, UnknownNodeError, type ErrorData } from '../core/errors';
import { envelope, errorBody, ERROR_BYTES, Kind } from './envelope';
import { goneOps, type GoneHost, type RefOps } from './gone';
import { countOf, ID_SPAN, makerOf, REMOTE_IDS } from './ids';
import type { Mesh } from './ops';
import { State, type Proc } from './proc';
import { refOf, refText } from './ref';
import type { RemoteOps, RemoteRouter } from './remote-ops';
import { RunQueue } from './runqueue';
import type { Exit, ExitReason, Monitor, ProcessDied, ProcessRef } from './types';

/** A monitor this thread holds (for its process `owner`, or for no process), on this node or another (remote-peer.ts). */
export interface Watch {
  readonly target: ProcessRef;
  readonly owner: Proc | null;
  resolve(died: ProcessDied): void;
}

/** Ends remembered by {@link Bonds.recentExit}. */
const RECENT = 256;

/** The links and monitors of one thread. */
export abstract class Bonds extends RunQueue implements GoneHost {
  private readonly watches = new Map<number, Watch>();
  /** Monitors held here on other nodes' processes, owned by a process of this thread: how to cancel each (see heldFar). */
  private readonly farWatches = new Map<number, () => void>();
  /** Per thread of the node: it has died (or closed). */
  protected readonly gone: boolean[];
  private lastId = 0;
  private lastMonitor = 0;
  /** How the last RECENT processes of this thread that were spawned from another thread or node ended, by id (see recentExit). */
  private readonly recent = new Map<number, Exit>();
  /** The node's links to other nodes (on the node's own thread of a cluster node; see processes/remote.ts). */
  remote: RemoteRouter | null = null;
  /** Calls to refs of an earlier run of their node (processes/gone.ts). */
  private readonly goneCalls: RefOps = goneOps(this);

  constructor(
    node: string,
    thread: number,
    counts: Int32Array,
    readonly mesh: Mesh,
    /** How many worker threads the node runs (the node's own thread is index `threads`). */
    readonly threads: number,
    /** The node's incarnation (ProcessRef.incarnation): drawn when it started. */
    readonly incarnation: number,
  ) {
    super(node, thread, counts);
    this.gone = new Array(threads + 1).fill(false);
  }

  /** The most bytes an error takes in an envelope here: ERROR_BYTES, less on small rings (the rest of the envelope fits too). */
  get errorBytes(): number {
    return Math.max(256, Math.min(ERROR_BYTES, this.mesh.largest - 256));
  }

  /** Whether thread `thread` of the node has died. */
  isGone(thread: number): boolean {
    return this.gone[thread];
  }

  /** The link to node `node`, for a call to one of its processes. */
  protected far(node: string): RemoteOps {
    const ops = this.remote?.to(node);
    if (ops) return ops;
    throw new UnknownNodeError(node, this.remote ? undefined : `no link to node ${JSON.stringify(node)}: calls to another node are made from the node's own thread of a cluster node`);
  }

  /** Whether `ref` names a process of this node as it runs now (not of another node, nor of this one before a restart). */
  protected here(ref: ProcessRef): boolean {
    return ref.node === this.node && ref.incarnation === this.incarnation;
  }

  /**
   * The calls to `ref`, which is not {@link here}: the link to its node, or, when the ref is of an earlier run of
   * its node (this one, or the linked one), calls that act on a process that has ended (processes/gone.ts).
   * With `quiet`, undefined when its node is not linked; else that throws UnknownNodeError.
   */
  protected refOps(ref: ProcessRef, quiet = false): RefOps | undefined {
    if (ref.node === this.node) return this.goneCalls;
    const ops = quiet ? this.remote?.to(ref.node) : this.far(ref.node);
    return ops === undefined || ops.incarnation === ref.incarnation ? ops : this.goneCalls;
  }

  /**
   * A new process id, unique in the node: this thread's index times 2^32,
   * plus a count below REMOTE_IDS (2^31), from where other nodes' spawns are
   * counted. Ids are never reused: past the last, a spawn made on this thread
   * is a RangeError (it ran on into those ids, and messages reached the
   * wrong process).
   */
  protected nextId(): number {
    if (this.lastId >= REMOTE_IDS - 1) throw new RangeError(`spawn: thread ${this.thread} of this node has made its ${REMOTE_IDS - 1} process ids (they are never reused)`);
    return this.thread * ID_SPAN + ++this.lastId;
  }

  /** A new monitor id, unique in the node as process ids are, counted apart from them (monitors used up process ids). */
  private nextMonitorId(): number {
    if (this.lastMonitor >= ID_SPAN - 1) throw new RangeError(`monitor: thread ${this.thread} of this node has made its ${ID_SPAN - 1} monitor ids (they are never reused)`);
    return this.thread * ID_SPAN + ++this.lastMonitor;
  }

  /** The ref of process `id` on `thread` of this node. */
  refAt(thread: number, id: number): ProcessRef {
    return refOf(this.node, thread, id, this.incarnation);
  }

  link(owner: Proc, ref: ProcessRef, tag: number): void {
    if (!this.here(ref)) return this.refOps(ref)!.link(owner, ref, tag);
    if (owner.state === State.DEAD || ref.id === owner.id) return;
    owner.link(ref, tag);
    if (ref.thread !== this.thread) {
      if (this.gone[ref.thread]) return this.linkExit(owner, ref, 'thread', null); // as `monitor` says of it
      this.mesh.post(ref.thread, envelope(Kind.LINK, { to: ref.id, from: owner.id, tag }));
      return;
    }
    const other = this.procs.get(ref.id);
    if (other) other.link(owner.ref, tag);
    else {
      const ended = this.recentExit(ref.id);
      this.linkExit(owner, ref, ended?.reason ?? 'noproc', ended?.error ?? null);
    }
  }

  unlink(owner: Proc, ref: ProcessRef): void {
    if (!this.here(ref)) return this.refOps(ref, true)?.unlink(owner, ref); // a dropped node's links have fired already
    owner.links?.delete(ref.id);
    if (ref.thread === this.thread) this.procs.get(ref.id)?.links?.delete(owner.id);
    else this.mesh.post(ref.thread, envelope(Kind.UNLINK, { to: ref.id, from: owner.id }));
  }

  kill(ref: ProcessRef): void {
    if (!this.here(ref)) return this.refOps(ref)!.kill(ref);
    if (ref.thread !== this.thread) this.mesh.post(ref.thread, envelope(Kind.KILL, { to: ref.id }));
    else {
      const proc = this.procs.get(ref.id);
      if (proc) this.exit(proc, 'killed', null);
    }
  }

  monitor(owner: Proc | null, ref: ProcessRef): Monitor {
    if (this.closing) throw new NodeClosedError('monitor: the node is closed'); // before a far node's refusal: its link is gone
    if (owner?.state === State.DEAD) throw new ProcessExitedError(`monitor: the owner process ${owner.id} has ended`, 'noproc');
    if (!this.here(ref)) return this.refOps(ref)!.monitor(owner, ref);
    const monitor = this.watch(owner, ref);
    const { id } = monitor;
    if (ref.thread !== this.thread) {
      if (this.gone[ref.thread]) this.down(id, ref, { reason: 'thread', error: null });
      else this.mesh.post(ref.thread, envelope(Kind.MONITOR, { to: ref.id, tag: id }));
    } else {
      const target = this.procs.get(ref.id);
      if (target) (target.watchers ??= new Map()).set(id, this.thread);
      else this.down(id, ref, this.recentExit(ref.id) ?? { reason: 'noproc', error: null });
    }
    return monitor;
  }

  /** A monitor held here by `owner` on `ref`, not yet told to the target's thread. */
  private watch(owner: Proc | null, ref: ProcessRef): Monitor {
    if (this.closing) throw new NodeClosedError('monitor: the node is closed');
    const id = this.nextMonitorId();
    let resolve!: (died: ProcessDied) => void;
    const died = new Promise<ProcessDied>((r) => (resolve = r));
    this.watches.set(id, { target: ref, owner, resolve });
    if (owner) (owner.watching ??= new Set()).add(id);
    return { id, died, cancel: () => this.unwatch(id) };
  }

  monitorEnded(owner: Proc | null, ref: ProcessRef): Monitor {
    const monitor = this.watch(owner, ref);
    this.down(monitor.id, ref, { reason: 'noproc', error: null });
    return monitor;
  }

  /** `owner`'s link to `ref` (with `tag`) fired: it receives LinkDied if it traps exits, else it ends unless the reason is `normal`. */
  linkFired(owner: Proc, ref: ProcessRef, tag: number, reason: ExitReason, error: ErrorData | null): void {
    if (owner.state === State.DEAD) return;
    if (owner.trap) owner.mailbox.pushSignal({ type: 'LinkDied', tag, process: ref, reason, error });
    else if (reason !== 'normal') this.exit(owner, 'linked', error ?? linkedError(ref, reason));
  }

  /** A monitor on another node's process (id < 0, unique on this thread) held by `owner` ends with it, as a local one. */
  heldFar(owner: Proc | null, id: number, cancel: () => void): void {
    if (!owner) return;
    (owner.watching ??= new Set()).add(id);
    this.farWatches.set(id, cancel);
  }

  /** That monitor fired or was cancelled. */
  releasedFar(owner: Proc | null, id: number): void {
    owner?.watching?.delete(id);
    this.farWatches.delete(id);
  }

  /** Monitor `id` of this thread is cancelled (by its owner, or as its owner ends). */
  private unwatch(id: number): void {
    if (id < 0) return this.farWatches.get(id)?.();
    const watch = this.watches.get(id);
    if (!watch) return;
    this.watches.delete(id);
    watch.owner?.watching?.delete(id);
    const ref = watch.target;
    if (ref.thread === this.thread) this.procs.get(ref.id)?.watchers?.delete(id);
    else if (!this.closing && !this.gone[ref.thread]) this.mesh.post(ref.thread, envelope(Kind.DEMONITOR, { to: ref.id, tag: id }));
  }

  /** Monitor `monitor` of this thread fired: `ref` ended. */
  down(monitor: number, ref: ProcessRef, exit: Exit): void {
    const watch = this.watches.get(monitor);
    if (!watch) return;
    this.watches.delete(monitor);
    watch.owner?.watching?.delete(monitor);
    const died: ProcessDied = { type: 'ProcessDied', monitor, process: ref, reason: exit.reason, error: exit.error };
    watch.resolve(died);
    if (watch.owner && watch.owner.state !== State.DEAD) watch.owner.mailbox.pushSignal(died);
  }

  /** The process at the other end of `proc`'s link to `ref` ended. */
  linkExit(proc: Proc, ref: ProcessRef, reason: ExitReason, error: ErrorData | null): void {
    const link = proc.links?.get(ref.id);
    if (!link || proc.state === State.DEAD) return;
    proc.links!.delete(ref.id);
    this.linkFired(proc, link.ref, link.tag, reason, error);
  }

  /**
   * How process `id` of this thread ended, if it was spawned here from another thread or node (its SPAWN came
   * as a message, which a monitor or link sent right after it follows) and is among the last RECENT of those
   * that ended here: a monitor or link that comes just too late is told that, not `noproc`.
   */
  recentExit(id: number): Exit | undefined {
    return this.recent.get(id);
  }

  /** Tells `proc`'s links and monitors, here and on other threads, that it ended. */
  protected ended(proc: Proc, exit: Exit): void {
    if (makerOf(proc.id) !== this.thread || countOf(proc.id) >= REMOTE_IDS) {
      this.recent.set(proc.id, exit);
      if (this.recent.size > RECENT) this.recent.delete(this.recent.keys().next().value!);
    }
    const body = errorBody(exit.error, this.errorBytes);
    if (proc.links) {
      for (const [id, link] of proc.links) {
        if (link.ref.thread !== this.thread) {
          if (!this.closing) this.mesh.post(link.ref.thread, envelope(Kind.EXIT, { to: id, from: proc.id, text: exit.reason, body }));
        } else {
          const other = this.procs.get(id);
          if (other) this.linkExit(other, proc.ref, exit.reason, exit.error);
        }
      }
      proc.links = null;
    }
    if (proc.watchers) {
      for (const [monitor, thread] of proc.watchers) {
        if (thread === this.thread) this.down(monitor, proc.ref, exit);
        else if (!this.closing) this.mesh.post(thread, envelope(Kind.DOWN, { from: proc.id, tag: monitor, text: exit.reason, body }));
      }
      proc.watchers = null;
    }
    // Its own monitors end with it: a monitor's `died` never resolves for an owner that is gone (a supervisor
    // killed would restart its children, unlinked, from the dead), and their entries are not kept.
    if (proc.watching) {
      for (const id of proc.watching) this.unwatch(id);
      proc.watching = null;
    }
  }

  /**
   * Thread `thread` died: the links of this thread's processes to its
   * processes fire, and the monitors on them, with reason `thread`.
   */
  protected threadGone(thread: number): void {
    if (this.gone[thread]) return;
    this.gone[thread] = true;
    const exit: Exit = { reason: 'thread', error: null };
    for (const proc of this.procs.values()) {
      if (!proc.links) continue;
      for (const link of [...proc.links.values()]) if (link.ref.thread === thread) this.linkExit(proc, link.ref, 'thread', null);
    }
    for (const [monitor, watch] of [...this.watches]) if (watch.target.thread === thread) this.down(monitor, watch.target, exit);
  }
}

/** The error a process killed by a link carries, when the linked one ended without an error of its own. */
export function linkedError(ref: ProcessRef, reason: ExitReason): ErrorData {
  return { name: 'ProcessExitedError', message: `linked process ${refText(ref)} ended (${reason})`, code: ErrorCode.PROCESS_EXITED, stack: null };
}
