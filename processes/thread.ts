/**
 * One thread's place in a node, the same on a worker and on the node's own
 * thread: its scheduler, and its links to every other thread of the node —
 * a ring each way that the schedulers write and read themselves
 * (./direct.ts), and a WireSubject per thread pair, opened by the runtime's
 * `Peers` (runtime/context.ts) over the mesh of ports `startNode` made
 * (runtime/initialize.ts's `meshOf`), that says when a thread died.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Subscription } from 'rxjs';
import type { WireSubject } from '../core/wire-subject';
import { Peers } from '../runtime/context';
import { largestValue } from '../transports/shm';
import { checkStrategy } from '../transports/shm/wait';
import { DirectMesh } from './direct';
import { Dispatcher } from './dispatch';
import { EnvelopeCodec, type Envelope } from './envelope';
import { Scheduler } from './scheduler';
import { catchUnhandled } from './uncaught';

/** What every thread of a node is given. */
export interface ThreadSetup {
  /** The node's id. */
  node: string;
  /** The node's incarnation (ProcessRef.incarnation), drawn when it started. */
  incarnation: number;
  /** How many worker threads the node runs. */
  threads: number;
  /** Live processes per thread (threads + 1 Int32 slots). */
  counts: SharedArrayBuffer;
  /** Bytes of each ring. */
  ringBytes: number;
  /** The node's direct rings, one per ordered pair of its threads (./direct-rings.ts `ringIndex`; null from a thread to itself). */
  rings: (SharedArrayBuffer | null)[];
  /** How the thread's ends of the rings wait (NodeOptions.wait). */
  wait: NodeWait;
  /** NodeOptions.spinMicros. */
  spinMicros: number;
}

/** The wait strategies a node's threads may use (see NodeOptions.wait). */
export type NodeWait = 'auto' | 'spin' | 'yield' | 'async';

/** The channel every thread of a node allocates: its links, which now carry no envelope (./direct.ts does) and say only that a thread died. */
const CHANNEL = 'rxwire.processes';

/** Bytes of each of those links' rings: a HELLO and an ending, nothing else. */
const LIFELINE_BYTES = 4096;

export { LINK_QUEUE } from './direct';

/** A thread of a node, joined. */
export interface Joined {
  readonly scheduler: Scheduler;
  /** Ends every process of this thread and closes its links. */
  close(): void;
}

/** Joins thread `index` to its node over `mesh` (per thread, the port to it; null for itself). */
export function joinNode(setup: ThreadSetup, index: number, mesh: readonly (MessagePort | null)[]): Joined {
  const { node, incarnation, threads, counts, rings, ringBytes, wait, spinMicros } = setup;
  catchUnhandled();
  const peers = new Peers(index, threads + 1, mesh);
  // Envelopes go through the direct rings (./direct.ts), which poll and sleep as the node was told (default the
  // transport's `auto`). The WireSubjects between every two threads stay, carrying nothing, for one thing:
  // a thread that dies ends them (the runtime's watch of its peers), and then what it published is read here.
  const lifelines = peers.allocate(CHANNEL, EnvelopeCodec, { bytes: LIFELINE_BYTES, wait, spinMicros }).senders as unknown as WireSubject<Envelope>[];
  let dispatcher: Dispatcher | undefined;
  const pumping = { strategy: checkStrategy(wait), spinMicros, sliceMs: 100, keepAlive: false };
  const links = new DirectMesh(rings, index, threads + 1, largestValue(ringBytes), pumping, {
    receive: (from, e) => dispatcher!.receive(from, e),
    message: (from, to, tag, data, start, end) => dispatcher!.message(from, to, tag, data, start, end),
    beforeRead: () => scheduler.willDrain(),
    afterRead: () => scheduler.drainNow(),
  });
  const scheduler = new Scheduler(node, index, new Int32Array(counts), links, threads, incarnation);
  dispatcher = new Dispatcher(scheduler);
  links.start();
  let closed = false;
  const lose = (thread: number) => {
    links.lose(thread);
    if (closed) return;
    scheduler.lose(thread);
    dispatcher!.threadGone(thread);
  };
  const subs: Subscription[] = [];
  lifelines.forEach((wire, thread) => {
    if (thread === index) return;
    subs.push(wire.subscribe({ error: () => lose(thread), complete: () => lose(thread) }));
  });
  return {
    scheduler,
    close: () => {
      if (closed) return;
      closed = true;
      scheduler.close();
      dispatcher!.close();
      links.close();
      for (const sub of subs) sub.unsubscribe();
      peers.dispose();
    },
  };
}
