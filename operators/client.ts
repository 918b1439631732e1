import { Observable, type Subscriber } from 'rxjs';
import type { Codec } from '../core/codec';
import { RemoteError, TimeoutError, TransportClosedError } from '../core/errors';
import { Fifo } from '../core/fifo';
import { checkKnown } from '../core/options';
import { Deadlines } from './deadlines';
import { CREDIT_BATCH, RpcKind, bodyOf, checkCodecs, checkConcurrency, checkTimeout, control, credit, schemas, withBody, type RpcEnvelope } from './request-internals';
import { Connection, isWire, type RpcWire } from './rpc-connection';
import { ValueEnvelope } from './rpc-envelope-codec';
import { IdTable, byId } from './id-table';
import { DEFAULT_TIMEOUT, type ClientOptions, type Pending } from './client-options';

export type { ClientOptions } from './client-options';

/**
 * The client side of request/reply over one wire: a handle owning its
 * pending requests. Make one with {@link client}; ask with `request`.
 */
export class RequestClient<Q, A> {
  private readonly pending = new IdTable<Pending<A>>();
  /** Subscribed requests waiting for a `concurrency` slot. */
  private readonly queue = new Fifo<Pending<A>>();
  /** Of those, how many settled since (timed out, cancelled): past half the queue, they are dropped from it. */
  private stale = 0;
  private pumping = false;
  private running = 0;
  private closedWith: Error | undefined;
  private readonly failAll = (err: Error): void => this.fail(err);
  /** The pending requests under the default timeout (none when it is `Infinity`), the next to expire first. */
  private readonly deadlines: Deadlines<Pending<A>> | undefined;

