/**
 * A thread's link to one other node of a cluster (on a worker, through the
 * node's own thread: processes/remote-relay.ts): its processes' calls to the
 * other node's (NodeFrames, processes/remote-frame.ts), and what this side
 * keeps of them: calls waiting for an answer, links, monitors held there and
 * held here. When the link drops, all settle at once: links fire with
 * reason `noconnection`, monitors deliver `ProcessDied` with it, calls in
 * flight reject with `NodeUnreachableError`. A link with a process there is kept here (not in the process's
 * table of links, keyed by this node's ids): this side monitors its own process and sends EXIT when it ends,
 * and applies the EXIT that comes back (remote-inbound.ts) as a local link would.
 */
import { performance } from 'node:perf_hooks';
import type { Codec } from '../core/codec';
import { FrameError, MailboxFullError, NameTakenError, NodeClosedError, NodeUnreachableError, ProcessExitedError, TransportClosedError, type ErrorData } from '../core/errors';
import type { Watch } from './bonds';
import { Calls } from './calls';
import { resolveEntry } from './entry';
import { Handle } from './handle';
import { State, type Proc } from './proc';
import { envelopeLost, errorBody } from './envelope';
import { NodeKind, nodeFrame, SPAWN_BLOCK, type NodeFrame } from './remote-frame';
import { ID_SPAN } from './ids';
import type { FrameSink, LinkIds, PeerSetup, RemoteOps } from './remote-ops';
import { refOf } from './ref';
import { Loads } from './remote-place';
import { MAX_TIMER_MS, checkName, spawnOptions } from './checks';
import type { Scheduler } from './scheduler';
import { LINK_QUEUE } from './thread';
import type { EntryCodecs, EntryLike, Exit, ExitReason, Monitor, Process, ProcessDied, ProcessRef, SpawnOptions } from './types';

/** A link between a process of this node (`local`) and one of the peer (`remote`). */
interface Bond {
  readonly local: ProcessRef;
  readonly remote: ProcessRef;
  tag: number;
  /** This side's monitor on `local` (its end sends EXIT). */
  readonly watch: Monitor;
}

/** The link to one other node. */
export class RemotePeer implements RemoteOps {
  readonly calls = new Calls();
  /** Monitors the peer holds on this node's processes, by the peer's monitor id. */
  readonly watched = new Map<number, Monitor>();
  /** Spawns of the peer that could not start here, by id: the error their monitors and requests are told. */
  readonly failed = new Map<number, ErrorData>();
  /** Links, by the local process's id, then `thread/id` of the remote one. */
  private readonly bonds = new Map<number, Map<string, Bond>>();
  /** Monitors held here on the peer's processes, by id. */
  private readonly watches = new Map<number, Watch>();
  /** The peer's loads (LOAD frames), for `placement: 'least-loaded'`. */
  readonly loads = new Loads();
  private waiting = 0;
  private over = false;
  private warned = false;
  private sizeWarnedAt = -Infinity;

  constructor(
    readonly setup: PeerSetup,
    readonly s: Scheduler,
    private readonly wire: FrameSink,
    private readonly ids: LinkIds,
  ) {}

  get id(): string {
    return this.setup.id;
  }

  get incarnation(): number {
    return this.setup.incarnation;
  }

  /** The ref of process `id` on the peer's thread `thread`. */
  refAt(thread: number, id: number): ProcessRef {
    return refOf(this.setup.id, thread, id, this.setup.incarnation);
  }

  spawn<C, M, R>(given: EntryLike<C, M, R>, capture: C, options: SpawnOptions, parent: Proc | null): Process<M, R> {
    const { link, linkTag, trapExits, name, mailboxBound } = spawnOptions(options, parent !== null);
    const thread = this.loads.place(options.placement, this.setup.thread);
    const entry = resolveEntry(given);
    const body = entry.capture.encode(capture);
    const k = this.ids.spawn();
    if (k >= SPAWN_BLOCK.slotSpan) throw new RangeError(`spawn: this link to node ${this.id} has used its ${SPAWN_BLOCK.slotSpan - 1} remote spawns (reconnect for more)`);
    const { thread: home, slot } = this.setup;
    const ref = this.refAt(thread, home * ID_SPAN + SPAWN_BLOCK.base + slot * SPAWN_BLOCK.slotSpan + k);
    this.loads.placed(thread);
    const text = `${entry.module}\n${entry.name}\n${name ?? ''}`;
    const from = link ? parent!.ref : null;
    this.offer(nodeFrame(NodeKind.SPAWN, { to: ref.id, thread, text, body, from: from?.id ?? 0, fromThread: from?.thread ?? 0, tag: linkTag, n: mailboxBound, call: trapExits ? 1 : 0 }));
    if (from) this.bond(from, ref, linkTag);
    return new Handle(this.s, ref, entry, parent);
  }

