/**
 * Calls to other nodes from the worker threads of a cluster node, relayed
 * by the node's own thread (the gateway, which holds the connections).
 *
 * Each worker keeps a link of its own per linked node (a RemotePeer,
 * processes/remote-uplink.ts): its calls, its processes' links to the
 * other node's processes, its monitors on them. It sends its NodeFrames to
 * the gateway in FAR envelopes (`text` = the node, `body` = the frame); the
 * gateway puts them on the connection, and gives back, in FAR envelopes,
 * the frames that are for the worker:
 * - REPLY, REPLY_ERROR and ANSWER to a relayed call id,
 * - DOWN of a relayed monitor id,
 * - LINK, UNLINK and EXIT naming a process of a worker thread (`thread`),
 * - LOAD (to every worker).
 * A relayed id (a question's `call`, rewritten by the gateway on the way
 * out and back; a worker's monitor id, made so by the worker) is
 * `-((thread + 1) × 2^40 + k)`: the other node echoes it unchanged. The
 * gateway tells each worker when a node links (NODE, `n` = 1, with what the
 * worker's link needs; `body`: its incarnation) and when it drops off (`n` = 0; `tag` = 1 when this
 * node closes).
 */
import { Buffer } from 'node:buffer';
import { FrameError, toErrorData } from '../core/errors';
import { envelope, envelopeLost, errorBody, Kind, type Envelope } from './envelope';
import { NodeFrameCodec, NodeKind, nodeFrame, type NodeFrame } from './remote-frame';
import type { FrameSink } from './remote-ops';
import type { RemotePeer } from './remote-peer';
import type { Scheduler } from './scheduler';
import type { Monitor } from './types';

const RELAY = 2 ** 40;

/** The relayed form of id `k` of worker `thread`. */
export function relayId(thread: number, k: number): number {
  return -((thread + 1) * RELAY + k);
}

/** The worker and its own id of a relayed id; undefined for an id of the gateway's own. */
function relayedTo(id: number): [number, number] | undefined {
  if (!(id <= -RELAY) || !Number.isSafeInteger(id)) return undefined;
  const thread = Math.floor(-id / RELAY) - 1;
  return [thread, -id - (thread + 1) * RELAY];
}

/** The kinds whose `call` is a question of the sender, answered by the receiver. */
const QUESTIONS = new Set<number>([NodeKind.REQUEST, NodeKind.REGISTER, NodeKind.LOOKUP, NodeKind.ALIVE]);

/** The FAR envelope of `frame` to or from node `node`. */
function far(node: string, frame: NodeFrame): Envelope {
  return envelope(Kind.FAR, { text: node, body: NodeFrameCodec.encode(frame) });
}

/** On a worker: its frames for node `node`, to the gateway (thread `s.threads`). */
export function gatewaySink(s: Scheduler, node: string): FrameSink {
  return {
    trySend: (frame) => s.mesh.tryPost(s.threads, far(node, frame)),
    send: (frame) => {
      s.mesh.post(s.threads, far(node, frame));
      return Promise.resolve();
    },
  };
}

/**
 * On the gateway: a frame from worker `from` (a FAR envelope) for the node
 * it names, sent on that node's link (`peer`; undefined when the link has
 * dropped: the worker hears NODE and settles what waits on it).
 */
export function relayOut(peer: RemotePeer | undefined, from: number, e: Envelope): void {
  if (!peer) return;
  const frame = NodeFrameCodec.decode(e.body);
  if (QUESTIONS.has(frame.kind)) frame.call = relayId(from, frame.call);
  if (frame.kind === NodeKind.LINK || (frame.kind === NodeKind.SPAWN && frame.from !== 0)) shadow(peer, frame.fromThread, frame.from, frame.thread, frame.to);
  else if (frame.kind === NodeKind.UNLINK || frame.kind === NodeKind.EXIT) unshadow(peer, frame.fromThread, frame.from, frame.thread, frame.to);
  peer.post(frame);
}

/** On the gateway: a LINK for a process of worker `f.thread` (a link the worker keeps), relayed there. */
export function relayLink(peer: RemotePeer, f: NodeFrame): void {
  shadow(peer, f.thread, f.to, f.fromThread, f.from);
  peer.s.mesh.post(f.thread, far(peer.id, f));
}

/**
 * A worker keeps its processes' links to other nodes, so if the worker
 * itself dies it cannot send their EXIT: the gateway watches each such
 * process (a monitor, set as the link's LINK passes through it, cancelled
 * as its UNLINK or EXIT does) and sends EXIT `thread` for it when its
 * thread dies. Per link: `localThread/localId remoteThread/remoteId`.
 */
const shadows = new WeakMap<RemotePeer, Map<string, Monitor>>();

