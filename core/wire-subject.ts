/**
 * WireSubject: an RxJS Subject over one end of a transport, in the manner of
 * RxJS's `WebSocketSubject`. `next` encodes and sends; subscribers receive
 * what the other end sent; `complete` and `error` reach the other end.
 */
import { Observable, ObjectUnsubscribedError, Subject, type Subscriber, type TeardownLogic } from 'rxjs';
import type { Channel, ChannelSink, Connect, WireStats } from './channel';
import type { Codec, EncodeInput } from './codec';
import { TransportClosedError, WorkerError } from './errors';
import { FairTurn } from './fair-turn';
import { Inbox } from './inbox';
import { checkMaxQueue } from './options';
import { Outbox } from './outbox';
import type { WireOptions } from './wire-options';

export type { WireOptions } from './wire-options';

/**
 * An RxJS `Subject` over one end of a transport.
 *
 * ## Example
 * ```ts
 * import { codec, open } from 'rxwire';
 * import { port } from 'rxwire/transports';
 * const [here, there] = port.pair();
 * const wire = open(here, codec('string'));
 * wire.subscribe((s) => console.log('got', s));
 * wire.next('hello');
 * ```
 *
 * Receiving. Nothing is read until the first subscriber arrives: until then the transport holds
 * what the peer sends (the peer's window bounds it), so nothing sent before anyone listens is
 * lost. From then on it is hot, like a `Subject`: a late subscriber sees what arrives after it
 * subscribed; after the peer completes or errors, a new subscriber gets that ending at once. When
 * the last subscriber leaves, the end stops reading for good (as a `WebSocketSubject` closes its
 * socket): the peer is told, its `send` rejects with `TransportClosedError` and its `next` drops
 * values (counted in `stats().dropped`); a later subscriber gets `TransportClosedError`. Each
 * value goes to the subscribers present when that value is delivered, as on RxJS's `Subject`: one
 * who arrives in the middle of a burst gets the rest of it, and one who arrives as the last one
 * leaves, within the delivery of one value (`concat(wire.pipe(take(1)), wire)`), keeps the end
 * reading. Delivery yields to the event loop every few milliseconds (the rest waits, in order, and
 * the transport holds what comes meanwhile), so a slow synchronous subscriber does not starve its
 * thread's timers and I/O.
 *
 * Sending. `next` is the Observer side, for use in a chain (`source$.subscribe(wire)`): it never
 * throws. A value that does not fit the schema, or a full local queue, ends the outgoing stream
 * with that error (`EncodeError`, `QueueFullError`): the peer receives it as `RemoteError` and
 * this end's subscribers get it too, as a `WebSocketSubject` does. `next` after `complete` is
 * ignored, as on any Subject, and counted in `dropped`. When the other side refuses this end's
 * schema (or closes the way out with any error other than being gone), both ends fail, as the
 * README says: waiting `send`s reject with that error, later ones too, `trySend` throws it, this
 * end's subscribers get it, and `next` drops values from then on (counted in `dropped`), as after
 * any end of the outgoing stream. The peer being gone (`TransportClosedError`, `WorkerError`)
 * closes only the way out here: the incoming side ends on its own, after what it still holds. For
 * a direct caller who wants each failure back: `send` (waits for room, rejects with the typed
 * error) and `trySend` (false when full, throws the typed error). All three share one FIFO order.
 */
const THROTTLED = 1;
const SLICED = 2;
const HELD = 4;

export class WireSubject<T, in In = never> extends Subject<T> {
  private readonly channel: Channel<T>;
  private readonly pauseReadsWhileQueued: boolean;
  private readonly inbox: Inbox<T>;
  private readonly outbox: Outbox<T>;
  /** The reader accepted this end's schema (until then, values taken are held unsent by the transport). */
  private accepted = false;
  /** Why reading is paused, a bit each: values from `next` wait for room, delivered values wait for a turn, `holdReading`. */
  private paused = 0;
  private readonly turns = new FairTurn();
  /**
   * @internal The `serve` answering straight into this wire (one at most): told when the far side closes the
   * way out; while it serves, a send that waits for room pauses reading too (no request read while replies wait).
   */
  server: { readerGone(): void } | undefined = undefined;
  /** @internal Told (synchronously: defer what it does) when the way out closes, with why; `stopped`: the peer's STOP. */
  wayOutClosed: ((error: Error, stopped: boolean) => void) | undefined = undefined;

