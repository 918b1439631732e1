/**
 * WireSubject: an RxJS Subject over one end of a transport, in the manner of
 * RxJS's `WebSocketSubject`. `next` encodes and sends; subscribers receive
 * what the other end sent; `complete` and `error` reach the other end.
 */
import { Observable, Subject, type Subscriber, type TeardownLogic } from 'rxjs';
import type { Channel, ChannelSink, Connect, WireStats } from './channel';
import type { Codec } from './codec';
import { noop, type Ending } from './ending';
import { QueueFullError, TransportClosedError } from './errors';
import { Fifo } from './fifo';

/** Options every transport's `open` accepts. */
export interface WireOptions {
  /**
   * How many values `next` may hold locally while the transport's window is
   * full. One more errors the wire with `QueueFullError` (values already
   * taken are still sent). `send` waits instead and is not counted.
   * Default 65536; `Infinity` for no bound (memory is then the caller's).
   */
  maxQueue?: number;
  /**
   * Pause reading while values from `next` wait for room (default true): a
   * stage that echoes what it reads then passes its output's backpressure on
   * to its input. Turn it off where one thread both reads and writes many
   * links at once (the runtime's all-to-all channels): there, pausing reads
   * while a peer's ring is full could stop two workers each waiting on the
   * other.
   */
  pauseReadsWhileQueued?: boolean;
}

interface Pending<T> {
  value: T;
  resolve?: () => void;
  reject?: (err: Error) => void;
}