function shadow(peer: RemotePeer, thread: number, id: number, farThread: number, farId: number): void {
  const s = peer.s;
  if (thread === s.thread || !(thread >= 0 && thread < s.threads)) return;
  let mine = shadows.get(peer);
  if (!mine) shadows.set(peer, (mine = new Map()));
  const key = `${thread}/${id} ${farThread}/${farId}`;
  if (mine.has(key)) return;
  const monitor = s.monitor(null, s.refAt(thread, id));
  mine.set(key, monitor);
  void monitor.died.then((died) => {
    if (mine.get(key) !== monitor) return;
    mine.delete(key);
    if (died.reason === 'thread') peer.post(nodeFrame(NodeKind.EXIT, { to: farId, thread: farThread, from: id, fromThread: thread, text: 'thread' }));
  });
}

function unshadow(peer: RemotePeer, thread: number, id: number, farThread: number, farId: number): void {
  const mine = shadows.get(peer);
  const key = `${thread}/${id} ${farThread}/${farId}`;
  const monitor = mine?.get(key);
  if (!monitor) return;
  mine!.delete(key);
  monitor.cancel();
}

/** On the gateway: the link to `peer` is over; its shadows go. */
export function forgetShadows(peer: RemotePeer): void {
  for (const monitor of shadows.get(peer)?.values() ?? []) monitor.cancel();
  shadows.delete(peer);
}

/** On the gateway: gives frame `f` from `peer` to the worker it is for; false when it is the gateway's own. */
export function relayIn(peer: RemotePeer, f: NodeFrame): boolean {
  const s = peer.s;
  if (s.thread !== s.threads || s.threads === 0) return false;
  let thread: number;
  switch (f.kind) {
    case NodeKind.REPLY:
    case NodeKind.REPLY_ERROR:
    case NodeKind.ANSWER: {
      const to = relayedTo(f.call);
      if (!to) return false;
      [thread, f.call] = to;
      break;
    }
    case NodeKind.DOWN: {
      const to = relayedTo(f.tag);
      if (!to) return false;
      thread = to[0];
      break;
    }
    case NodeKind.LINK:
    case NodeKind.UNLINK:
    case NodeKind.EXIT:
      if (!Number.isInteger(f.thread) || f.thread < 0 || f.thread >= s.threads) return false;
      if (f.kind === NodeKind.LINK) {
        relayLink(peer, f);
        return true;
      }
      unshadow(peer, f.thread, f.to, f.fromThread, f.from);
      thread = f.thread;
      break;
    case NodeKind.LOAD:
      for (let t = 0; t < s.threads; t++) toWorker(s, t, peer, f);
      return false;
    default:
      return false;
  }
  if (thread >= 0 && thread < s.threads) toWorker(s, thread, peer, f);
  return true;
}

/**
 * Gives frame `f` to worker `thread`. One too large for the node's rings (a peer's connection carries up to the
 * rings' largest value less a margin, processes/remote.ts; a long node id or text can still pass it, or a peer
 * that ignores it): a REPLY goes as the request's FrameError; another kind is dropped, said as RXWIRE_ENVELOPE_LOST.
 */
function toWorker(s: Scheduler, thread: number, peer: RemotePeer, f: NodeFrame): void {
  try {
    s.mesh.post(thread, far(peer.id, f));
  } catch (err) {
    if (f.kind === NodeKind.REPLY && err instanceof FrameError) return toWorker(s, thread, peer, nodeFrame(NodeKind.REPLY_ERROR, { call: f.call, body: errorBody(toErrorData(err), 512) }));
    envelopeLost(`thread ${thread} (a frame from node ${peer.id})`, err);
  }
}

/** NODE's `body` when a node links: its incarnation, a 32-bit big-endian integer. */
function incarnationBytes(incarnation: number): Buffer {
  const body = Buffer.alloc(4);
  body.writeInt32BE(incarnation, 0);
  return body;
}

/** The incarnation in a NODE envelope's `body` (see incarnationBytes). */
export function incarnationOf(body: Buffer): number {
  return body.readInt32BE(0);
}

/** On the gateway: tells every worker that node `peer` linked (`up`) or dropped off; `closing`: this node closes. */
export function tellWorkers(s: Scheduler, peer: RemotePeer, up: boolean, counter = 0, closing = false): void {
  const { id, thread, slot, granted, incarnation } = peer.setup;
  const told = up
    ? envelope(Kind.NODE, { text: id, n: 1, tag: thread, from: slot, call: granted, to: counter, body: incarnationBytes(incarnation) })
    : envelope(Kind.NODE, { text: id, n: 0, tag: closing ? 1 : 0 });
  for (let t = 0; t < s.threads; t++) s.mesh.post(t, told);
}
