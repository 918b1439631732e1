/**
 * A thread's scheduler: every handle call of the thread lands here. Local
 * targets are served in place; others get an Envelope on the ring to their
 * thread (processes/dispatch.ts is the receiving side).
 *
 * Messages are values. On another thread a message is encoded with the mailbox codec and decoded there (a
 * copy, as lunatic serializes). On the same thread it is checked against the codec (`codec.check`, so what
 * does not fit fails the same way, with `EncodeError`) and handed over as it is, without a copy: a sender must
 * not change a message after sending it. That keeps the local path free of encoding.
 */
import type { Codec } from '../core/codec';
import { MailboxFullError, NameTakenError, NodeClosedError, ProcessExitedError, toErrorData, type ErrorData } from '../core/errors';
import { ErrorRecord } from '../core/frame';
import { Naming } from './naming';
import { Calls } from './calls';
import { checkDelay, checkName, checkOptions, checkRef, OPTIONS, spawnOptions } from './checks';
import { checkHandleCodecs, resolveEntry } from './entry';
import { envelope, envelopeLost, Kind, type Envelope } from './envelope';
import { Handle, SelfHandle } from './handle';
import { makerOf } from './ids';
import type { Asker } from './mailbox';
import type { Mesh, Ops } from './ops';
import { Proc, State } from './proc';
import { Registry } from './registry';
import { Fullness } from './fullness';
import { tryFar } from './remote-ops';
import { LINK_COUNTERS } from './remote-frame';
import type { Entry, EntryCodecs, EntryLike, Exit, LookupOptions, Process, ProcessRef, Self, SpawnOptions, Timer } from './types';

/** One thread's scheduler. */
export class Scheduler extends Naming implements Ops {
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  /** The bounds of mailboxes on other threads (processes/fullness.ts). */
  readonly fullness = new Fullness(this.mesh);

  spawn<C, M, R>(given: EntryLike<C, M, R>, capture: C, optionsGiven: SpawnOptions | undefined, parent: Proc | null): Process<M, R> {
    if (this.closing) throw new NodeClosedError('spawn: the node is closed');
    // A dead parent's children would run unlinked and unwatched (a supervisor restarting them after its own end).
    if (parent?.state === State.DEAD) throw new ProcessExitedError(`spawn: the parent process ${parent.id} has ended`, 'noproc');
    const options = checkOptions(optionsGiven, 'spawn: options', OPTIONS.spawn);
    if (options.node !== undefined && options.node !== this.node) return this.far(options.node).spawn(given, capture, options, parent);
    const entry = resolveEntry(given);
    const thread = this.placement(options, parent);
    const { link, linkTag, trapExits, name, mailboxBound } = spawnOptions(options, parent !== null);
    const ref = this.refAt(thread, this.nextId());
    const handle = new Handle(this, ref, entry, parent);
    if (thread === this.thread) {
      checkValue(entry.capture, capture);
      const proc = new Proc(this, ref, entry as Entry<unknown, unknown, unknown>, capture, mailboxBound, trapExits);
      handle.local = proc; // its first send skips the table
      this.admitNamed(proc, name !== undefined);
      if (link) this.link(parent!, ref, linkTag);
      if (name !== undefined) this.claimAtSpawn(ref, name);
    } else {
      const body = entry.capture.encode(capture);
      const text = `${entry.module}\n${entry.name}\n${name ?? ''}`;
      const from = link ? parent!.id : 0;
      this.mesh.post(thread, envelope(Kind.SPAWN, { to: ref.id, from, tag: linkTag, n: mailboxBound, call: trapExits ? 1 : 0, text, body }));
      if (link) parent!.link(ref, linkTag);
      if (this.gone[thread] && link) this.linkExit(parent!, ref, 'thread', null);
      if (name !== undefined) this.claimAtSpawn(ref, name);
    }
    return handle;
  }

