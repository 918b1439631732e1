/**
 * The receiving side of a link to another node, on the node's own thread:
 * each NodeFrame from the peer (the kinds and their fields:
 * processes/remote-frame.ts), applied through this thread's scheduler.
 *
 * The peer's calls are made here as this thread's own: a message or
 * request to a process of a worker thread goes on through the scheduler
 * (its bytes passed on as they came, decoded on the worker with the
 * process's codec), a monitor is a monitor of this thread whose
 * `ProcessDied` goes back as DOWN, a link is a monitor plus the peer's
 * table of links (processes/remote-peer.ts). A spawn runs on this thread:
 * its id comes from the block this node granted the peer in its HELLO.
 */
import { Buffer } from 'node:buffer';
import { raw } from '../core/codec';
import { DecodeError, ProcessExitedError, RemoteError, toErrorData, type ErrorData } from '../core/errors';
import { ErrorRecord } from '../core/frame';
import { checkName, MAX_TIMER_MS } from './checks';
import { spawnedEntry } from './entry';
import { ID_SPAN } from './ids';
import { Proc } from './proc';
import { envelope, envelopeLost, errorBody, Kind, messageUndecodable } from './envelope';
import { NodeKind, nodeFrame, SPAWN_BLOCK, type NodeFrame } from './remote-frame';
import type { RemotePeer } from './remote-peer';
import { tryFar } from './remote-ops';
import { relayIn, relayLink } from './remote-relay';
import type { Entry, Exit, ExitReason, ProcessRef } from './types';

/** Bytes passed on unchanged, for a process on a worker thread (which decodes them with its own codec). */
const PASS = { capture: raw, mailbox: raw, reply: raw };

/** Applies one frame from `peer`. */
export function receiveFrame(peer: RemotePeer, f: NodeFrame): void {
  const s = peer.s;
  if (relayIn(peer, f)) return; // for a worker's link (on the gateway)
  switch (f.kind) {
    case NodeKind.LOAD:
      return peer.loads.update(f.text);
    case NodeKind.REPLY:
      return peer.calls.resolve(f.call, f.body);
    case NodeKind.REPLY_ERROR:
      return peer.calls.reject(f.call, replyError(f));
    case NodeKind.ANSWER:
      return peer.calls.resolve(f.call, f);
    case NodeKind.DOWN:
      return peer.down(f.tag, exitOf(f));
    case NodeKind.LOOKUP:
      void s.lookup(f.text, PASS, null).then(
        (h) => answer(peer, f, { n: h ? h.ref.thread : -1, from: h ? h.ref.id : 0 }),
        (err: Error) => answer(peer, f, { n: -1, text: err.name }),
      );
      return;
    case NodeKind.SPAWN:
      return spawn(peer, f);
  }
  const ref = targetOf(peer, f);
  const from = peer.refAt(f.fromThread, f.from);
  switch (f.kind) {
    case NodeKind.MSG:
      return message(peer, ref, f);
    case NodeKind.REQUEST:
      return request(peer, ref, f);
    case NodeKind.LINK:
      if (ref) peer.bond(ref, from, f.tag);
      else peer.post(exitFrame(from, f, 'noproc', null));
      return;
    case NodeKind.UNLINK:
      peer.unbond(f.to, from);
      return;
    case NodeKind.EXIT:
      return peer.exited(f.to, from, exitOf(f));
    case NodeKind.MONITOR:
      return watch(peer, ref, f);
    case NodeKind.DEMONITOR:
      peer.watched.get(f.tag)?.cancel();
      peer.watched.delete(f.tag);
      return;
    case NodeKind.KILL:
      if (ref) s.kill(ref);
      return;
    case NodeKind.REGISTER:
      if (!ref) return answer(peer, f, { text: 'ProcessExitedError' });
      void tryFar(() => s.register(ref, checkName(f.text, 'register: name'))).then( // a name refused as at register(): TypeError, RangeError
        () => answer(peer, f, {}),
        (err: Error) => answer(peer, f, { text: err.name }),
      );
      return;
    case NodeKind.ALIVE:
      if (!ref) return answer(peer, f, { n: 0 });
      // Rejected when the node closes while a worker still owes the answer (NodeClosedError): not an unhandled rejection.
      void s.isAlive(ref).then(
        (alive) => answer(peer, f, { n: alive ? 1 : 0 }),
        () => answer(peer, f, { n: 0 }),
      );
      return;
  }
}