  /** @internal Use `open(end, codec)`. */
  constructor(
    connect: Connect<T>,
    private readonly codec: Codec<T, In>,
    options: WireOptions = {},
  ) {
    super();
    const { maxQueue = 65536, pauseReadsWhileQueued = true } = options;
    if (typeof pauseReadsWhileQueued !== 'boolean') throw new TypeError('options.pauseReadsWhileQueued must be a boolean');
    this.pauseReadsWhileQueued = pauseReadsWhileQueued;
    checkMaxQueue(maxQueue);
    this.inbox = new Inbox<T>({
      // Not while this end is paused (a full way, a slice waiting, a hold): `setPaused` resumes it when none is left.
      resume: () => this.paused !== 0 || this.channel.resume(),
      stop: () => this.channel.stop(),
      hold: (on) => this.setPaused(SLICED, on),
      stats: () => this.stats(),
    });
    this.outbox = new Outbox<T>(
      {
        // The channel encodes with the same codec, which fills in defaulted fields.
        offer: (value) => this.channel.offer(value),
        check: (value) => this.codec.check(value),
        queued: (byNext) => {
          this.channel.hold(true);
          // Read no more until this end can send again: a stage that echoes
          // what it reads passes its output's backpressure on to its input.
          if ((byNext || this.server) && this.pauseReadsWhileQueued) this.setPaused(THROTTLED, true);
        },
        emptied: () => {
          this.channel.hold(false);
          this.setPaused(THROTTLED, false);
        },
        ended: (ending) => (ending.kind === 'complete' ? this.channel.complete() : this.channel.error(ending.error)),
        failed: (err) => this.failOutgoing(err),
      },
      { maxQueue, taken: () => this.turns.next(), confirmed: () => this.accepted },
    );
    this.channel = connect(this.sink());
    // RxJS's deprecated `observers`, kept by the inbox here: read-only (Subject#unsubscribe's reset of it is ignored).
    Object.defineProperty(this, 'observers', { get: () => (this.closed ? [] : this.inbox.observers), set: () => {}, configurable: true });
  }

  /** Encodes and sends `value`; never throws (see the class comment). */
  override next(value: T | EncodeInput<T, In>): void {
    this.outbox.next(value as T);
  }

  /**
   * Ends the outgoing stream with `err`, which the peer receives as `RemoteError`.
   * @throws ObjectUnsubscribedError after `unsubscribe()`, as any Subject
   */
  override error(err: unknown): void {
    if (this.closed) throw new ObjectUnsubscribedError();
    this.stopOut(err, true);
    this.outbox.end({ kind: 'error', error: err });
  }

  /**
   * Completes the outgoing stream, after every value already queued.
   * @throws ObjectUnsubscribedError after `unsubscribe()`, as any Subject
   */
  override complete(): void {
    if (this.closed) throw new ObjectUnsubscribedError();
    this.stopOut(undefined, false);
    this.outbox.end({ kind: 'complete' });
  }

  /** @internal The way out is closed by the far side (its reader stopped, refused or is gone): nothing sent arrives. */
  get outgoingClosed(): boolean {
    return this.outbox.closed !== undefined;
  }

  /** Whether anyone is subscribed to the incoming values or bursts (false after `unsubscribe()`). */
  override get observed(): boolean {
    return !this.closed && this.inbox.observed;
  }

  /**
   * RxJS calls this for every subscriber (`Subject#_subscribe`, which RxJS's
   * own `WebSocketSubject` overrides the same way); not in RxJS's typings.
   * @internal
   */
  protected _subscribe(subscriber: Subscriber<T>): TeardownLogic {
    return this.inbox.subscribe(subscriber);
  }

  /**
   * Arrays of values, one per drain of the transport, in order. Counts as a subscriber. Subscribed after
   * `unsubscribe()`, it errors with ObjectUnsubscribedError, as subscribing to the wire itself throws it.
   */
  readonly bursts$: Observable<T[]> = new Observable<T[]>((subscriber) => this.inbox.subscribeBursts(this.unclosed(subscriber)));

  /** Counters of this end: the current ones at once, then after every drain and flush. After `unsubscribe()`, as `bursts$`. */
  readonly stats$: Observable<WireStats> = new Observable<WireStats>((subscriber) => this.inbox.subscribeStats(this.unclosed(subscriber)));

  /** `subscriber`, when this wire was not unsubscribed; else the ObjectUnsubscribedError it gets (thrown into RxJS's subscribe, which delivers it). */
  private unclosed<S>(subscriber: S): S {
    if (this.closed) throw new ObjectUnsubscribedError();
    return subscriber;
  }

