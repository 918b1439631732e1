/**
 * The bare ring of ./ring-floor.ts with a scheduler's shape on top, for the
 * engineer who builds the processes' direct path: what a hop may cost
 * once it goes through what rxwire's processes must keep, and nothing of
 * what they could drop. Kept: each relay a process with a mailbox (an
 * array), a ready queue drained in a microtask, each message handed to the
 * relay through an RxJS `Subject` of letters; the reader a pump on the
 * event loop (polls for up to 1 ms a turn, then `setImmediate`; after a
 * read it lets two microtask ticks pass, so the relays run and what they
 * wrote is published, then polls on); a write published at a microtask, not
 * at once. Dropped: the envelope value, the session, the inbox and the
 * wire's subscriber between the ring and the mailbox — the direct path
 * (bench/README.md, `process`). A probe program (`probe.js floor-layered`),
 * not a row of the suite: it is a design's floor, not the machine's.
 *
 * This module is both sides: the measuring thread calls {@link ringLayered},
 * which starts this same file as the partner worker.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Subject } from 'rxjs';
import { append, laneOf, publish, readable, readPublished, startPartner, type Lane, type PartnerSetup, type TokenValue } from './ring-floor';
import type { RingSample } from './protocol';

const SETTLED = Promise.resolve();

interface Relay {
  readonly mailbox: TokenValue[];
  readonly letters: Subject<{ message: TokenValue }>;
  /** On the ready queue: the next one, null at its end; undefined when not queued. */
  nextReady: Relay | null | undefined;
}

/** One thread's half of the ring on its event loop. */
class LayeredSide {
  private readonly relays: Relay[] = [];
  private readyFirst: Relay | null = null;
  private readyLast: Relay | null = null;
  private drainQueued = false;
  private publishQueued = false;
  private stopped = false;

  constructor(
    size: number,
    first: number,
    private readonly inbound: Lane,
    private readonly outbound: Lane,
    /** Relay 0's count came back to 0, or a negative count (the end) came. */
    done: (k: number) => void,
  ) {
    for (let i = first; i < size; i += 2) {
      const next = (i + size - 1) % size;
      const relay: Relay = { mailbox: [], letters: new Subject(), nextReady: undefined };
      relay.letters.subscribe(({ message: { k } }) => (k <= 0 ? done(k) : this.send({ k: k - 1, to: next })));
      this.relays[i] = relay;
    }
  }

  start(): void {
    setImmediate(this.run);
  }

  stop(): void {
    this.stopped = true;
  }

  /** A message to relay `to` of this side. */
  deliver(token: TokenValue): boolean {
    const relay = this.relays[token.to];
    relay.mailbox.push(token);
    if (relay.nextReady !== undefined) return true;
    relay.nextReady = null;
    if (this.readyLast === null) this.readyFirst = relay;
    else this.readyLast.nextReady = relay;
    this.readyLast = relay;
    if (!this.drainQueued) {
      this.drainQueued = true;
      void SETTLED.then(this.drain);
    }
    return true;
  }

  private send(token: TokenValue): void {
    append(this.outbound, token);
    if (this.publishQueued) return;
    this.publishQueued = true;
    void SETTLED.then(this.publishNow);
  }

  private readonly publishNow = (): void => {
    this.publishQueued = false;
    publish(this.outbound);
  };

  private readonly drain = (): void => {
    this.drainQueued = false;
    for (let relay = this.readyFirst; relay !== null; relay = this.readyFirst) {
      this.readyFirst = relay.nextReady!;
      if (this.readyFirst === null) this.readyLast = null;
      relay.nextReady = undefined;
      for (let message = relay.mailbox.shift(); message !== undefined; message = relay.mailbox.shift()) relay.letters.next({ message });
    }
  };

  private readonly run = (): void => {
    if (this.stopped) return;
    const turnEnd = performance.now() + 1;
    for (;;) {
      if (readable(this.inbound)) {
        readPublished(this.inbound, (token) => this.deliver(token));
        void SETTLED.then(() => SETTLED.then(this.run));
        return;
      }
      if (performance.now() > turnEnd) return void setImmediate(this.run);
    }
  };
}

/** As ringFloor (./ring-floor.ts), through a LayeredSide on each thread; hops per second after one untimed stretch of `warm` hops. */
export async function ringLayered(size: number, hops: number, warm = 100 * size): Promise<RingSample> {
  const { toPartner, toMe, worker } = await startPartner(__filename, 'ringLayered', size, hops, warm);
  let side: LayeredSide | undefined;
  try {
    let finished = () => {};
    side = new LayeredSide(size, 0, laneOf(toMe), laneOf(toPartner), () => finished());
    side.start();
    const stretch = (k: number) =>
      new Promise<void>((resolve) => {
        finished = resolve;
        side!.deliver({ k, to: 0 });
      });
    await stretch(warm);
    const t0 = performance.now();
    await stretch(hops);
    return { rate: hops / ((performance.now() - t0) / 1000) };
  } finally {
    side?.stop();
    await worker.terminate();
  }
}

// The partner: started by ringLayered with its workerData.
const partner = !isMainThread && (workerData as { ringLayered?: PartnerSetup } | null)?.ringLayered;
if (partner) {
  const side = new LayeredSide(partner.size, 1, laneOf(partner.toPartner), laneOf(partner.toMe), () => {});
  side.start();
  parentPort?.postMessage('ready');
}
