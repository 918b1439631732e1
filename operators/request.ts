import { Observable, type Observer, type Subscriber, type Subscription } from 'rxjs';
import type { Codec } from '../core/codec';
import { RemoteError, TimeoutError, TransportClosedError, WorkerError } from '../core/errors';
import { Fifo } from '../core/fifo';
import { RpcKind, checkConcurrency, control, withBody, type RpcEnvelope } from './request-internals';

/** The default of `ClientOptions.timeout`, in ms. */
const DEFAULT_TIMEOUT = 30_000;

/** The longest delay of Node's timers (2^31 - 1 ms): a longer one fires after 1 ms. */
const TIMEOUT_MAX = 2_147_483_647;

/**
 * How early the handle's timer may fire: Node's timers run on the event
 * loop's millisecond clock, read once a turn, so one can fire up to a
 * millisecond before `performance.now()` says it is due. A deadline that
 * near counts as passed, as it would for a per-request setTimeout.
 */
const TIMER_SLACK = 1;

/**
 * What a client talks through: envelopes in and out, usually a
 * `WireSubject<RpcEnvelope>` from `open(end, rpcCodec())` (any Subject fits).
 */
export type RpcWire = Observable<RpcEnvelope> &
  Observer<RpcEnvelope> & {
    /**
     * When present (a WireSubject's), requests go out through it, so one the
     * transport refuses (the server stopped reading, or is gone) fails at
     * once with the transport's typed error instead of waiting for the wire
     * to end.
     */
    send?(envelope: RpcEnvelope): Promise<void>;
    /**
     * When present with `send`, tried first: a request that fits goes out
     * without a Promise (about a tenth of a round trip over shm).
     */
    trySend?(envelope: RpcEnvelope): boolean;
  };

/** Options of {@link client}. */
export interface ClientOptions<Q, A> {
  /** The codec of the requests (the server's `request` codec). */
  request: Codec<Q>;
  /** The codec of the replies (the server's `reply` codec). */
  reply: Codec<A>;
  /**
   * The most requests of this handle in flight at once; further ones wait
   * their turn, first come first served. A positive integer or `Infinity`
   * (the default). Each `clone()` has its own bound.
   */
  concurrency?: number;
  /**
   * The deadline of this handle's requests that set no `timeout` of their
   * own: milliseconds from subscription until such a request fails with
   * `TimeoutError` and the server is sent CANCEL (the handler's signal
   * aborts). Default 30_000 (30 s), so a handler that never replies cannot
   * hang its caller; `Infinity`: no limit. At most 2_147_483_647 (Node's
   * longest timer). Each `clone()` may set its own; a request's own
   * `timeout` overrides it.
   *
   * Nearly free, unlike a per-request `timeout`: the handle keeps these
   * requests in subscription order, which is deadline order (one timeout,
   * a monotonic clock), under one timer due at the first deadline, and
   * creates the `TimeoutError` when the deadline passes, so its stack is the
   * timer's. A request's own `timeout` has a timer of its own and an error
   * created at call time, whose stack shows the caller.
   */
  timeout?: number;
}

/** Options of {@link request}. */
export interface RequestOptions {
  /**
   * Milliseconds from subscription (time waiting for a `concurrency` slot
   * included) until the request fails with `TimeoutError`; the server is
   * sent CANCEL so its work stops. `Infinity`: no limit. Default: the
   * client's `timeout` (30 s unless set there). Costs a timer and an error
   * per request; the client's is nearly free (see `ClientOptions.timeout`).
   */
  timeout?: number;
  /**
   * Cancels the request like an unsubscribe (the server is sent CANCEL), and
   * errors it with `signal.reason`.
   */
  signal?: AbortSignal;
}

/** One subscribed request. */
interface Pending<A> {
  /** The handle that made it: replies are routed to its `receive`. */
  readonly owner: RequestClient<unknown, A>;
  readonly id: number;
  readonly body: Buffer;
  readonly subscriber: Subscriber<A>;
  /** REQUEST has gone out: a CANCEL is owed if it ends early. */
  sent: boolean;
  settled: boolean;
  /**
   * When the handle's default timeout fails it (`performance.now()` ms);
   * meaningful while it is in the handle's `deadlines`.
   */
  deadline: number;
  /** Its neighbours in the handle's `deadlines`. */
  prev: Pending<A> | undefined;
  next: Pending<A> | undefined;
  cleanup?: () => void;
}