  send(ref: ProcessRef, codec: Codec<unknown>, tag: number, message: unknown, timer: boolean, cache?: { local: Proc | undefined }): void {
    if (this.closing) {
      if (timer) return; // a timer (or another node's message) after the close: nothing to deliver to
      throw new NodeClosedError('send: the node is closed');
    }
    if (ref.thread === this.thread && this.here(ref)) {
      codec.check(message);
      // A handle keeps its target once found (a spawn's handle from the start): skipping the table took a
      // one-thread ring from 5.2M to 7.4M hops per CPU-second (medians of 5, bench/process/probe.js) when it was a
      // Map keyed by 2^32-scale ids; it is cheaper now (processes/table.ts), the cache still saves the look-up.
      // A dead target is looked up again, not found, and let go.
      let target = cache?.local;
      if (target === undefined || target.state === State.DEAD) {
        target = this.procs.get(ref.id);
        if (cache) cache.local = target;
      }
      if (!target) return;
      // A handle made with other codecs (node.handle, lookup): what the target takes is its own codec's.
      if (target.entry.mailbox !== codec) checkValue(target.entry.mailbox, message);
      if (!timer && target.mailbox.full) throw new MailboxFullError(`send: the mailbox of process ${ref.id} holds ${target.mailbox.bound} messages`);
      target.mailbox.push(message, tag, null);
      return;
    }
    if (!this.here(ref)) return this.refOps(ref, timer)?.send(ref, codec, tag, message, timer);
    if (!timer) this.fullness.check(ref.id, 'send');
    if (this.mesh.sendNow?.(ref.thread, ref.id, tag, codec, message)) return;
    const body = codec.encode(message);
    const sent: Envelope = { kind: Kind.MSG, to: ref.id, from: 0, tag, call: 0, n: 0, text: '', body };
    if (timer) this.mesh.post(ref.thread, sent);
    else if (!this.mesh.tryPost(ref.thread, sent)) throw new MailboxFullError(`send: the link to thread ${ref.thread} is full`);
  }