  /** With `timer` (a `sendAfter` firing), never refused: dropped when the link is over. */
  send(ref: ProcessRef, codec: Codec<unknown>, tag: number, message: unknown, timer: boolean): void {
    const frame = nodeFrame(NodeKind.MSG, { to: ref.id, thread: ref.thread, tag, body: codec.encode(message) });
    if (timer) this.post(frame);
    else this.tryPost(frame);
  }

  request<R>(ref: ProcessRef, codecs: EntryCodecs<unknown, unknown, R>, message: unknown, timeout: number | undefined, tag: number): Promise<R> {
    const [call, answer] = this.calls.start<Buffer>(0, timeout, 'request', () => this.unreachable('request'));
    try {
      const body = codecs.mailbox.encode(message);
      this.tryPost(nodeFrame(NodeKind.REQUEST, { to: ref.id, thread: ref.thread, tag, call, n: timeout ?? MAX_TIMER_MS, body })); // no limit: the longest a timer keeps
    } catch (err) {
      this.calls.reject(call, err as Error);
    }
    return answer.then((bytes) => codecs.reply!.decode(bytes));
  }

  link(owner: Proc, ref: ProcessRef, tag: number): void {
    if (owner.state === State.DEAD) return;
    this.bond(owner.ref, ref, tag);
    this.post(nodeFrame(NodeKind.LINK, { to: ref.id, thread: ref.thread, from: owner.id, fromThread: owner.ref.thread, tag }));
  }

  unlink(owner: Proc, ref: ProcessRef): void {
    if (this.unbond(owner.id, ref)) this.post(nodeFrame(NodeKind.UNLINK, { to: ref.id, thread: ref.thread, from: owner.id, fromThread: owner.ref.thread }));
  }

  monitor(owner: Proc | null, ref: ProcessRef): Monitor {
    const id = this.ids.monitor();
    let resolve!: (died: ProcessDied) => void;
    const died = new Promise<ProcessDied>((r) => (resolve = r));
    const cancel = () => void this.unwatch(id, true);
    this.watches.set(id, { target: ref, owner, resolve });
    this.s.heldFar(owner, id, cancel); // it ends with its owner, as a monitor on this node does
    this.post(nodeFrame(NodeKind.MONITOR, { to: ref.id, thread: ref.thread, tag: id }));
    return { id, died, cancel };
  }

  /** Forgets monitor `id` held here (and its owner's note of it); with `tell`, the peer drops it too. */
  private unwatch(id: number, tell: boolean): Watch | undefined {
    const watch = this.watches.get(id);
    if (!watch) return undefined;
    this.watches.delete(id);
    this.s.releasedFar(watch.owner, id);
    if (tell) this.post(nodeFrame(NodeKind.DEMONITOR, { to: watch.target.id, thread: watch.target.thread, tag: id }));
    return watch;
  }

  kill(ref: ProcessRef): void {
    this.post(nodeFrame(NodeKind.KILL, { to: ref.id, thread: ref.thread }));
  }

  async register(ref: ProcessRef, name: string): Promise<void> {
    checkName(name, 'register: name');
    const answer = await this.ask('register', nodeFrame(NodeKind.REGISTER, { to: ref.id, thread: ref.thread, text: name }));
    if (answer.text === 'NameTakenError') throw new NameTakenError(name);
    if (answer.text !== '') throw new ProcessExitedError(`register: process ${ref.id} of node ${this.id} has ended`, 'noproc');
  }

  async isAlive(ref: ProcessRef): Promise<boolean> {
    const answer = await this.ask('isAlive', nodeFrame(NodeKind.ALIVE, { to: ref.id, thread: ref.thread }));
    return answer.n === 1;
  }

  async lookup(name: string): Promise<ProcessRef | undefined> {
    checkName(name, 'lookup: name');
    const answer = await this.ask('lookup', nodeFrame(NodeKind.LOOKUP, { text: name }));
    return answer.n < 0 ? undefined : this.refAt(answer.n, answer.from);
  }

  /** The peer linked its process `remote` to our `local` (or a spawn asked to): keep the link, watch `local`. */
  bond(local: ProcessRef, remote: ProcessRef, tag: number): void {
    let mine = this.bonds.get(local.id);
    const key = `${remote.thread}/${remote.id}`;
    const known = mine?.get(key);
    if (known) return void (known.tag = tag);
    const watch = this.s.monitor(null, local);
    (mine ??= new Map()).set(key, { local, remote, tag, watch });
    this.bonds.set(local.id, mine);
    void watch.died.then((died) => {
      if (this.take(local.id, key) === undefined) return;
      const body = errorBody(died.error);
      this.post(nodeFrame(NodeKind.EXIT, { to: remote.id, thread: remote.thread, from: local.id, fromThread: local.thread, text: died.reason, body }));
    });
  }