/**
 * The pending requests of one handle under its default timeout, in
 * subscription order, which is deadline order (every deadline is
 * `performance.now()` plus the same timeout): the first is always the next
 * to expire. An intrusive list through the entries' `prev` and `next`, so
 * adding and removing one is a few field writes: an insertion-ordered Set
 * would do, but costs ~0.1 µs more a request (it hashes each new entry).
 */
class Deadlines<A> {
  first: Pending<A> | undefined;
  private last: Pending<A> | undefined;

  /** Adds `entry` at the end; true when it is the only one. */
  push(entry: Pending<A>): boolean {
    const { last } = this;
    this.last = entry;
    if (last === undefined) {
      this.first = entry;
      return true;
    }
    entry.prev = last;
    last.next = entry;
    return false;
  }

  /** Removes `entry` if it is in the list; true when that left the list empty. */
  remove(entry: Pending<A>): boolean {
    const { prev, next } = entry;
    if (prev === undefined && this.first !== entry) return false; // not in the list
    if (prev === undefined) this.first = next;
    else prev.next = next;
    if (next === undefined) this.last = prev;
    else next.prev = prev;
    entry.prev = entry.next = undefined;
    return this.first === undefined;
  }
}

/**
 * What every handle of one client shares: the wire, its one subscription,
 * the ids, and the map of requests in flight by id.
 */
class Connection {
  private nextId = 1;
  private handles = 0;
  private ended: Error | undefined;
  private readonly subscription: Subscription;
  /** Every request in flight on this wire, whichever handle made it. */
  readonly inFlight = new Map<number, Pending<unknown>>();
  /** Called with the error when the wire ends: each handle fails its own pending. */
  private readonly onEnd = new Set<(err: Error) => void>();

  constructor(private readonly wire: RpcWire) {
    this.subscription = wire.subscribe({
      next: (envelope) => {
        const entry = this.inFlight.get(envelope.id);
        if (entry) entry.owner.receive(entry, envelope);
      },
      error: (err) => this.end(wireFailure(err)),
      complete: () => this.end(new TransportClosedError('the server ended the wire')),
    });
  }

  /** Why no request can be made any more, or undefined while the wire is up. */
  get endedWith(): Error | undefined {
    return this.ended;
  }

  id(): number {
    return this.nextId++;
  }

  /** Sends `envelope`; `refused` hears why, if the transport refuses it (when the wire can say). */
  send(envelope: RpcEnvelope, refused?: (err: Error) => void): void {
    if (this.ended) return;
    const { wire } = this;
    if (!refused || !wire.send) return wire.next(envelope);
    if (wire.trySend) {
      try {
        if (wire.trySend(envelope)) return;
      } catch (err) {
        // Told later, as a rejected send would be: the caller is mid-start.
        queueMicrotask(() => refused(err as Error));
        return;
      }
    }
    wire.send(envelope).catch(refused);
  }

  attach(onEnd: (err: Error) => void): void {
    this.handles++;
    this.onEnd.add(onEnd);
  }

  /** A handle closed; the last one releases the wire (completes it: the server stops). */
  detach(onEnd: (err: Error) => void): void {
    if (!this.onEnd.delete(onEnd)) return;
    if (--this.handles > 0) return;
    this.ended ??= new TransportClosedError('the client is closed');
    this.wire.complete();
    this.subscription.unsubscribe();
  }

  private end(err: Error): void {
    if (this.ended) return;
    this.ended = err;
    for (const fail of [...this.onEnd]) fail(err);
  }
}

/**
 * The client side of request/reply over one wire: a handle owning its
 * pending requests. Make one with {@link client}; ask with {@link request}.
 */