  sendAfter(ref: ProcessRef, codec: Codec<unknown>, tag: number, message: unknown, ms: number): Timer {
    checkDelay(ms, 'sendAfter: ms');
    if (this.closing) throw new NodeClosedError('sendAfter: the node is closed');
    codec.check(message);
    const fire = this.later(ref, codec, tag, message);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.closing) return;
      try {
        fire();
      } catch (err) {
        envelopeLost(`process ${ref.id}`, err); // nothing checked at the call should fail here; a timer must not throw
      }
    }, ms);
    this.timers.add(timer);
    return {
      cancel: () => {
        if (!this.timers.delete(timer)) return false;
        clearTimeout(timer);
        return true;
      },
    };
  }

  /**
   * What a `sendAfter` timer does when it fires, the message checked whole now: to another thread it is
   * encoded now, its size too (a FrameError at the call, not from the timer), so the timer can only deliver
   * it or drop it (its target or thread gone). To this thread it is handed over then (see the top of this
   * file); to another node its connection takes it then (README: `maxFrame`, when it is taken).
   */
  private later(ref: ProcessRef, codec: Codec<unknown>, tag: number, message: unknown): () => void {
    if (!this.here(ref) || ref.thread === this.thread) return () => this.send(ref, codec, tag, message, true);
    const sent: Envelope = { kind: Kind.MSG, to: ref.id, from: 0, tag, call: 0, n: 0, text: '', body: codec.encode(message) };
    this.mesh.fit(sent);
    return () => this.mesh.post(ref.thread, sent);
  }

  request<R>(ref: ProcessRef, codecs: EntryCodecs<unknown, unknown, R>, message: unknown, timeout: number | undefined, tag: number): Promise<R> {
    const reply = codecs.reply;
    if (!reply) return Promise.reject(new TypeError('request: the entry declares no reply codec'));
    if (this.closing) return Promise.reject(new NodeClosedError('request: the node is closed'));
    if (!this.here(ref)) return tryFar(() => this.refOps(ref)!.request(ref, codecs, message, timeout, tag));
    // Its calls were settled when the thread died: one started after would wait for ever.
    const died = () => new ProcessExitedError(`request: the thread of process ${ref.id} died`, 'thread');
    if (this.gone[ref.thread]) return Promise.reject(died());
    // Timed out, its target forgets the asker, in place or told by FORGET (kept until it ended, a deaf process's grew for ever).
    const forget = ref.thread === this.thread ? (): void => this.forgetAsker(ref.id, this.thread, call) : (): void => this.mesh.post(ref.thread, envelope(Kind.FORGET, { to: ref.id, call }));
    const [call, answer] = this.calls.start<unknown>(ref.thread, timeout, 'request', died, forget);
    try {
      if (ref.thread === this.thread) {
        codecs.mailbox.check(message);
        const target = this.procs.get(ref.id);
        if (!target) throw new ProcessExitedError(`request: process ${ref.id} has ended`, 'noproc');
        if (target.entry.mailbox !== codecs.mailbox) checkValue(target.entry.mailbox, message); // as in `send`
        if (target.mailbox.full) throw new MailboxFullError(`request: the mailbox of process ${ref.id} holds ${target.mailbox.bound} messages`);
        const asker: Asker = { thread: this.thread, call, answered: false };
        (target.asked ??= new Set()).add(asker);
        target.mailbox.push(message, tag, asker);
        return answer as Promise<R>;
      }
      this.fullness.check(ref.id, 'request');
      const body = codecs.mailbox.encode(message);
      if (!this.mesh.tryPost(ref.thread, envelope(Kind.REQUEST, { to: ref.id, tag, call, body }))) {
        throw new MailboxFullError(`request: the link to thread ${ref.thread} is full`);
      }
      return answer.then((bytes) => reply.decode(bytes as Buffer));
    } catch (err) {
      this.calls.reject(call, err as Error);
      return answer as Promise<R>;
    }
  }

  answer(proc: Proc, asker: Asker, answer: unknown): void {
    const codec = proc.entry.reply;
    if (!codec) throw new TypeError(`reply: the entry ${proc.entry.name} declares no reply codec`);
    if (asker.thread === this.thread) checkValue(codec, answer);
    const body = asker.thread === this.thread ? null : codec.encode(answer);
    // Posted before it counts as answered: a reply too large for the ring throws here and may be tried again.
    if (body !== null) this.mesh.post(asker.thread, envelope(Kind.REPLY, { call: asker.call, body }));
    asker.answered = true;
    proc.asked?.delete(asker);
    if (body === null) this.calls.resolve(asker.call, answer);
  }

  handle<M, R>(ref: ProcessRef, codecs: EntryCodecs<unknown, M, R>, owner: Proc | null): Process<M, R> {
    checkHandleCodecs(codecs, 'handle');
    const copy = checkRef(ref, 'handle');
    if (!this.here(copy)) return new Handle(this, copy, codecs, owner); // another node's, or of an earlier run of this one
    if (ref.thread > this.threads) throw new RangeError(`handle: thread ${ref.thread} is not a thread of this node`);
    // An id is its making thread times 2^32 plus a count (bonds.ts nextId): no thread past the node's made it.
    if (makerOf(ref.id) > this.threads) throw new RangeError(`handle: process id ${ref.id} was not made on this node`);
    return new Handle(this, copy, codecs, owner);
  }

  async lookup<M, R>(name: string, codecs: EntryCodecs<unknown, M, R>, owner: Proc | null, options?: LookupOptions): Promise<Process<M, R> | undefined> {
    const { node = this.node } = checkOptions(options, 'lookup: options', OPTIONS.lookup) as LookupOptions;
    checkName(name, 'lookup: name');
    checkHandleCodecs(codecs, 'lookup');
    const ref = node !== this.node ? await this.far(node).lookup(name) : await this.lookupRef(name);
    return ref ? new Handle(this, ref, codecs, owner) : undefined;
  }

  override register(ref: ProcessRef, name: string): Promise<void> {
    if (!this.here(ref)) return tryFar(() => this.refOps(ref)!.register(ref, name));
    return super.register(ref, name);
  }

  isAlive(ref: ProcessRef): Promise<boolean> {
    if (this.closing) return Promise.reject(new NodeClosedError('isAlive: the node is closed'));
    if (!this.here(ref)) return tryFar(() => this.refOps(ref)!.isAlive(ref));
    if (ref.thread === this.thread) return Promise.resolve(this.procs.has(ref.id));
    if (this.gone[ref.thread]) return Promise.resolve(false);
    const [call, answer] = this.calls.start<Envelope | boolean>(ref.thread, undefined, 'isAlive', () => false);
    this.mesh.post(ref.thread, envelope(Kind.ALIVE, { to: ref.id, call }));
    return answer.then((e) => e !== false && (e as Envelope).n === 1);
  }

  override room(proc: Proc): void {
    this.fullness.room(proc);
  }

  /** Answers request `asker` with the end of the process it asked. */
  private refuse(asker: Asker, exit: Exit): void {
    asker.answered = true;
    if (asker.thread === this.thread) this.calls.reject(asker.call, new ProcessExitedError(`request: the process ended (${exit.reason}) without replying`, exit.reason));
    else if (!this.closing) this.mesh.post(asker.thread, envelope(Kind.REPLY_ERROR, { call: asker.call, text: exit.reason }));
  }

  protected override ended(proc: Proc, exit: Exit): void {
    if (proc.names) for (const name of proc.names) this.unname(name, proc.id);
    if (proc.asked) for (const asker of proc.asked) this.refuse(asker, exit);
    proc.asked = null;
    if (!this.closing) this.fullness.room(proc); // the threads told FULL forget it
    super.ended(proc, exit);
  }

  protected selfOf(proc: Proc): Self<unknown, unknown> {
    return new SelfHandle(this, proc);
  }

  /** The thread a spawn goes to. */
  private placement(options: SpawnOptions, parent: Proc | null): number {
    const { placement = 'same' } = options;
    if (placement === 'same' && parent) return this.thread;
    if (placement === 'same' || placement === 'least-loaded') return this.leastLoaded();
    const thread = (placement as { thread?: unknown } | null)?.thread;
    if (typeof thread !== 'number' || !Number.isInteger(thread) || thread < 0 || thread > this.threads) {
      throw new RangeError(`spawn: options.placement must be 'same', 'least-loaded' or { thread } with 0 <= thread <= ${this.threads}`);
    }
    return thread;
  }

  /** The live worker hosting the fewest processes (the node's own thread when it has no workers). */
  private leastLoaded(): number {
    let best = this.threads;
    let fewest = Infinity;
    for (let t = 0; t < this.threads; t++) {
      const n = Atomics.load(this.counts, t);
      if (!this.gone[t] && n < fewest) [best, fewest] = [t, n];
    }
    return best;
  }

  /** Thread `thread` died: its calls settle, its processes' links and monitors fire, its names are freed. */
  lose(thread: number): void {
    this.calls.threadGone(thread);
    this.fullness.threadGone(thread);
    this.threadGone(thread);
    this.registry?.threadGone(thread);
  }

  /** The node closes: every process here ends (`shutdown`), every timer is cleared, every call rejects. */
  close(): void {
    if (this.closing) return;
    this.endAll();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.calls.closeAll(new NodeClosedError('the node is closed'));
  }

  /** @internal The live processes of each thread of the node, its own last (a LOAD frame's figures, processes/remote-place.ts). */
  loads(): number[] {
    // A dead thread as the most loaded (never chosen by another node's least-loaded placement, whose spawn there would fail).
    return Array.from({ length: this.threads + 1 }, (_, t) => (this.gone[t] ? DEAD_LOAD : Atomics.load(this.counts, t)));
  }

  /** @internal The node's shared spawn counters, one per link to another node (processes/remote-relay.ts, LINK_COUNTERS Int32s after the live counts). */
  spawnCounters(): Int32Array {
    return new Int32Array(this.counts.buffer, 4 * (this.threads + 1), LINK_COUNTERS);
  }
}

/** The load a dead thread reports to other nodes (LOAD frames): more than any live one's. */
const DEAD_LOAD = 2 ** 31 - 1;

/** `codec.check(value)` (an assertion needs a declared type at its call). */
function checkValue(codec: Codec<unknown>, value: unknown): void {
  codec.check(value);
}