  /** Removes the link between `local` (an id here) and `remote`; false when there was none. */
  unbond(local: number, remote: ProcessRef): boolean {
    const bond = this.take(local, `${remote.thread}/${remote.id}`);
    bond?.watch.cancel();
    return bond !== undefined;
  }

  /** The peer's process `remote`, linked to our `local`, ended: the link fires here as a local one would. */
  exited(local: number, remote: ProcessRef, exit: Exit): void {
    const bond = this.take(local, `${remote.thread}/${remote.id}`);
    if (!bond) return;
    bond.watch.cancel();
    this.fire(bond, exit);
  }

  /** Monitor `monitor` (held here) fired: the peer's process ended. */
  down(monitor: number, exit: Exit): void {
    const watch = this.unwatch(monitor, false);
    if (!watch) return;
    const died: ProcessDied = { type: 'ProcessDied', monitor, process: watch.target, reason: exit.reason, error: exit.error };
    watch.resolve(died);
    if (watch.owner && watch.owner.state !== State.DEAD) watch.owner.mailbox.pushSignal(died);
  }

  /** Posts `frame` (signals, timers, relays: queued while the connection is full); never throws: a frame refused is lost, and said. */
  post(frame: NodeFrame): void {
    try {
      this.offer(frame);
    } catch (err) {
      this.lost(err);
    }
  }

  /** As `post`, for a caller's own call: a frame the connection cannot carry (over its maxFrame) is its FrameError. */
  offer(frame: NodeFrame): void {
    if (this.over) return;
    try {
      if (this.wire.trySend(frame)) return;
    } catch (err) {
      if (err instanceof TransportClosedError) return; // the connection closed: its reading side reports the drop
      throw err;
    }
    this.waiting++;
    this.wire.send(frame).then(
      () => this.waiting--,
      (err) => (this.waiting--, err instanceof TransportClosedError || this.lost(err)), // a drop: the reading side says it
    );
  }

  /** A frame was refused: said for its size (FrameError) at most once a second, else once a link (a closed link refuses every frame after it). */
  private lost(err: unknown): void {
    const size = err instanceof FrameError;
    if (size ? performance.now() - this.sizeWarnedAt < 1000 : this.warned) return;
    if (size) this.sizeWarnedAt = performance.now();
    else this.warned = true;
    envelopeLost(`node ${this.id}`, err);
  }

  /**
   * The link dropped (`noconnection`) or this node closes (`shutdown`, with
   * `closing`): everything kept settles now and nothing more is sent.
   */
  drop(reason: ExitReason, closing?: Error): void {
    if (this.over) return;
    this.over = true;
    if (closing) this.calls.closeAll(closing);
    else this.calls.threadGone(0);
    const exit: Exit = { reason, error: null };
    for (const mine of [...this.bonds.values()]) {
      for (const bond of mine.values()) {
        bond.watch.cancel();
        if (!closing) this.fire(bond, exit);
      }
    }
    this.bonds.clear();
    for (const monitor of [...this.watches.keys()]) this.down(monitor, exit);
    for (const watch of this.watched.values()) watch.cancel();
    this.watched.clear();
  }

  /** Sends a message or request: a typed error, nothing sent, when the connection holds LINK_QUEUE frames unsent. */
  private tryPost(frame: NodeFrame): void {
    if (this.over) throw new NodeClosedError(`the link to node ${this.id} is closed`);
    if (this.waiting >= LINK_QUEUE) throw new MailboxFullError(`send: the link to node ${this.id} is full`);
    this.offer(frame);
  }

  /** A question to the peer, answered by ANSWER; the drop rejects it. */
  private ask(what: string, frame: NodeFrame): Promise<NodeFrame> {
    const [call, answer] = this.calls.start<NodeFrame>(0, undefined, what, () => this.unreachable(what));
    frame.call = call;
    try {
      this.offer(frame);
    } catch (err) {
      this.calls.reject(call, err as Error);
    }
    return answer;
  }

  private unreachable(what: string): Error {
    return new NodeUnreachableError(this.id, `${what}: node ${this.id} dropped off before it answered`);
  }

  private take(local: number, key: string): Bond | undefined {
    const mine = this.bonds.get(local);
    const bond = mine?.get(key);
    if (!bond) return undefined;
    mine!.delete(key);
    if (mine!.size === 0) this.bonds.delete(local);
    return bond;
  }

  /** A link fires on our `bond.local`, a process of this thread (a worker's links to other nodes are kept by that worker's own link, see processes/remote-uplink.ts). */
  private fire(bond: Bond, exit: Exit): void {
    const proc = this.s.procs.get(bond.local.id);
    if (proc) this.s.linkFired(proc, bond.remote, bond.tag, exit.reason, exit.error);
  }
}
