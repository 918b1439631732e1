/**
 * One thread's place in a node, the same on a worker and on the node's own
 * thread: its scheduler, and its links to every other thread of the node —
 * one envelope channel per thread pair, a shared-memory ring each way,
 * opened by the runtime's `Peers` (runtime/context.ts) over the mesh of
 * ports `startNode` made (runtime/initialize.ts's `meshOf`).
 */
import type { MessagePort } from 'node:worker_threads';
import type { Subscription } from 'rxjs';
import { FrameError, TransportClosedError } from '../core/errors';
import type { WireSubject } from '../core/wire-subject';
import { Peers } from '../runtime/context';
import { largestValue } from '../transports/shm';
import { Dispatcher } from './dispatch';
import { EnvelopeCodec, envelopeLost, type Envelope } from './envelope';
import type { Mesh } from './ops';
import { Scheduler } from './scheduler';
import { catchUnhandled } from './uncaught';

/** What every thread of a node is given. */
export interface ThreadSetup {
  /** The node's id. */
  node: string;
  /** How many worker threads the node runs. */
  threads: number;
  /** Live processes per thread (threads + 1 Int32 slots). */
  counts: SharedArrayBuffer;
  /** Bytes of each ring. */
  ringBytes: number;
  /** How the thread's ends of the rings wait (NodeOptions.wait). */
  wait: NodeWait;
  /** NodeOptions.spinMicros. */
  spinMicros: number;
}

/** The wait strategies a node's threads may use (see NodeOptions.wait). */
export type NodeWait = 'auto' | 'spin' | 'yield' | 'async';

/** The channel every thread of a node allocates. */
const CHANNEL = 'rxwire.processes';

/** Envelopes one link holds while its ring is full (or not yet open), before a send fails with MailboxFullError. */
export const LINK_QUEUE = 65_536;

/**
 * The links of one thread to the others, as the scheduler posts on them.
 * An envelope goes into the ring at once when there is room; otherwise it
 * waits in the link's queue (in order: nothing overtakes it), up to
 * LINK_QUEUE envelopes for `tryPost`; `post` (replies, signals) always queues.
 */
class WireMesh implements Mesh {
  /** Per thread: its link failed or closed (what is posted to it is dropped). */
  readonly dead: boolean[];
  /** Per thread: envelopes waiting for room. */
  private readonly waiting: number[];

  constructor(
    private readonly wires: readonly WireSubject<Envelope>[],
    /** The largest encoded envelope a ring carries (shm `largestValue`). */
    readonly largest: number,
  ) {
    this.dead = wires.map(() => false);
    this.waiting = wires.map(() => 0);
  }

  tryPost(thread: number, envelope: Envelope): boolean {
    return this.waiting[thread] >= LINK_QUEUE ? this.dead[thread] : this.post(thread, envelope);
  }

  /**
   * Checked at the door, not left to the ring: one that waits for room and then proves too large could only
   * fail far from its caller. The envelope's fields around the body and text take at most 60 bytes.
   */
  fit(envelope: Envelope): void {
    if (envelope.body.length + 3 * envelope.text.length + 60 > this.largest) {
      throw new FrameError(`a message of ${envelope.body.length} bytes does not fit the node's rings (they carry ${Math.max(0, this.largest - 60 - 3 * envelope.text.length)} bytes of a message with this text; NodeOptions.ringBytes)`);
    }
  }

  post(thread: number, envelope: Envelope): true {
    if (this.dead[thread]) return true;
    this.fit(envelope);
    const wire = this.wires[thread];
    try {
      if (wire.trySend(envelope)) return true;
    } catch (err) {
      if (!(err instanceof TransportClosedError)) throw err;
      // The link closed: its thread is gone, as its reading side reports too.
      this.dead[thread] = true;
      return true;
    }
    this.waiting[thread]++;
    wire.send(envelope).then(
      () => this.waiting[thread]--,
      (err) => {
        this.waiting[thread]--;
        // The thread's death, reported by its reading side too. Nothing else is expected here: every value is
        // checked at the door (processes/checks.ts) and its size above; were one refused all the same, the link
        // stays up and the envelope's loss is reported (a warning), not taken for the thread's death.
        if (err instanceof TransportClosedError) this.dead[thread] = true;
        else envelopeLost(`thread ${thread}`, err);
      },
    );
    return true;
  }
}

/** A thread of a node, joined. */
export interface Joined {
  readonly scheduler: Scheduler;
  /** Ends every process of this thread and closes its links. */
  close(): void;
}

/** Joins thread `index` to its node over `mesh` (per thread, the port to it; null for itself). */
export function joinNode(setup: ThreadSetup, index: number, mesh: readonly (MessagePort | null)[]): Joined {
  const { node, threads, counts, ringBytes, wait, spinMicros } = setup;
  catchUnhandled();
  const peers = new Peers(index, threads + 1, mesh);
  // Between two threads, each `senders[j]` is the one WireSubject both ways. The rings wait as the node was
  // told (default the transport's `auto`, 50 µs spin window): a message that crosses threads costs a wake-up of
  // the other thread, and profiles show that wait, not encoding or this layer, is the cross-thread hop
  // (bench/README.md, `process`).
  const wires = peers.allocate(CHANNEL, EnvelopeCodec, { bytes: ringBytes, wait, spinMicros }).senders as unknown as WireSubject<Envelope>[];
  const links = new WireMesh(wires, largestValue(ringBytes));
  const scheduler = new Scheduler(node, index, new Int32Array(counts), links, threads);
  const dispatcher = new Dispatcher(scheduler);
  let closed = false;
  const lose = (thread: number) => {
    links.dead[thread] = true;
    if (closed) return;
    scheduler.lose(thread);
    dispatcher.threadGone(thread);
  };
  const subs: Subscription[] = [];
  wires.forEach((wire, thread) => {
    if (thread === index) return;
    subs.push(wire.subscribe({ next: (e) => dispatcher.receive(thread, e), error: () => lose(thread), complete: () => lose(thread) }));
  });
  return {
    scheduler,
    close: () => {
      if (closed) return;
      closed = true;
      scheduler.close();
      dispatcher.close();
      for (const sub of subs) sub.unsubscribe();
      peers.dispose();
    },
  };
}
