/**
 * The receiving side of a thread's links: each Envelope from another thread
 * of the node, applied to this thread's scheduler (the kinds and their
 * fields: processes/envelope.ts).
 *
 * Order. Envelopes from one thread arrive in the order sent, so a process
 * spawned here by thread A exists before anything A sends it. A third
 * thread may learn the new process's ref from A and write to it before A's
 * SPAWN is read here: what arrives for a process that this thread has not
 * yet seen spawned (its id counts past the last one A spawned here) is held
 * until the SPAWN comes, or answered `noproc` if A dies first, spawns a
 * later id here, or too much is held for too long (./held.ts).
 */
import { Buffer } from 'node:buffer';
import { ProcessExitedError, RemoteError, toErrorData, type ErrorData } from '../core/errors';
import { ErrorRecord } from '../core/frame';
import { spawnedEntry } from './entry';
import { envelope, errorBody, Kind, messageUndecodable, type Envelope } from './envelope';
import { Held } from './held';
import { countOf, makerOf, REMOTE_IDS } from './ids';
import { Proc } from './proc';
import type { Scheduler } from './scheduler';
import type { Entry, Exit, ExitReason } from './types';

/** Applies envelopes from the other threads to one scheduler. */
export class Dispatcher {
  /** Per creator thread: the id count of the last process it spawned here (other nodes' spawns, counts from REMOTE_IDS up, not counted). */
  private readonly spawned: number[] = [];
  /** Envelopes for processes whose SPAWN has not arrived yet. */
  private readonly held = new Held((from, e) => this.noproc(from, e));

  /** When each process last had a message said lost for its bytes (a process's flood is said once a second, another's still at once). */

  constructor(private readonly s: Scheduler) {}

  /** One envelope from thread `from`. */
  receive(from: number, e: Envelope): void {
    const s = this.s;
    switch (e.kind) {
      case Kind.SPAWN:
        return this.spawn(from, e);
      case Kind.REPLY:
        return s.calls.resolve(e.call, e.body);
      case Kind.REPLY_ERROR:
        // With an ErrorRecord, the request failed there (its body did not decode): that error, not an ending.
        return s.calls.reject(e.call, e.body.length > 0 ? new RemoteError(ErrorRecord.decode(e.body)) : new ProcessExitedError(`request: the process ended (${e.text}) without replying`, e.text));
      case Kind.ANSWER:
        return s.calls.resolve(e.call, e);
      case Kind.REGISTER:
      case Kind.LOOKUP:
        // Never an unhandled rejection on this thread: an answer that cannot be posted (the asker's thread is gone) is let go.
        void s.answerHome(e).then((answer) => s.mesh.post(from, answer)).catch(() => {});
        return;
      case Kind.UNREGISTER:
        return s.registry?.unregister(e.text, e.from);
      case Kind.DOWN:
        return s.down(e.tag, s.refAt(from, e.from), exitOf(e));
      case Kind.FULL:
      case Kind.ROOM:
        return s.fullness.heard(from, e.from, e.kind === Kind.FULL);
      case Kind.FAR:
      case Kind.NODE:
        return s.remote?.relay?.(from, e); // calls to other nodes, relayed (processes/remote-relay.ts)
    }
    const proc = s.procs.get(e.to);
    if (proc) this.apply(proc, from, e);
    else if (!this.coming(e.to) || !this.held.hold(e.to, from, e)) this.noproc(from, e);
  }

  /** A MSG from thread `from` read in place (./message-record.ts): its body is `data[start, end)`, valid during the call. */
  message(from: number, to: number, tag: number, data: Buffer, start: number, end: number): void {
    const proc = this.s.procs.get(to);
    // Not (yet) here: the general path, with the body copied out (it may be held for a SPAWN to come).
    if (!proc) return this.receive(from, envelope(Kind.MSG, { to, tag, body: Buffer.from(data.subarray(start, end)) }));
    this.deliver(proc, from, Kind.MSG, tag, 0, data, start, end);
  }

  /** Thread `thread` died: what waits for its spawns will never be delivered. */
  threadGone(thread: number): void {
    this.held.dropWhere((id) => makerOf(id) === thread);
  }

  /** The thread is closing: nothing more is held. */
  close(): void {
    this.held.close();
  }

  private apply(proc: Proc, from: number, e: Envelope): void {
    const s = this.s;
    switch (e.kind) {
      case Kind.MSG:
      case Kind.REQUEST:
        return this.deliver(proc, from, e.kind, e.tag, e.call, e.body, 0, e.body.length);
      case Kind.LINK:
        return proc.link(s.refAt(from, e.from), e.tag);
      case Kind.UNLINK:
        proc.links?.delete(e.from);
        return;
      case Kind.EXIT:
        return s.linkExit(proc, s.refAt(from, e.from), e.text as ExitReason, errorOf(e));
      case Kind.MONITOR:
        (proc.watchers ??= new Map()).set(e.tag, from);
        return;
      case Kind.DEMONITOR:
        proc.watchers?.delete(e.tag);
        return;
      case Kind.KILL:
        return s.exit(proc, 'killed', null);
      case Kind.NAMED:
        return s.nameSettled(proc, e.text, e.n === 1 ? errorOf(e) : null);
      case Kind.ALIVE:
        return s.mesh.post(from, envelope(Kind.ANSWER, { call: e.call, n: 1 }));
      case Kind.FORGET:
        return s.forgetAsker(proc.id, from, e.call);
    }
  }