export class RequestClient<Q, A> {
  private readonly pending = new Set<Pending<A>>();
  /** Subscribed requests waiting for a `concurrency` slot. */
  private readonly queue = new Fifo<Pending<A>>();
  private running = 0;
  private closedWith: Error | undefined;
  private readonly failAll = (err: Error): void => this.fail(err);
  /** The default timeout of this handle's requests, in ms (`Infinity`: none). */
  private readonly timeout: number;
  /** The pending requests under the default timeout, the next to expire first. */
  private readonly deadlines = new Deadlines<A>();
  /**
   * The one timer of `deadlines`, due at or before the first deadline
   * whenever `deadlines` is not empty. When it empties the timer is unref'd,
   * not cleared (a process never waits on it; it fires once more at most,
   * and then goes), and the next request refs it again: ~25 ns, where a
   * setTimeout and clearTimeout per request would cost ~360 ns, a sixth of
   * a round trip over shm. Cleared when the handle fails or closes.
   */
  private timer: ReturnType<typeof setTimeout> | undefined;

  /** @internal Use `client(wire, options)`. */
  constructor(
    private readonly connection: Connection,
    /** The codecs and the bound this handle was made with. */
    readonly options: Readonly<ClientOptions<Q, A>>,
  ) {
    const { concurrency = Infinity, timeout = DEFAULT_TIMEOUT } = options;
    checkConcurrency(concurrency);
    checkTimeout(timeout);
    this.timeout = timeout;
    connection.attach(this.failAll);
  }

  /** Requests of this handle not settled yet (in flight or waiting for a slot). */
  get size(): number {
    return this.pending.size;
  }

  /**
   * An independent handle on the same wire: its own pending requests, its own
   * `concurrency` bound and default `timeout` (each from `options`, else this
   * one's) and its own `close`.
   *
   * @throws RangeError when `options.concurrency` or `options.timeout` is out of range
   */
  clone(options: Pick<ClientOptions<Q, A>, 'concurrency' | 'timeout'> = {}): RequestClient<Q, A> {
    if (this.closedWith) throw this.closedWith;
    const { concurrency = this.options.concurrency, timeout = this.options.timeout } = options;
    return new RequestClient(this.connection, { ...this.options, concurrency, timeout });
  }

  /**
   * Fails this handle's pending requests with `TransportClosedError` (the
   * server is sent CANCEL for each), and refuses new ones. The last handle
   * of a wire to close completes the wire and stops reading it.
   */
  close(): void {
    this.fail(new TransportClosedError('the client is closed'));
    this.connection.detach(this.failAll); // once per handle: a second call does nothing
  }