  /** A snapshot of this end's counters. */
  stats(): WireStats {
    const { held = 0, droppedHeld = 0, ...counters } = this.channel.stats();
    return { ...counters, queued: this.outbox.length + held, dropped: this.outbox.dropped + droppedHeld };
  }

  /**
   * Sends `value`, waiting for room in the transport's window.
   * Resolves once the transport has taken the value; rejects with
   * `EncodeError` (the value does not fit; nothing is sent) or
   * `TransportClosedError` (this end completed, or the reader stopped or is
   * gone), or the error the reader refused this end's schema with.
   */
  send(value: T | EncodeInput<T, In>): Promise<void> {
    return this.outbox.send(value as T);
  }

  /**
   * Sends `value` if the transport's window has room now; returns false, and
   * sends nothing, when it is full (or when earlier values still wait).
   * @throws EncodeError when the value does not fit the schema
   * @throws TransportClosedError when this end completed or errored, or the reader stopped or is gone
   */
  trySend(value: T | EncodeInput<T, In>): boolean {
    return this.outbox.trySend(value as T);
  }

  /**
   * Completes the outgoing stream (if open) and stops reading. The
   * subscribers present get what this end had read, then its ending (the
   * peer's if read, else `complete`, as RxJS's `webSocket` subject), so that
   * `lastValueFrom(wire)` settles. `unsubscribe()` closes too, but first, as
   * RxJS's, lets go of the subscribers: they get nothing more, not the ending
   * (a `client` on it is not told: requests wait for their timeout).
   */
  close(): void {
    if (!this.outbox.ended) {
      this.stopOut(undefined, false);
      this.outbox.end({ kind: 'complete' });
    }
    this.inbox.stop();
    this.inbox.end({ kind: 'complete' });
  }

  override unsubscribe(): void {
    this.inbox.drop();
    this.close();
    super.unsubscribe();
  }

  /**
   * The Observer side ended (the first ending counts): RxJS's deprecated
   * `isStopped`, `hasError` and `thrownError` describe this end's outgoing
   * stream, the one `next`, `error` and `complete` feed.
   */
  private stopOut(err: unknown, failed: boolean): void {
    if (this.isStopped) return;
    this.isStopped = true;
    if (!failed) return;
    this.hasError = true;
    this.thrownError = err;
  }

  /** An error raised by `next`: the peer and this end's subscribers both get it. */
  private failOutgoing(err: unknown): void {
    this.stopOut(err, true);
    this.outbox.end({ kind: 'error', error: err });
    this.inbox.stop();
    this.inbox.end({ kind: 'error', error: err });
  }

  /** @internal Pauses reading while `on`, for a reason outside this end (a stage step's way out waiting for room). */
  holdReading(on: boolean): void {
    this.setPaused(HELD, on);
  }

  /** Pauses reading while any reason holds; resumes when none does (and the end still reads). */
  private setPaused(reason: number, on: boolean): void {
    const before = this.paused;
    this.paused = on ? before | reason : before & ~reason;
    if ((before === 0) === (this.paused === 0)) return;
    if (this.paused !== 0) this.channel.pause();
    else if (this.inbox.reading) this.channel.resume();
  }

  /** Values from one drain of the transport (a seam the pipeline spec watches: what reaches this thread). */
  private deliver(values: T[]): void {
    this.inbox.batch(values);
  }

  private sink(): ChannelSink<T> {
    return {
      batch: (values) => this.deliver(values),
      complete: () => this.inbox.end({ kind: 'complete' }),
      error: (err) => this.inbox.end({ kind: 'error', error: err }),
      writable: () => this.outbox.drain(),
      writeClosed: (error, stopped, reported) => {
        if (!this.outbox.close(error, stopped)) return;
        this.server?.readerGone();
        this.wayOutClosed?.(error, stopped);
        if (stopped || reported || isPeerGone(error)) return;
        // Refused (the schema, ...): both ends fail, this one's subscribers too.
        this.inbox.stop();
        this.inbox.end({ kind: 'error', error });
      },
      flushed: () => this.inbox.emitStats(),
      accepted: () => {
        this.accepted = true;
        this.outbox.confirm();
      },
    };
  }
}

/** The peer is gone: the incoming side reports it itself, after what it still holds. */
function isPeerGone(err: Error): boolean {
  return err instanceof TransportClosedError || err instanceof WorkerError;
}
