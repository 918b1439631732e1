/**
 * A worker thread's links to the other nodes of its cluster, through the
 * node's own thread (processes/remote-relay.ts says how): one RemotePeer
 * per linked node, made when the gateway says NODE up and dropped when it
 * says NODE down, so that a process on a worker calls another node's
 * processes as one on the node's own thread does — and what waits on a
 * node that drops off settles on the worker itself (links fire: `LinkDied`
 * for a process that traps exits; monitors deliver `ProcessDied`; calls
 * reject with `NodeUnreachableError`).
 */
import { NodeClosedError } from '../core/errors';
import { Kind, type Envelope } from './envelope';
import { NodeFrameCodec } from './remote-frame';
import { receiveFrame } from './remote-inbound';
import type { RemoteRouter } from './remote-ops';
import { RemotePeer } from './remote-peer';
import { gatewaySink, incarnationOf, relayId } from './remote-relay';
import type { Scheduler } from './scheduler';

/** A worker's links to other nodes. */
class Uplink implements RemoteRouter {
  private readonly peers = new Map<string, RemotePeer>();
  private lastMonitor = 0;

  constructor(private readonly s: Scheduler) {}

  to(node: string): RemotePeer | undefined {
    return this.peers.get(node);
  }

  relay(_from: number, e: Envelope): void {
    if (e.kind === Kind.NODE) return e.n === 1 ? this.up(e) : this.down(e.text, e.tag === 1);
    const peer = this.peers.get(e.text);
    if (peer) receiveFrame(peer, NodeFrameCodec.decode(e.body));
  }

  private up(e: Envelope): void {
    this.down(e.text, false);
    const s = this.s;
    const counters = s.spawnCounters();
    const counter = e.to;
    const ids = { spawn: () => Atomics.add(counters, counter, 1) + 1, monitor: () => relayId(s.thread, ++this.lastMonitor) };
    this.peers.set(e.text, new RemotePeer({ id: e.text, incarnation: incarnationOf(e.body), thread: e.tag, slot: e.from, granted: e.call }, s, gatewaySink(s, e.text), ids));
  }

  private down(node: string, closing: boolean): void {
    const peer = this.peers.get(node);
    if (!peer) return;
    this.peers.delete(node);
    if (closing) peer.drop('shutdown', new NodeClosedError('the node is closed'));
    else peer.drop('noconnection');
  }
}

/** Gives the scheduler of worker thread `s` its links to other nodes (it has none until its gateway links one). */
export function joinCluster(s: Scheduler): void {
  if (s.thread !== s.threads) s.remote ??= new Uplink(s);
}