/** The error of a REPLY_ERROR frame. */
export function replyError(f: NodeFrame): Error {
  if (f.text !== '') return new ProcessExitedError(`request: the process ended (${f.text}) without replying`, f.text);
  return new RemoteError(errorIn(f.body));
}

/**
 * The ErrorRecord a peer's frame carries. One that does not decode stands as
 * a DecodeError saying so: the call it answers still rejects, the link or
 * monitor it fires still fires, and the link goes on (docs/PROTOCOL.md,
 * "Remote processes: node to node"), rather than a throw out of the frame's
 * handler, which would be an uncaught exception on this node's thread.
 */
function errorIn(body: Buffer): ErrorData {
  try {
    return ErrorRecord.decode(body);
  } catch (err) {
    return toErrorData(new DecodeError(`the peer's error record does not decode: ${(err as Error).message}`));
  }
}

/** The process of this node a frame names, or null when `thread` is not one of this node's threads. */
function targetOf(peer: RemotePeer, f: NodeFrame): ProcessRef | null {
  const s = peer.s;
  return Number.isInteger(f.thread) && f.thread >= 0 && f.thread <= s.threads ? s.refAt(f.thread, f.to) : null;
}

function message(peer: RemotePeer, ref: ProcessRef | null, f: NodeFrame): void {
  const s = peer.s;
  if (!ref) return;
  if (ref.thread !== s.thread) {
    try {
      s.send(ref, PASS.mailbox, f.tag, f.body, true);
    } catch (err) {
      envelopeLost(`process ${ref.id} (from node ${peer.id})`, err); // too large for this node's rings: FrameError
    }
    return;
  }
  const proc = s.procs.get(ref.id);
  if (!proc) return; // a message to a process that has ended is dropped, as in Erlang
  let value: unknown;
  try {
    value = proc.entry.mailbox.decode(f.body);
  } catch (err) {
    return messageUndecodable(proc, ref.id, err); // lost, and said, as from another thread of this node
  }
  proc.mailbox.push(value, f.tag, null);
}

function request(peer: RemotePeer, ref: ProcessRef | null, f: NodeFrame): void {
  const s = peer.s;
  const fail = (err: unknown) => peer.post(replyErrorFrame(f.call, err));
  if (!ref) return fail(new ProcessExitedError('request: no such thread', 'noproc'));
  const timeout = Math.min(MAX_TIMER_MS, Math.max(1, f.n)); // what a timer keeps: 1 ms to 2^31 - 1
  if (ref.thread !== s.thread) {
    s.request(ref, PASS, f.body, timeout, f.tag).then((bytes) => peer.offer(nodeFrame(NodeKind.REPLY, { call: f.call, body: Buffer.from(bytes) }))).catch(fail);
    return;
  }
  const proc = s.procs.get(ref.id);
  if (!proc) return fail(new ProcessExitedError('', 'noproc'));
  const { entry } = proc;
  try {
    const value = entry.mailbox.decode(f.body);
    // A reply the connection cannot carry (over its maxFrame) is the request's error, as any other.
    s.request(ref, entry, value, timeout, f.tag).then((reply) => peer.offer(nodeFrame(NodeKind.REPLY, { call: f.call, body: entry.reply!.encode(reply) }))).catch(fail);
  } catch (err) {
    fail(err);
  }
}

function watch(peer: RemotePeer, ref: ProcessRef | null, f: NodeFrame): void {
  const from = { thread: peer.s.thread, id: f.to };
  if (!ref) return peer.post(downFrame(from, f.tag, { reason: 'noproc', error: null }));
  const monitor = peer.s.monitor(null, ref);
  peer.watched.set(f.tag, monitor);
  void monitor.died.then((died) => {
    if (peer.watched.get(f.tag) !== monitor) return;
    peer.watched.delete(f.tag);
    const error = died.reason === 'noproc' ? (died.error ?? peer.failed.get(ref.id) ?? null) : died.error;
    peer.post(downFrame(ref, f.tag, { reason: died.reason, error }));
  });
}