  /** A MSG or REQUEST's body `data[start, end)`, decoded with the process's mailbox codec, into its mailbox. */
  private deliver(proc: Proc, from: number, kind: number, tag: number, call: number, data: Uint8Array, start: number, end: number): void {
    const s = this.s;
    let message: unknown;
    try {
      message = proc.entry.mailbox.decode(data, start, end);
    } catch (err) {
      // The sender encoded it with the same entry's codec: bytes that do not decode are a request's error, a message's loss.
      if (kind === Kind.REQUEST) s.mesh.post(from, envelope(Kind.REPLY_ERROR, { call, text: 'failed', body: errorBody(toErrorData(err), s.errorBytes) }));
      else messageUndecodable(proc, proc.ref.id, err);
      return;
    }
    if (kind === Kind.MSG) proc.mailbox.push(message, tag, null);
    else {
      const asker = { thread: from, call, answered: false };
      (proc.asked ??= new Set()).add(asker);
      proc.mailbox.push(message, tag, asker);
    }
    if (proc.mailbox.full) s.fullness.filled(proc, from);
  }

  /** What is owed for an envelope to a process that does not exist (any more). */
  private noproc(from: number, e: Envelope, error: ErrorData | null = null): void {
    const s = this.s;
    const body = errorBody(error, this.s.errorBytes);
    switch (e.kind) {
      case Kind.REQUEST:
        return s.mesh.post(from, envelope(Kind.REPLY_ERROR, { call: e.call, text: 'noproc' }));
      case Kind.LINK:
      case Kind.MONITOR: {
        // Spawned from there and ended before this came (a monitor set right after the spawn): how it ended.
        const ended = error === null ? s.recentExit(e.to) : undefined;
        const [text, told] = ended ? [ended.reason, errorBody(ended.error, s.errorBytes)] : ['noproc', body];
        if (e.kind === Kind.LINK) return s.mesh.post(from, envelope(Kind.EXIT, { to: e.from, from: e.to, text, body: told }));
        return s.mesh.post(from, envelope(Kind.DOWN, { from: e.to, tag: e.tag, text, body: told }));
      }
      case Kind.NAMED:
        if (e.n === 0) s.unname(e.text, e.to);
        return;
      case Kind.ALIVE:
        return s.mesh.post(from, envelope(Kind.ANSWER, { call: e.call, n: 0 }));
    }
  }

  /** Whether process `id` may still be spawned here (by another thread, whose SPAWN is on its way). */
  private coming(id: number): boolean {
    const creator = makerOf(id);
    return creator <= this.s.threads && creator !== this.s.thread && countOf(id) < REMOTE_IDS && countOf(id) > (this.spawned[creator] ?? 0) && !this.s.isGone(creator);
  }

  private spawn(from: number, e: Envelope): void {
    const s = this.s;
    const count = countOf(e.to);
    const held = this.held.take(e.to);
    if (count < REMOTE_IDS) {
      // Not an id of another node's spawn (SPAWN_BLOCK). `from`'s SPAWNs come in the order of their ids: what is
      // held for an earlier id of its will not come here (a ref naming the wrong thread).
      this.spawned[from] = count;
      this.held.dropWhere((id) => makerOf(id) === from && countOf(id) < count);
    }
    let proc: Proc;
    let registered: string;
    try {
      // Another node's SPAWN of an id that lives here (its gateway checks only its own thread's table): refused, not
      // put over the live process, which would run on unreachable and take the new one's entry with it when it ends.
      if (s.procs.has(e.to)) throw new RangeError(`spawn: id ${e.to} is in use on thread ${s.thread}`);
      let entry: Entry<unknown, unknown, unknown>;
      ({ entry, registered } = spawnedEntry(e.text));
      proc = new Proc(s, s.refAt(s.thread, e.to), entry, entry.capture.decode(e.body), e.n, (e.call & 1) === 1);
    } catch (err) {
      // It never runs: its parent's link and whatever was held for it hear `noproc`, with the error.
      const error = toErrorData(err);
      if (e.from !== 0) this.noproc(from, envelope(Kind.LINK, { to: e.to, from: e.from }), error);
      for (const [f, h] of held) this.noproc(f, h, error);
      return;
    }
    if (e.from !== 0) proc.link(s.refAt(from, e.from), e.tag);
    s.admitNamed(proc, registered !== '');
    for (const [f, h] of held) this.receive(f, h);
  }
}

function errorOf(e: Envelope): ErrorData | null {
  return e.body.length > 0 ? ErrorRecord.decode(e.body) : null;
}

function exitOf(e: Envelope): Exit {
  return { reason: e.text as ExitReason, error: errorOf(e) };
}