type ReadState = 'idle' | 'reading' | 'stopped';

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
 * Receiving. Nothing is read until the first subscriber arrives: until then
 * the transport holds what the peer sends (the peer's window bounds it), so
 * nothing sent before anyone listens is lost. From then on it is hot, like a
 * `Subject`: a late subscriber sees what arrives after it subscribed; after the
 * peer completes or errors, a new subscriber gets that ending at once. When
 * the last subscriber leaves, the end stops reading for good (as a
 * `WebSocketSubject` closes its socket): the peer is told, its `send` rejects
 * with `TransportClosedError` and its `next` drops values (counted in
 * `stats().dropped`); a later subscriber gets `TransportClosedError`.
 *
 * Sending. `next` is the Observer side, for use in a chain
 * (`source$.subscribe(wire)`): it never throws. A value that does not fit the
 * schema, or a full local queue, ends the outgoing stream with that error
 * (`EncodeError`, `QueueFullError`): the peer receives it as `RemoteError`
 * and this end's subscribers get it too, as a `WebSocketSubject` does. `next`
 * after `complete` is ignored, as on any Subject, and counted in `dropped`.
 * For a direct caller who wants each failure back: `send` (waits for room,
 * rejects with the typed error) and `trySend` (false when full, throws the
 * typed error). All three share one FIFO order.
 */
export class WireSubject<T> extends Subject<T> {
  private readonly channel: Channel<T>;
  private readonly maxQueue: number;
  private readonly pauseReadsWhileQueued: boolean;
  private readonly subscribers: Subscriber<T>[] = [];
  private readonly burstSubscribers: Subscriber<T[]>[] = [];
  private readonly statsSubscribers: Subscriber<WireStats>[] = [];
  private readonly outbox = new Fifo<Pending<T>>();
  private readState: ReadState = 'idle';
  private incomingEnd: Ending | undefined;
  /** Set once no more values may be queued: by complete/error here. */
  private outgoingEnd: Ending | undefined;
  /** Set when the other side closed our outgoing direction. */
  private writeClosedBy: { error: Error; stopped: boolean } | undefined;
  private dropped = 0;
  /** Reading is paused while values from `next` wait for room. */
  private throttled = false;
  private turnArmed = false;
  private lastTurn = performance.now();

  /** @internal Use `open(end, codec)`. */
  constructor(
    connect: Connect<T>,
    private readonly codec: Codec<T>,
    options: WireOptions = {},
  ) {
    super();
    const { maxQueue = 65536, pauseReadsWhileQueued = true } = options;
    this.pauseReadsWhileQueued = pauseReadsWhileQueued;
    if (!(Number.isInteger(maxQueue) || maxQueue === Infinity) || maxQueue < 0) {
      throw new RangeError('options.maxQueue must be a non-negative integer or Infinity');
    }
    this.maxQueue = maxQueue;
    this.channel = connect(this.sink());
  }

  /** Encodes and sends `value`; never throws (see the class comment). */
  override next(value: T): void {
    this.push(value);
  }

  /** Ends the outgoing stream with `err`, which the peer receives as `RemoteError`. */
  override error(err: unknown): void {
    this.end({ kind: 'error', error: err });
  }

  /** Completes the outgoing stream, after every value already queued. */
  override complete(): void {
    this.end({ kind: 'complete' });
  }

  /** Whether anyone is subscribed to the incoming values or bursts. */
  override get observed(): boolean {
    return this.subscribers.length + this.burstSubscribers.length > 0;
  }

  /**
   * RxJS calls this for every subscriber (`Subject#_subscribe`, which RxJS's
   * own `WebSocketSubject` overrides the same way); not in RxJS's typings.
   * @internal
   */
  protected _subscribe(subscriber: Subscriber<T>): TeardownLogic {
    return this.attach(this.subscribers, subscriber);
  }

  /** Arrays of values, one per drain of the transport, in order. Counts as a subscriber. */
  readonly bursts$: Observable<T[]> = new Observable<T[]>((subscriber) =>
    this.attach(this.burstSubscribers, subscriber),
  );

  /** Counters of this end: the current ones at once, then after every drain and flush. */
  readonly stats$: Observable<WireStats> = new Observable<WireStats>((subscriber) => {
    subscriber.next(this.stats());
    this.statsSubscribers.push(subscriber);
    return () => remove(this.statsSubscribers, subscriber);
  });

  /** A snapshot of this end's counters. */
  stats(): WireStats {
    return { ...this.channel.stats(), queued: this.outbox.length, dropped: this.dropped };
  }

  /**
   * Sends `value`, waiting for room in the transport's window.
   * Resolves once the transport has taken the value; rejects with
   * `EncodeError` (the value does not fit; nothing is sent) or
   * `TransportClosedError` (this end completed, or the reader stopped or is gone).
   */
  send(value: T): Promise<void> {
    try {
      if (this.trySend(value)) return this.fairTurn();
      this.codec.check(value);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.writeClosedBy) return Promise.reject(this.writeClosedBy.error);
    return new Promise<void>((resolve, reject) => {
      this.outbox.push({ value, resolve, reject });
      this.channel.hold(true);
    });
  }

  /**
   * Sends `value` if the transport's window has room now; returns false, and
   * sends nothing, when it is full (or when earlier values still wait).
   * @throws EncodeError when the value does not fit the schema
   * @throws TransportClosedError when this end completed, or the reader stopped or is gone
   */
  trySend(value: T): boolean {
    const closed = this.writeClosedBy?.error ?? (this.outgoingEnd && new TransportClosedError('this end has completed'));
    if (closed) throw closed;
    if (this.outbox.length > 0) return false;
    try {
      return this.channel.offer(value);
    } catch (err) {
      // The transport may learn only now that the reader left: report why.
      throw this.writeClosedBy?.error ?? err;
    }
  }

  /** Completes the outgoing stream (if open) and stops reading. The same as `unsubscribe()`. */
  close(): void {
    if (!this.outgoingEnd) this.end({ kind: 'complete' });
    this.stopReading();
  }

  override unsubscribe(): void {
    this.close();
    super.unsubscribe();
  }

  private push(value: T): void {
    if (this.outgoingEnd || this.writeClosedBy) {
      this.dropped++;
      return;
    }
    try {
      if (this.outbox.length === 0 && this.channel.offer(value)) return;
      if (this.outbox.length >= this.maxQueue) {
        throw new QueueFullError(`next: ${this.outbox.length} values already wait for the reader (options.maxQueue)`);
      }
      this.codec.check(value);
    } catch (err) {
      // The transport found its reader gone as we offered: as after the fact, drop.
      if (this.writeClosedBy) this.dropped++;
      else this.failOutgoing(err);
      return;
    }
    if (this.writeClosedBy) {
      this.dropped++;
      return;
    }
    this.outbox.push({ value });
    this.channel.hold(true);
    if (!this.throttled && this.pauseReadsWhileQueued) {
      // Read no more until this end can send again: a stage that echoes
      // what it reads passes its output's backpressure on to its input.
      this.throttled = true;
      this.channel.pause();
    }
  }

  /** An error raised by `next`: the peer and this end's subscribers both get it. */
  private failOutgoing(err: unknown): void {
    this.end({ kind: 'error', error: err });
    this.stopReading();
    this.deliverEnd({ kind: 'error', error: err });
  }

  private unthrottle(): void {
    if (!this.throttled) return;
    this.throttled = false;
    if (this.readState === 'reading' && !this.incomingEnd) this.channel.resume();
  }

  /**
   * A resolved promise, except about every 2 ms of a loop that never leaves
   * microtasks (`for (...) await wire.send(v)` while there is room): then one
   * that waits a turn of the event loop, so this thread's own reading, timers
   * and I/O are not starved.
   */
  private fairTurn(): Promise<void> {
    if (!this.turnArmed) {
      this.turnArmed = true;
      setImmediate(() => {
        this.turnArmed = false;
        this.lastTurn = performance.now();
      });
    }
    if (performance.now() - this.lastTurn < 2) return RESOLVED;
    return new Promise((resolve) => setImmediate(resolve));
  }

  /** A value queued by `next` failed in the transport: later ones are not sent. */
  private failQueued(err: unknown): void {
    for (const pending of this.outbox.drain()) {
      if (pending.reject) pending.reject(err as Error);
      else this.dropped++;
    }
    this.outgoingEnd = undefined;
    this.failOutgoing(err);
  }

  private end(ending: Ending): void {
    if (this.outgoingEnd || this.writeClosedBy) return;
    this.outgoingEnd = ending;
    this.drainOutbox();
  }

  /** Offers queued values while the window has room; sends the ending once they are all out. */
  private drainOutbox(): void {
    while (this.outbox.length > 0) {
      const head = this.outbox.peek()!;
      let taken: boolean;
      try {
        taken = this.channel.offer(head.value);
      } catch (err) {
        // Checked when queued, a value can still fail here (too large a
        // frame): `send` rejects it; from `next`, it ends the stream as
        // `next` does. Nothing is dropped without a trace.
        this.outbox.shift();
        if (head.reject) head.reject(err as Error);
        else if (err instanceof TransportClosedError) this.dropped++;
        else return this.failQueued(err);
        continue;
      }
      if (!taken) return;
      this.outbox.shift();
      head.resolve?.();
    }
    this.channel.hold(false);
    this.unthrottle();
    const ending = this.outgoingEnd;
    if (!ending || this.writeClosedBy) return;
    if (ending.kind === 'complete') this.channel.complete();
    else this.channel.error(ending.error);
  }

  private sink(): ChannelSink<T> {
    return {
      batch: (values) => this.deliver(values),
      complete: () => this.deliverEnd({ kind: 'complete' }),
      error: (err) => this.deliverEnd({ kind: 'error', error: err }),
      writable: () => this.drainOutbox(),
      writeClosed: (error, stopped) => {
        if (this.writeClosedBy) return;
        this.writeClosedBy = { error, stopped };
        for (const pending of this.outbox.drain()) {
          if (pending.reject) pending.reject(error);
          else this.dropped++;
        }
        this.channel.hold(false);
        this.unthrottle();
      },
      flushed: () => this.emitStats(),
    };
  }

  private attach<V>(list: Subscriber<V>[], subscriber: Subscriber<V>): () => void {
    const ending = this.incomingEnd;
    if (ending) {
      if (ending.kind === 'complete') subscriber.complete();
      else subscriber.error(ending.error);
      return noop;
    }
    if (this.readState === 'stopped') {
      subscriber.error(new TransportClosedError('this end stopped reading when its last subscriber left'));
      return noop;
    }
    list.push(subscriber);
    if (this.readState === 'idle') {
      this.readState = 'reading';
      this.channel.resume();
    }
    return () => {
      remove(list, subscriber);
      if (this.subscribers.length === 0 && this.burstSubscribers.length === 0) this.stopReading();
    };
  }

  private stopReading(): void {
    if (this.readState === 'stopped' || this.incomingEnd) return;
    this.readState = 'stopped';
    this.channel.stop();
  }

  private deliver(values: T[]): void {
    if (this.burstSubscribers.length > 0) {
      for (const subscriber of this.burstSubscribers.slice()) {
        if (!subscriber.closed) subscriber.next(values);
      }
    }
    if (this.subscribers.length === 1) {
      // The common case: one subscriber, no copy of the list per value.
      const only = this.subscribers[0];
      for (let i = 0; i < values.length && !only.closed; i++) only.next(values[i]);
    } else if (this.subscribers.length > 1) {
      const snapshot = this.subscribers.slice();
      for (const value of values) {
        for (const subscriber of snapshot) if (!subscriber.closed) subscriber.next(value);
      }
    }
    this.emitStats();
  }

  private deliverEnd(ending: Ending): void {
    if (this.incomingEnd) return;
    this.incomingEnd = ending;
    const all = [...this.subscribers.splice(0), ...this.burstSubscribers.splice(0)];
    for (const subscriber of all) {
      if (ending.kind === 'complete') subscriber.complete();
      else subscriber.error(ending.error);
    }
    this.emitStats();
    for (const subscriber of this.statsSubscribers.splice(0)) subscriber.complete();
  }

  private emitStats(): void {
    if (this.statsSubscribers.length === 0) return;
    const snapshot = this.stats();
    for (const subscriber of this.statsSubscribers.slice()) subscriber.next(snapshot);
  }
}

function remove<V>(list: V[], item: V): void {
  const at = list.indexOf(item);
  if (at >= 0) list.splice(at, 1);
}

const RESOLVED = Promise.resolve();
