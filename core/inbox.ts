/**
 * The receiving side of a WireSubject: its subscribers (values, bursts, stats), what the transport delivers to
 * them, and when to read.
 *
 * Subject semantics, as RxJS's own `Subject`: each value goes to the subscribers present when *that value* is
 * delivered, so one who arrives in the middle of a batch (`wire.pipe(take(1), switchMap(() => wire))`) gets the
 * rest of it. Each value is delivered to a snapshot of the subscribers, taken again only after the list changed
 * (RxJS's `currentObservers`): a subscribe or unsubscribe copies no list, so 100,000 come and go at once. A
 * subscriber's `next` that throws past RxJS's own guard (a hand-made Subscriber) is reported as RxJS reports an
 * unhandled error, and the delivery goes on: unwound, it delivered the batch again (port) or stopped reading (shm).
 *
 * Fairness: delivery yields to the event loop about every SLICE_MS of delivering. The rest of the batch waits
 * here, the transport is paused (`hold(true)`) until a `setImmediate` goes on with it, so the thread's timers
 * and I/O run in between. Order is kept: later batches and the ending wait behind the held values.
 */
import { performance } from 'node:perf_hooks';
import type { Subscriber } from 'rxjs';
import type { InboxLink, WireStats } from './channel';
import { noop, type Ending } from './ending';
import { TransportClosedError } from './errors';
import { Fifo } from './fifo';
import { endOrReport, microtask, nextOrReport, rethrowLater } from './microtask';

/** Milliseconds of delivering after which the rest of a batch waits for a turn of the event loop. */
export const SLICE_MS = 4;
/**
 * The clock is read every `stride` values of a delivery: CLOCK_MIN at first and while values are slow, doubling
 * up to CLOCK_MAX while the last stride took under FAST_STRIDE_MS (a clock read costs ~60 ns here, a fast value
 * ~100 ns: at 8 it was 7 % of a Trade's delivery). A delivery no longer than the stride reads no clock (a round
 * trip's single value), and sets the stride back to CLOCK_MIN if it was longer than that. So a subscriber that
 * turns slow at once overruns a slice by at most CLOCK_MAX of its values, once; after that every 8.
 */
const CLOCK_MIN = 8;
const CLOCK_MAX = 64;
const FAST_STRIDE_MS = SLICE_MS / 16;

/** 'starting': subscribed, the first read queued (see `attach`). */
type ReadState = 'idle' | 'starting' | 'reading' | 'stopped';

export class Inbox<T> {
  /** In the order they came, one entry per subscription (one subscribed twice gets each value twice, as from a Subject). */
  private readonly subscribers = new Map<object, Subscriber<T>>();
  /** What a delivery iterates: `subscribers` as it was when last read, or null once it has changed. */
  private current: readonly Subscriber<T>[] | null = null;
  private burstSubscribers: readonly Subscriber<T[]>[] = [];
  private statsSubscribers: readonly Subscriber<WireStats>[] = [];
  private readState: ReadState = 'idle';
  /** The ending delivered to subscribers; one that arrived while values were held, delivered after them. */
  private ending: Ending | undefined;
  private endingHeld: Ending | undefined;
  /** Batches not yet delivered to every value subscriber, oldest first; `at` is where the head resumes. */
  private readonly held = new Fifo<T[]>();
  private at = 0;
  private slice: ReturnType<typeof setImmediate> | undefined;
  /** The transport is held (`link.hold(true)`) while a slice waits for its turn. */
  private paused = false;
  /** Inside a delivery: a subscriber leaving does not stop reading until the value is delivered. */
  private delivering = false;
  /** Values between clock reads in a delivery (see CLOCK_MIN). */
  private stride = CLOCK_MIN;

  constructor(private readonly link: InboxLink) {}

  /** Whether anyone is subscribed to values or bursts. */
  get observed(): boolean {
    return this.subscribers.size + this.burstSubscribers.length > 0;
  }

  /** The value and burst subscribers now (RxJS's deprecated `Subject#observers`, for code that counts them). */
  get observers(): Subscriber<unknown>[] {
    return [...this.subscribers.values(), ...this.burstSubscribers];
  }