  /** @internal The Observable `request` returns. */
  ask(value: Q, options: RequestOptions, timeoutError: TimeoutError | undefined): Observable<A> {
    const { timeout, signal } = options;
    const ownTimer = timeoutError !== undefined; // a finite timeout of its own
    return new Observable<A>((subscriber) => {
      const ended = this.closedWith ?? this.connection.endedWith;
      if (ended) return subscriber.error(ended);
      if (signal?.aborted) return subscriber.error(signal.reason);
      let body: Buffer;
      try {
        body = this.options.request.encode(value);
      } catch (err) {
        return subscriber.error(err);
      }
      const entry: Pending<A> = {
        owner: this as RequestClient<unknown, A>,
        id: this.connection.id(),
        body,
        subscriber,
        sent: false,
        settled: false,
        deadline: 0,
        prev: undefined,
        next: undefined,
      };
      this.pending.add(entry);
      if (timeout === undefined) this.track(entry);

      // Timers and listeners of its own only when asked for: most requests have neither.
      if (ownTimer || signal) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const onAbort = (): void => this.settle(entry, (s) => s.error(signal!.reason));
        if (ownTimer) {
          timer = setTimeout(() => this.settle(entry, (s) => s.error(timeoutError)), timeout);
        }
        signal?.addEventListener('abort', onAbort, { once: true });
        entry.cleanup = () => {
          if (timer !== undefined) clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        };
      }

      if (this.running < (this.options.concurrency ?? Infinity)) this.start(entry);
      else this.queue.push(entry);

      // Unsubscribing before the end cancels the request (CANCEL to the server).
      return () => this.settle(entry);
    });
  }

  /** Puts `entry` under the handle's default timeout, if it has one. */
  private track(entry: Pending<A>): void {
    if (this.timeout === Infinity) return;
    entry.deadline = performance.now() + this.timeout;
    if (!this.deadlines.push(entry)) return; // the timer is due at or before an earlier deadline
    if (this.timer === undefined) this.timer = setTimeout(this.expire, this.timeout);
    else this.timer.ref(); // left from earlier requests, due at one of their deadlines: earlier than this one
  }

  /** The timer of `deadlines` fired: fails every request past its deadline, then waits for the next one. */
  private readonly expire = (): void => {
    this.timer = undefined;
    const due = performance.now() + TIMER_SLACK;
    // Collected first: failing one runs the subscriber's code, which may make or end requests.
    const expired: Pending<A>[] = [];
    for (let entry = this.deadlines.first; entry !== undefined && entry.deadline <= due; entry = entry.next) {
      expired.push(entry);
    }
    for (const entry of expired) {
      this.settle(entry, (s) => s.error(new TimeoutError(`no reply within ${this.timeout} ms (the client's timeout)`)));
    }
    this.arm();
  };

  /** Arms the timer for the first deadline, unless it is armed or nothing waits. */
  private arm(): void {
    if (this.timer !== undefined) return;
    const { first } = this.deadlines;
    if (first === undefined) return;
    this.timer = setTimeout(this.expire, Math.max(1, Math.ceil(first.deadline - performance.now())));
  }

  /** Sends REQUEST and routes the replies to `entry`. */
  private start(entry: Pending<A>): void {
    this.running++;
    entry.sent = true;
    this.connection.inFlight.set(entry.id, entry as Pending<unknown>);
    this.connection.send(withBody(entry.id, RpcKind.REQUEST, entry.body), (err) =>
      this.settle(entry, (s) => s.error(err)),
    );
  }

  /** @internal A reply envelope for `entry`, routed here by the connection. */
  receive(entry: Pending<A>, envelope: RpcEnvelope): void {
    switch (envelope.kind) {
      case RpcKind.NEXT: {
        let value: A;
        try {
          value = this.options.reply.decode(envelope.body);
        } catch (err) {
          return this.settle(entry, (s) => s.error(err));
        }
        entry.subscriber.next(value);
        return;
      }
      case RpcKind.REPLY: {
        let value: A;
        try {
          value = this.options.reply.decode(envelope.body);
        } catch (err) {
          entry.sent = false; // the server is done with it
          return this.settle(entry, (s) => s.error(err));
        }
        entry.sent = false;
        return this.settle(entry, (s) => {
          s.next(value);
          s.complete();
        });
      }
      case RpcKind.COMPLETE:
        entry.sent = false; // the server is done with it: no CANCEL owed
        return this.settle(entry, (s) => s.complete());
      case RpcKind.ERROR: {
        entry.sent = false;
        const data = envelope.error ?? { name: 'Error', message: 'the server failed without saying why', code: null, stack: null };
        return this.settle(entry, (s) => s.error(new RemoteError(data)));
      }
    }
  }

  /**
   * Ends `entry` exactly once: drops it from every map, clears its timer
   * (unrefs the handle's when no deadline is left), owes the server a CANCEL
   * if it was still working on it, frees its slot, and only then tells the
   * subscriber (`end`, absent on unsubscribe).
   */
  private settle(entry: Pending<A>, end?: (subscriber: Subscriber<A>) => void): void {
    if (entry.settled) return;
    entry.settled = true;
    this.pending.delete(entry);
    if (this.deadlines.remove(entry)) this.timer?.unref();
    entry.cleanup?.();
    if (this.connection.inFlight.delete(entry.id)) {
      this.running--;
      if (entry.sent) this.connection.send(control(entry.id, RpcKind.CANCEL));
      this.pump();
    }
    end?.(entry.subscriber);
  }

  /** Starts waiting requests while slots are free. */
  private pump(): void {
    const bound = this.options.concurrency ?? Infinity;
    while (this.running < bound && this.queue.length > 0) {
      const next = this.queue.shift()!;
      if (!next.settled && !this.closedWith && !this.connection.endedWith) this.start(next);
    }
  }

  private fail(err: Error): void {
    this.closedWith ??= err;
    for (const entry of [...this.pending]) this.settle(entry, (s) => s.error(err));
    this.queue.drain();
    // The handle takes no more requests: its timer goes for good.
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * A request/reply client over `wire` (opened with `rpcCodec()`), whose other
 * end runs {@link serve}.
 *
 * ## Example
 * ```ts
 * import { codec, open } from 'rxwire';
 * import { client, request, rpcCodec } from 'rxwire/operators';
 * const prices = client(open(end, rpcCodec(), { worker }), { request: Quote, reply: codec('double'), concurrency: 64 });
 * quotes$.pipe(mergeMap((q) => request(prices, q, { timeout: 100 }))).subscribe(render);
 * prices.close();
 * ```
 *
 * The client subscribes to the wire at once and owns it: replies are routed
 * by id to the request that asked. When the wire errors or completes, every
 * pending request fails (`WorkerError` when the wire was opened with
 * `{ worker }` and the worker died; `TransportClosedError` otherwise) and
 * new ones fail at once. Closing the last handle (see `clone`) completes the
 * wire and stops reading it. A request with no reply fails with
 * `TimeoutError` after the handle's `timeout` (30 s unless set).
 *
 * @param wire envelopes both ways, usually `open(end, rpcCodec())`
 * @param options the codecs, the bound and the default timeout, see {@link ClientOptions}
 * @returns the first handle on the wire
 * @throws RangeError when `options.concurrency` is not a positive integer or `Infinity`,
 *   or `options.timeout` is not a number of milliseconds from 0 to 2_147_483_647 or `Infinity`
 */
export function client<Q, A>(wire: RpcWire, options: ClientOptions<Q, A>): RequestClient<Q, A> {
  checkConcurrency(options.concurrency ?? Infinity);
  checkTimeout(options.timeout ?? DEFAULT_TIMEOUT);
  return new RequestClient(new Connection(wire), options);
}

/**
 * Asks the server behind `client` and emits its reply: cold, one request per
 * subscription.
 *
 * ## Example
 * ```ts
 * import { request } from 'rxwire/operators';
 * quotes$.pipe(mergeMap((q) => request(prices, q, { timeout: 100 })));
 * ```
 *
 * Subscribing sends REQUEST (or waits for a `concurrency` slot first). A
 * plain reply emits one value and completes; a streamed reply emits each
 * value and completes (with no value at all when the handler's Observable
 * had none: `firstValueFrom` then throws rxjs's `EmptyError`). Every subscription settles exactly once: it completes,
 * or errors with `RemoteError` (the handler failed: `remoteName`,
 * `remoteCode`, `remoteStack`), `TimeoutError` (after `timeout` ms, else
 * after the client's `timeout`, 30 s unless set; the server is sent
 * CANCEL), `signal.reason` (the signal aborted; CANCEL sent),
 * `EncodeError` (the value does not fit the request codec; nothing sent),
 * `DecodeError` (a reply that does not decode; CANCEL sent), or
 * `TransportClosedError` / `WorkerError` (the client closed, or the wire
 * ended). Unsubscribing early sends CANCEL: the handler's signal aborts.
 *
 * With a `timeout` of its own, the `TimeoutError` is created here, at call
 * time, so its stack shows the caller rather than a timer; the client's
 * default timeout creates its error when the deadline passes (no cost per
 * request), with the timer's stack.
 *
 * @param client the handle to ask through
 * @param value the request
 * @param options `timeout` and `signal`, see {@link RequestOptions}
 * @returns an Observable of the reply values
 * @throws RangeError when `options.timeout` is not a number of milliseconds from 0 to 2_147_483_647 or `Infinity`
 */
export function request<Q, A>(client: RequestClient<Q, A>, value: Q, options: RequestOptions = {}): Observable<A> {
  const { timeout } = options;
  if (timeout !== undefined) checkTimeout(timeout);
  const timeoutError = timeout === undefined || timeout === Infinity ? undefined : new TimeoutError(`no reply within ${timeout} ms`);
  return client.ask(value, options, timeoutError);
}

/** Validates a `timeout` option: milliseconds from 0 to `TIMEOUT_MAX`, or `Infinity`. */
function checkTimeout(timeout: number): void {
  if (!(timeout === Infinity || (typeof timeout === 'number' && timeout >= 0 && timeout <= TIMEOUT_MAX))) {
    throw new RangeError('options.timeout must be a number of milliseconds from 0 to 2147483647, or Infinity');
  }
}

/** The error pending requests fail with when the wire errors. */
function wireFailure(err: unknown): Error {
  if (err instanceof WorkerError || err instanceof TransportClosedError) return err;
  return new TransportClosedError(`the wire failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}
