/**
 * The client side's one connection per wire: what every handle of one
 * client shares. It subscribes to the wire once, chooses the ids, keeps the
 * requests in flight in one map by id and routes each reply envelope to the
 * handle that asked; when the wire ends, it tells every handle, which fails
 * its own pending requests.
 */
import type { Observable, Observer, Subscription } from 'rxjs';
import { EncodeError, TransportClosedError, WorkerError } from '../core/errors';
import { WireSubject } from '../core/wire-subject';
import { ValueEnvelope } from './rpc-envelope-codec';
import type { RpcEnvelope } from './request-internals';
import { IdTable } from './id-table';

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

/** A request in flight, as the connection sees it: which handle to route its replies to. */
export interface Routed {
  readonly id: number;
  /** The handle that made it: its replies go to `owner.receive(this, envelope)`. */
  readonly owner: {
    receive(entry: Routed, envelope: RpcEnvelope): void;
    /** The transport refused the REQUEST of `entry` (see `Connection.send`). */
    refused(entry: Routed, err: Error): void;
  };
}

export class Connection {
  private nextId = 1;
  private handles = 0;
  private ended: Error | undefined;
  private readonly subscription: Subscription;
  /** Every request in flight on this wire, whichever handle made it. */
  private readonly inFlight = new IdTable<Routed>();
  /** Called with the error when the wire ends: each handle fails its own pending. */
  private readonly onEnd = new Set<(err: Error) => void>();

  /** The wire is a WireSubject: it encodes a value when it takes it, so a REQUEST may go as a ValueEnvelope. */
  readonly direct: boolean;

  /**
   * @param wire the envelopes both ways
   * @param schema the client's SCHEMA envelope (its codecs' fingerprints), sent before the first request
   */
  constructor(
    private readonly wire: RpcWire,
    private schema?: RpcEnvelope,
  ) {
    this.direct = wire instanceof WireSubject;
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

  /** A new id: unique on this wire (they count up from 1 and are never reused). */
  id(): number {
    return this.nextId++;
  }

  /** Routes the replies to `entry.id` to `entry.owner` from now on. */
  route(entry: Routed): void {
    this.inFlight.add(entry);
  }

  /** Routes nothing more to `entry.id`; false when it was not routed. */
  unroute(entry: Routed): boolean {
    return this.inFlight.delete(entry.id);
  }

  /**
   * Sends `envelope`; with `entry`, its owner hears why if the transport
   * refuses it (when the wire can say), through `owner.refused`: no callback
   * is made per request.
   * @throws EncodeError of a ValueEnvelope's value, before anything went out
   */
  send(envelope: RpcEnvelope, entry?: Routed): void {
    if (this.ended) return;
    const { wire } = this;
    if (this.schema) {
      const schema = this.schema;
      this.schema = undefined;
      if (wire.send) this.control(schema);
      else wire.next(schema);
    }
    if (!wire.send) return wire.next(envelope);
    if (!entry) return this.control(envelope);
    if (wire.trySend) {
      try {
        if (wire.trySend(envelope)) return;
      } catch (err) {
        // A ValueEnvelope whose value does not encode: the caller's error, now (nothing went out).
        if (envelope instanceof ValueEnvelope && envelope.unmade && err instanceof EncodeError) throw err;
        // Told later, as a rejected send would be: the caller is mid-start.
        queueMicrotask(() => entry.owner.refused(entry, err as Error));
        return;
      }
    }
    void envelope.body; // it waits: its bytes are made now (of the value as it is now), or its EncodeError thrown
    wire.send(envelope).catch((err: Error) => entry.owner.refused(entry, err));
  }

  /**
   * CANCEL and CREDIT, through `send` rather than `next`: a WireSubject pauses
   * reading while values from `next` wait for room (`pauseReadsWhileQueued`),
   * and a client that stopped reading replies while the server, whose replies
   * waited, had stopped reading requests, waited with it for good (a helper's
   * probe: cancels and timeouts with the ring to the server full froze the
   * wire). A wire that ended refuses it: that end is reported by the wire.
   */
  private control(envelope: RpcEnvelope): void {
    const { wire } = this;
    try {
      if (wire.trySend?.(envelope)) return;
    } catch {
      return;
    }
    wire.send!(envelope).catch(() => {});
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
    try {
      this.wire.complete();
    } catch {
      // a WireSubject the user unsubscribed (closed) throws ObjectUnsubscribedError: it is over already
    }
    this.subscription.unsubscribe();
  }

  private end(err: Error): void {
    if (this.ended) return;
    this.ended = err;
    for (const fail of [...this.onEnd]) fail(err);
  }
}

/** The error pending requests fail with when the wire errors. */
function wireFailure(err: unknown): Error {
  if (err instanceof WorkerError || err instanceof TransportClosedError) return err;
  return new TransportClosedError(`the wire failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/** Can `x` be a client's wire: subscribed to, and sent envelopes with `next` and `complete`? */
export function isWire(x: unknown): x is RpcWire {
  const wire = x as Partial<RpcWire> | null | undefined;
  return (
    typeof wire === 'object' &&
    wire !== null &&
    typeof wire.subscribe === 'function' &&
    typeof wire.next === 'function' &&
    typeof wire.complete === 'function'
  );
}