  /** @internal Use `client(wire, options)`. */
  constructor(
    private readonly connection: Connection,
    /** The codecs and the bound this handle was made with. */
    readonly options: Readonly<ClientOptions<Q, A>>,
  ) {
    const { concurrency = Infinity, timeout = DEFAULT_TIMEOUT } = options;
    checkConcurrency(concurrency);
    checkTimeout(timeout);
    this.deadlines = timeout === Infinity ? undefined : new Deadlines(timeout, this.expire);
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
   * @throws TypeError when `options` has a key that is not one of those two
   */
  clone(options: Pick<ClientOptions<Q, A>, 'concurrency' | 'timeout'> = {}): RequestClient<Q, A> {
    checkKnown(options, { concurrency: true, timeout: true }, 'clone: options'); // a misspelt key is not "the default"
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

  /**
   * @internal The Observable `request` returns: `timeout` is the request's
   * own (undefined: the handle's), with `timeoutError` made at call time when finite.
   */
  ask(value: Q, timeout: number | undefined, signal: AbortSignal | undefined, timeoutError: TimeoutError | undefined): Observable<A> {
    const ownTimer = timeoutError !== undefined; // a finite timeout of its own
    return new Observable<A>((subscriber) => {
      const ended = this.closedWith ?? this.connection.endedWith;
      if (ended) return subscriber.error(ended);
      if (signal?.aborted) return subscriber.error(signal.reason);
      const id = this.connection.id();
      const now = this.running < (this.options.concurrency ?? Infinity);
      let request: RpcEnvelope;
      try {
        // Encoded straight into the wire when it takes the request at once; else its bytes are made now.
        request = now && this.connection.direct ? new ValueEnvelope(id, RpcKind.REQUEST, this.options.request, value) : withBody(id, RpcKind.REQUEST, bodyOf(this.options.request, value));
      } catch (err) {
        return subscriber.error(err);
      }
      const entry: Pending<A> = {
        owner: this as RequestClient<unknown, A>,
        id,
        request,
        subscriber,
        sent: false,
        unacked: 0,
        settled: false,
        deadline: 0,
        prev: undefined,
        next: undefined,
      };
      this.pending.add(entry);
      if (timeout === undefined) this.deadlines?.track(entry);

      // Timers and listeners of its own only when asked for: most requests have neither.
      if (ownTimer || signal) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const onAbort = (): void => void this.settle(entry, (s) => s.error(signal!.reason));
        if (ownTimer) {
          timer = setTimeout(() => this.settle(entry, (s) => s.error(timeoutError)), timeout);
        }
        signal?.addEventListener('abort', onAbort, { once: true });
        entry.cleanup = () => {
          if (timer !== undefined) clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        };
      }

      if (!now) this.queue.push(entry);
      else {
        try {
          this.start(entry);
        } catch (err) {
          entry.sent = false; // the value did not encode: nothing went out
          this.settle(entry);
          return subscriber.error(err);
        }
      }
      // Unsubscribing before the end cancels the request (CANCEL to the server).
      return () => this.settle(entry);
    });
  }

  /** The deadlines of `expired` passed: each fails with a TimeoutError made now. */
  private readonly expire = (expired: Pending<A>[]): void => {
    for (const entry of expired) {
      this.settle(entry, (s) => s.error(new TimeoutError(`no reply within ${this.options.timeout ?? DEFAULT_TIMEOUT} ms (the client's timeout)`)));
    }
  };

  /**
   * Sends REQUEST and routes the replies to `entry`.
   * @throws EncodeError of a ValueEnvelope's value (see `Connection.send`)
   */
  private start(entry: Pending<A>): void {
    this.running++;
    entry.sent = true;
    this.connection.route(entry);
    this.connection.send(entry.request, entry);
  }

  /** @internal The transport refused the REQUEST of `entry`: it fails with the transport's error. */
  refused(entry: Pending<A>, err: Error): void {
    if (this.settle(entry)) entry.subscriber.error(err);
  }

  /** @internal A reply envelope for `entry`, routed here by the connection. */
  receive(entry: Pending<A>, envelope: RpcEnvelope): void {
    switch (envelope.kind) {
      case RpcKind.NEXT: {
        let value: A;
        try {
          value = this.options.reply.decode(envelope.body);
        } catch (err) {
          return void this.settle(entry, (s) => s.error(err));
        }
        entry.subscriber.next(value);
        // The server may send STREAM_WINDOW NEXTs ahead: grant more as they arrive (serve-stream.ts),
        // unless the subscriber has left (its teardown, CANCEL, may not have run yet: mid-subscribe).
        if (++entry.unacked >= CREDIT_BATCH && !entry.settled && !entry.subscriber.closed) {
          this.connection.send(credit(entry.id, entry.unacked));
          entry.unacked = 0;
        }
        return;
      }
      case RpcKind.REPLY: {
        entry.sent = false; // the server is done with it
        let value: A;
        try {
          value = this.options.reply.decode(envelope.body);
        } catch (err) {
          return void this.settle(entry, (s) => s.error(err));
        }
        if (!this.settle(entry)) return;
        entry.subscriber.next(value);
        return entry.subscriber.complete();
      }
      case RpcKind.COMPLETE:
        entry.sent = false; // the server is done with it: no CANCEL owed
        return void this.settle(entry, (s) => s.complete());
      case RpcKind.ERROR: {
        entry.sent = false;
        const data = envelope.error ?? { name: 'Error', message: 'the server failed without saying why', code: null, stack: null };
        return void this.settle(entry, (s) => s.error(new RemoteError(data)));
      }
    }
  }

  /**
   * Ends `entry` exactly once: drops it from every map, clears its timer (the deadline list unrefs
   * its own when empty), owes the server a CANCEL if it was still working on it, frees its slot,
   * and only then tells the subscriber (`end`, absent on unsubscribe). True when it ended `entry`
   * now (a caller without `end` then tells the subscriber: no closure a reply).
   */
  private settle(entry: Pending<A>, end?: (subscriber: Subscriber<A>) => void): boolean {
    if (entry.settled) return false;
    entry.settled = true;
    this.pending.delete(entry.id);
    this.deadlines?.remove(entry);
    entry.cleanup?.();
    if (this.connection.unroute(entry)) {
      this.running--;
      if (entry.sent) this.connection.send(control(entry.id, RpcKind.CANCEL));
      this.pump();
    } else if (++this.stale > 16 && this.stale * 2 > this.queue.length) {
      // It waited for a slot: behind a slot held long, the requests that time out meanwhile would stay queued.
      this.queue.retain((waiting) => !waiting.settled);
      this.stale = 0;
    }
    end?.(entry.subscriber);
    return true;
  }

  /** Starts waiting requests while slots are free; not re-entered (a synchronous reply's slot serves this loop). */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      const bound = this.options.concurrency ?? Infinity;
      while (this.running < bound && this.queue.length > 0) {
        const next = this.queue.shift()!;
        if (next.settled) this.stale = Math.max(0, this.stale - 1);
        else if (!this.closedWith && !this.connection.endedWith) this.start(next);
      }
    } finally {
      this.pumping = false;
    }
  }

  private fail(err: Error): void {
    this.closedWith ??= err;
    for (const entry of this.pending.values().sort(byId)) this.settle(entry, (s) => s.error(err));
    this.queue.drain();
    this.stale = 0;
    this.deadlines?.close(); // the handle takes no more requests: its timer goes for good
  }
}

/**
 * A request/reply client over `wire` (opened with `rpcCodec()`), whose other
 * end runs `serve`.
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
 * @throws TypeError when `wire` is not an Observable and Observer, or `options.request` or `options.reply` is not a codec,
 *   or the wire has a client already (two would number their requests alike and take each other's replies: `clone` it)
 * @throws RangeError when `options.concurrency` is not a positive integer or `Infinity`,
 *   or `options.timeout` is not a number of milliseconds from 0 to 2_147_483_647 or `Infinity`
 */
export function client<Q, A>(wire: RpcWire, options: ClientOptions<Q, A>): RequestClient<Q, A> {
  if (!isWire(wire)) throw new TypeError('client: wire must be an Observable and an Observer of envelopes (open(end, rpcCodec()))');
  checkCodecs('client', options);
  checkConcurrency(options.concurrency ?? Infinity);
  checkTimeout(options.timeout ?? DEFAULT_TIMEOUT);
  if (CLIENT_WIRES.has(wire)) throw new TypeError('client: this wire has a client already: use its clone() for another handle');
  CLIENT_WIRES.add(wire);
  return new RequestClient(new Connection(wire, schemas(options.request, options.reply)), options);
}
const CLIENT_WIRES = new WeakSet<object>(); // the wires client() has made a connection on