  /** Has the incoming stream ended (delivered, or waiting behind held values)? */
  get done(): boolean {
    return this.ending !== undefined || this.endingHeld !== undefined;
  }

  /** Reading and not ended: the transport may be resumed after a pause. */
  get reading(): boolean {
    return this.readState === 'reading' && !this.done;
  }

  subscribe(subscriber: Subscriber<T>): () => void {
    return this.attach(subscriber, 'values');
  }

  subscribeBursts(subscriber: Subscriber<T[]>): () => void {
    return this.attach(subscriber, 'bursts');
  }

  subscribeStats(subscriber: Subscriber<WireStats>): () => void {
    subscriber.next(this.link.stats());
    this.statsSubscribers = [...this.statsSubscribers, subscriber];
    return () => (this.statsSubscribers = this.statsSubscribers.filter((s) => s !== subscriber));
  }

  /** Values from one drain of the transport, in order. */
  batch(values: T[]): void {
    const nested = this.delivering;
    // Held first: a burst subscriber that ends this end (`close()`) holds the ending behind the batch.
    this.held.push(values);
    this.delivering = true;
    try {
      for (const subscriber of this.burstSubscribers) if (!subscriber.closed) nextOrReport(subscriber, values);
    } finally {
      this.delivering = nested;
    }
    // One that comes while another is delivered (a subscriber resumed the transport) or waits goes behind it.
    if (nested || this.slice) return;
    this.pump();
    this.stopIfUnobserved();
    this.emitStats();
  }

  /** The incoming stream ended (the first ending counts); after any held values. */
  end(ending: Ending): void {
    if (this.done) return;
    if (this.held.length > 0) this.endingHeld = ending;
    else this.finish(ending);
  }

  /** Stops reading for good (no-op once the stream ended). Held values still reach subscribers present. */
  stop(): void {
    // Subscribed and closed in one turn: what the transport held (an ending too) reaches the subscribers first.
    if (this.readState === 'starting' && this.observed) this.resumeNow();
    if (this.readState === 'stopped' || this.done) return;
    this.readState = 'stopped';
    this.link.stop();
  }

  /** RxJS's `unsubscribe()` on this end: its subscribers get nothing more, not the rest of a batch nor an ending. */
  drop(): void {
    this.changed().clear();
    this.burstSubscribers = this.statsSubscribers = [];
    this.stopIfUnobserved();
  }

  emitStats(): void {
    if (this.statsSubscribers.length === 0) return;
    const snapshot = this.link.stats();
    for (const subscriber of this.statsSubscribers) subscriber.next(snapshot);
  }

  private attach(subscriber: Subscriber<T> | Subscriber<T[]>, kind: 'values' | 'bursts'): () => void {
    const ending = this.ending;
    if (ending) {
      if (ending.kind === 'complete') subscriber.complete();
      else subscriber.error(ending.error);
      return noop;
    }
    if (this.readState === 'stopped' && !this.endingHeld) {
      subscriber.error(new TransportClosedError('this end stopped reading when its last subscriber left'));
      return noop;
    }
    const entry = {}; // this subscription's key
    if (kind === 'values') this.changed().set(entry, subscriber as Subscriber<T>);
    else this.burstSubscribers = [...this.burstSubscribers, subscriber as Subscriber<T[]>];
    if (this.readState === 'idle') {
      this.readState = 'starting';
      // Not inside `subscribe`: what a transport held for the first subscriber (a port delivers it on
      // `resume`) comes after it returns, as from any Subject, to every subscriber present by then.
      microtask(() => this.resumeNow());
    }
    return () => {
      if (kind === 'values') {
        if (this.subscribers.delete(entry)) this.current = null;
      } else this.burstSubscribers = this.burstSubscribers.filter((s) => s !== subscriber);
      // Inside a delivery, one leaving may make room for one arriving
      // (`concat(wire.pipe(take(1)), wire)`): decided once the value is out.
      if (!this.delivering) this.stopIfUnobserved();
    };
  }

