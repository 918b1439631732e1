import { Observable, type Observer, type Subscriber, type Subscription } from 'rxjs';
import type { Codec } from '../lib/codec';
import { RemoteError, TimeoutError, TransportClosedError, WorkerError } from '../lib/errors';
import { Fifo } from '../lib/fifo';
import { RpcKind, checkConcurrency, control, withBody, type RpcEnvelope } from './request-internals';

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
}

/** Options of {@link request}. */
export interface RequestOptions {
  /**
   * Milliseconds from subscription (time waiting for a `concurrency` slot
   * included) until the request fails with `TimeoutError`; the server is
   * sent CANCEL so its work stops. Default: no limit.
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
  cleanup?: () => void;
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

  /** @internal Use `client(wire, options)`. */
  constructor(
    private readonly connection: Connection,
    /** The codecs and the bound this handle was made with. */
    readonly options: Readonly<ClientOptions<Q, A>>,
  ) {
    checkConcurrency(options.concurrency ?? Infinity);
    connection.attach(this.failAll);
  }

  /** Requests of this handle not settled yet (in flight or waiting for a slot). */
  get size(): number {
    return this.pending.size;
  }

  /**
   * An independent handle on the same wire: its own pending requests, its own
   * `concurrency` bound (from `options`, else this one's) and its own `close`.
   */
  clone(options: { concurrency?: number } = {}): RequestClient<Q, A> {
    if (this.closedWith) throw this.closedWith;
    return new RequestClient(this.connection, { ...this.options, ...options });
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
      const entry: Pending<A> = { owner: this as RequestClient<unknown, A>, id: this.connection.id(), body, subscriber, sent: false, settled: false };
      this.pending.add(entry);

      // Timers and listeners only when asked for: most requests have neither.
      if (timeout !== undefined || signal) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const onAbort = (): void => this.settle(entry, (s) => s.error(signal!.reason));
        if (timeout !== undefined) {
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
   * Ends `entry` exactly once: drops it from every map, clears its timer,
   * owes the server a CANCEL if it was still working on it, frees its slot,
   * and only then tells the subscriber (`end`, absent on unsubscribe).
   */
  private settle(entry: Pending<A>, end?: (subscriber: Subscriber<A>) => void): void {
    if (entry.settled) return;
    entry.settled = true;
    this.pending.delete(entry);
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
 * wire and stops reading it.
 *
 * @param wire envelopes both ways, usually `open(end, rpcCodec())`
 * @param options the codecs and the bound, see {@link ClientOptions}
 * @returns the first handle on the wire
 * @throws RangeError when `options.concurrency` is not a positive integer or `Infinity`
 */
export function client<Q, A>(wire: RpcWire, options: ClientOptions<Q, A>): RequestClient<Q, A> {
  checkConcurrency(options.concurrency ?? Infinity);
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
 * value and completes. Every subscription settles exactly once: it completes,
 * or errors with `RemoteError` (the handler failed: `remoteName`,
 * `remoteCode`, `remoteStack`), `TimeoutError` (after `timeout` ms; the
 * server is sent CANCEL), `signal.reason` (the signal aborted; CANCEL sent),
 * `EncodeError` (the value does not fit the request codec; nothing sent),
 * `DecodeError` (a reply that does not decode; CANCEL sent), or
 * `TransportClosedError` / `WorkerError` (the client closed, or the wire
 * ended). Unsubscribing early sends CANCEL: the handler's signal aborts.
 *
 * The `TimeoutError` is created here, at call time, so its stack shows the
 * caller rather than a timer.
 *
 * @param client the handle to ask through
 * @param value the request
 * @param options `timeout` and `signal`, see {@link RequestOptions}
 * @returns an Observable of the reply values
 * @throws RangeError when `options.timeout` is not a non-negative number
 */
export function request<Q, A>(client: RequestClient<Q, A>, value: Q, options: RequestOptions = {}): Observable<A> {
  const { timeout } = options;
  if (timeout !== undefined && !(typeof timeout === 'number' && timeout >= 0)) {
    throw new RangeError('options.timeout must be a non-negative number of milliseconds');
  }
  const timeoutError = timeout === undefined ? undefined : new TimeoutError(`no reply within ${timeout} ms`);
  return client.ask(value, options, timeoutError);
}

/** The error pending requests fail with when the wire errors. */
function wireFailure(err: unknown): Error {
  if (err instanceof WorkerError || err instanceof TransportClosedError) return err;
  return new TransportClosedError(`the wire failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}