/**
 * A spawn by the peer, under the id the peer chose in the block this node
 * granted it, on the thread it chose (`thread`, 0..threads): loaded and
 * decoded here first, so that an entry or capture that fails is told as
 * today; on a worker it starts from a SPAWN envelope, and its link to its
 * parent is the worker's (a LINK frame relayed after it).
 */
function spawn(peer: RemotePeer, f: NodeFrame): void {
  const s = peer.s;
  const parent = f.from !== 0 ? peer.refAt(f.fromThread, f.from) : null;
  const block = f.to - s.thread * ID_SPAN - SPAWN_BLOCK.base - peer.setup.granted * SPAWN_BLOCK.slotSpan;
  const here = f.thread === s.thread;
  let proc: Proc | undefined;
  let registered = '';
  const started = here ? null : envelope(Kind.SPAWN, { to: f.to, n: f.n, call: f.call & 1, text: f.text, body: f.body });
  const inUse = s.procs.has(f.to);
  try {
    if (!Number.isInteger(f.thread) || f.thread < 0 || f.thread > s.threads || !(block > 0 && block < SPAWN_BLOCK.slotSpan)) {
      throw new RangeError(`spawn: id ${f.to} on thread ${f.thread} is not in the block this node granted ${peer.id}, or not on one of its threads`);
    }
    if (inUse) throw new RangeError(`spawn: id ${f.to} is in use on thread ${s.thread}`);
    if (s.isGone(f.thread)) throw new RangeError(`spawn: thread ${f.thread} of node ${s.node} has died`);
    let entry: Entry<unknown, unknown, unknown>;
    ({ entry, registered } = spawnedEntry(f.text));
    const capture = entry.capture.decode(f.body);
    if (here) proc = new Proc(s, s.refAt(s.thread, f.to), entry, capture, f.n, (f.call & 1) === 1);
    else s.mesh.fit(started!); // a capture too large for this node's rings: FrameError, as an entry that does not load
  } catch (err) {
    // It never runs: its parent's link, monitors and requests hear `noproc`, with the error.
    const error = toErrorData(err);
    if (!inUse) peer.failed.set(f.to, error); // a live process keeps its own ending
    if (parent) peer.post(exitFrame(parent, { to: f.to, thread: f.thread }, 'noproc', error));
    return;
  }
  const ref = s.refAt(f.thread, f.to);
  const named = registered !== '';
  if (proc) {
    s.admitNamed(proc, named);
    if (parent) peer.bond(ref, parent, f.tag);
  } else {
    s.mesh.post(f.thread, started!);
    if (parent) relayLink(peer, nodeFrame(NodeKind.LINK, { to: f.to, thread: f.thread, from: f.from, fromThread: f.fromThread, tag: f.tag }));
  }
  // The name is this node's (names are per node): claimed here, as a local spawn claims it; the process starts once it is its own.
  if (named) s.claimAtSpawn(ref, registered);
}

function answer(peer: RemotePeer, question: NodeFrame, fields: Partial<NodeFrame>): void {
  peer.post(nodeFrame(NodeKind.ANSWER, { call: question.call, ...fields }));
}

function replyErrorFrame(call: number, err: unknown): NodeFrame {
  if (err instanceof ProcessExitedError) return nodeFrame(NodeKind.REPLY_ERROR, { call, text: err.reason });
  return nodeFrame(NodeKind.REPLY_ERROR, { call, body: errorBody(toErrorData(err)) });
}

/** EXIT to the peer's `to`: our `from` ended. */
function exitFrame(to: ProcessRef, from: { to: number; thread: number }, reason: ExitReason, error: ErrorData | null): NodeFrame {
  return nodeFrame(NodeKind.EXIT, { to: to.id, thread: to.thread, from: from.to, fromThread: from.thread, text: reason, body: errorBody(error) });
}

function downFrame(from: { thread: number; id: number }, tag: number, exit: Exit): NodeFrame {
  return nodeFrame(NodeKind.DOWN, { from: from.id, fromThread: from.thread, tag, text: exit.reason, body: errorBody(exit.error) });
}

function exitOf(f: NodeFrame): Exit {
  return { reason: f.text as ExitReason, error: f.body.length > 0 ? errorIn(f.body) : null };
}