  /**
   * Delivers the held batches in order, each value to the value subscribers
   * present then, until they are all out (then what ended meanwhile) or a
   * slice is used up (then the next turn goes on).
   */
  private pump(): void {
    this.delivering = true;
    try {
      while (this.held.length > 0) {
        const head = this.held.peek()!;
        const from = this.at;
        this.at = 0;
        // Not all out: `holdRest` kept the place and armed the next slice.
        if (!this.deliverFrom(head, from)) return;
        this.held.shift();
      }
    } finally {
      this.delivering = false;
    }
    if (this.paused) {
      this.paused = false;
      // Resuming may deliver what the transport held, at once (through
      // `batch`, which then finishes the job).
      this.link.hold(false);
      if (this.held.length > 0 || this.slice) return;
    }
    const ending = this.endingHeld;
    if (ending) this.finish(ending);
  }

  /**
   * Delivers `values` from `from` on; after SLICE_MS the rest waits for the
   * next turn. Returns true when the batch is all out (or nobody listens).
   */
  private deliverFrom(values: T[], from: number): boolean {
    const count = values.length;
    // A delivery shorter than the stride never reads the clock (a round trip's single value).
    const start = count - from > this.stride ? performance.now() : 0;
    let checked = start;
    let check = from + this.stride;
    for (let i = from; i < count; i++) {
      const list = this.current ?? (this.current = [...this.subscribers.values()]);
      if (list.length === 0) return true; // nobody listens: the rest is for no one
      if (list.length === 1) nextOrReport(list[0], values[i]);
      else for (const subscriber of list) if (!subscriber.closed) nextOrReport(subscriber, values[i]);
      if (i + 1 === check && check < count) {
        const now = performance.now();
        if (now - start >= SLICE_MS) {
          this.stride = CLOCK_MIN; // slow values: the next slice reads the clock often again
          this.holdRest(check);
          return false;
        }
        this.stride = now - checked < FAST_STRIDE_MS ? Math.min(this.stride * 2, CLOCK_MAX) : CLOCK_MIN;
        checked = now;
        check += this.stride;
      }
    }
    // Delivered unclocked (no longer than the stride): the stride falls back, so short batches
    // that follow are clocked every 8 values again and a subscriber turned slow is caught there.
    if (start === 0 && count - from > CLOCK_MIN) this.stride = CLOCK_MIN;
    return true;
  }

  /** The head batch goes on from `from` at the next turn; the transport waits meanwhile. */
  private holdRest(from: number): void {
    this.at = from;
    if (!this.paused) {
      this.paused = true;
      this.link.hold(true);
    }
    this.slice = setImmediate(() => {
      this.slice = undefined;
      this.pump();
      this.stopIfUnobserved();
      this.emitStats();
    });
  }

  private resumeNow(): void {
    if (this.readState !== 'starting') return; // the subscriber left at once, or `stop` read first
    this.readState = 'reading';
    try {
      this.link.resume();
    } catch (err) {
      rethrowLater(err);
    }
  }

  /** The value subscribers, about to change: the next delivery takes a new snapshot. */
  private changed(): Map<object, Subscriber<T>> {
    this.current = null;
    return this.subscribers;
  }

  private stopIfUnobserved(): void {
    if (this.observed) return;
    // Nobody is left for what waits here.
    this.held.drain();
    this.at = 0;
    if (this.slice) clearImmediate(this.slice);
    this.slice = undefined;
    const ending = this.endingHeld;
    if (ending) this.finish(ending);
    else if (this.readState === 'reading' || this.readState === 'starting') this.stop();
    if (this.paused) { // only now, with nothing more to read: let the transport go
      this.paused = false;
      this.link.hold(false);
    }
  }

  private finish(ending: Ending): void {
    this.ending = ending;
    this.endingHeld = undefined;
    const all = [...this.subscribers.values(), ...this.burstSubscribers];
    this.changed().clear();
    this.burstSubscribers = [];
    for (const subscriber of all) endOrReport(subscriber, ending); // one that throws does not keep it from the others
    this.emitStats();
    const stats = this.statsSubscribers;
    this.statsSubscribers = [];
    for (const subscriber of stats) subscriber.complete();
  }
}
