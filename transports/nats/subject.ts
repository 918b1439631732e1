/**
 * Publish/subscribe on a NATS subject, as RxJS: `subject(conn, name, codec)`
 * is an Observable of what anyone publishes on `name` and an Observer that
 * publishes. Fan-out by default (every subscriber, on every connection,
 * gets every message); `{ queue }` joins a queue group instead, so each
 * message reaches one member of the group.
 *
 * The bytes on the wire are the codec's bytes and nothing else (no header,
 * no envelope), so a plain NATS client in any language publishes to an
 * rxwire subscriber, or subscribes to an rxwire publisher, with the Avro
 * bytes alone (docs/PROTOCOL.md, "NATS services and subjects").
 */
import { Observable, type Observer, type Subscriber } from 'rxjs';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Codec, EncodeInput } from '../../core/codec-types';
import { DecodeError, FrameError, TransportClosedError } from '../../core/errors';
import { checkKnown } from '../../core/options';

/**
 * What the NATS functions of rxwire take: a NATS connection, and the prefix
 * rxwire puts before the subjects it names itself. `connect()` of
 * rxwire/nats returns one; `{ nc }` around a connection you made yourself
 * does too.
 */
export interface NatsHandle {
  /** The underlying connection of `@nats-io/transport-node`. */
  readonly nc: NatsConnection;
  /** Put before every subject rxwire names itself (services: `<prefix>svc.<name>`); default `rxwire.`. */
  readonly prefix?: string;
}

/** The default of `NatsHandle.prefix`. */
export const DEFAULT_PREFIX = 'rxwire.';

/** The prefix of `conn`: its own, else `rxwire.`. */
export function prefixOf(conn: NatsHandle): string {
  return conn.prefix ?? DEFAULT_PREFIX;
}

/** Options of {@link subject}. */
export interface SubjectOptions {
  /**
   * A queue group to subscribe in: of all the subscriptions of one group on
   * the subject (on any connection), each message reaches one, picked by
   * the server. Default: none (every subscription gets every message).
   * Publishing is the same either way.
   */
  queue?: string;
}

/**
 * A NATS subject as an RxJS Subject: subscribe to receive, `next` to publish.
 * Hot: a subscriber receives what is published while it is subscribed,
 * never what came before (use a JetStream stream for replay).
 */
export class NatsSubject<T, In = never> extends Observable<T> implements Observer<EncodeInput<T, In>> {
  private closedWith: Error | undefined;
  /** How this handle ended (`complete()` or `error()`): a later subscriber ends the same way at once. */
  private ending: ((s: Subscriber<T>) => void) | undefined;
  /** This handle's live subscribers and their NATS subscriptions. */
  private readonly live = new Map<Subscriber<T>, Subscription>();

  /** @internal Use {@link subject}. */
  constructor(
    private readonly conn: NatsHandle,
    /** The NATS subject. */
    readonly name: string,
    private readonly codec: Codec<T, In>,
    private readonly queue: string | undefined,
  ) {
    super((subscriber) => this.attach(subscriber));
  }

  /**
   * Publishes `value` on the subject, encoded with the codec: one NATS
   * message whose payload is the Avro bytes. Like any NATS publish it is
   * buffered by the client and sent soon after; `flush()` waits until the
   * server has it. Nobody listening is not an error (pub/sub).
   *
   * @throws EncodeError when `value` does not fit the codec (nothing is sent)
   * @throws FrameError when its bytes exceed the server's max_payload (nothing is sent; the handle goes on)
   * @throws TransportClosedError after `complete()` or `error()` on this handle, or when the connection is closed
   * @throws TypeError when the subject has wildcards (`*`, `>`): one can subscribe to it, not publish
   */
  next(value: EncodeInput<T, In>): void {
    if (this.closedWith) throw new TransportClosedError(`subject ${this.name}: this handle was completed; nothing more is published`, { cause: this.closedWith });
    if (hasWildcard(this.name)) throw new TypeError(`subject ${this.name}: a subject with wildcards cannot be published to`);
    const bytes = this.codec.encode(value);
    const max = this.conn.nc.info?.max_payload;
    if (max !== undefined && bytes.length > max) throw new FrameError(`subject ${this.name}: a value of ${bytes.length} bytes exceeds the server's max_payload of ${max} bytes; nothing was sent`);
    try {
      this.conn.nc.publish(this.name, bytes);
    } catch (err) {
      throw new TransportClosedError(`subject ${this.name}: the NATS connection refused the publish: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Ends this handle, not the subject: pub/sub has no end-of-stream on the
   * wire, so nothing is sent and other publishers and subscribers go on.
   * This handle's own subscribers complete (their NATS subscriptions are
   * unsubscribed), so does any later one at once, and `next` throws from
   * now on. `source$.subscribe(subj)`
   * therefore completes the handle's local subscribers when `source$` ends.
   */
  complete(): void {
    this.end(new TransportClosedError(`subject ${this.name}: completed`), (s) => s.complete());
  }

  /**
   * Like `complete()`, but this handle's subscribers (and any later one)
   * error with `err`. Nothing is sent on the wire.
   */
  error(err: unknown): void {
    this.end(err instanceof Error ? err : new Error(String(err)), (s) => s.error(err));
  }

  /** Resolves once the server has everything published and every subscription made before the call. */
  flush(): Promise<void> {
    return this.conn.nc.flush();
  }

  private attach(subscriber: Subscriber<T>): (() => void) | void {
    if (this.ending) return this.ending(subscriber);
    let sub: Subscription;
    try {
      sub = this.conn.nc.subscribe(this.name, {
        queue: this.queue,
        callback: (err, msg) => {
          if (subscriber.closed) return;
          if (err) return this.drop(subscriber, new TransportClosedError(`subject ${this.name}: the subscription failed: ${err.message}`, { cause: err }));
          let value: T;
          try {
            value = this.codec.decode(msg.data);
          } catch (cause) {
            return this.drop(subscriber, cause instanceof DecodeError ? cause : new DecodeError(`subject ${this.name}: ${(cause as Error).message}`, { cause }));
          }
          subscriber.next(value);
        },
      });
    } catch (err) {
      return subscriber.error(new TransportClosedError(`subject ${this.name}: cannot subscribe: ${(err as Error).message}`, { cause: err }));
    }
    this.live.set(subscriber, sub);
    // The subscription ends without us: the connection closed (or a permission error).
    void sub.closed.then((reason) => {
      if (subscriber.closed || !this.live.has(subscriber)) return;
      this.live.delete(subscriber);
      subscriber.error(
        reason instanceof Error
          ? new TransportClosedError(`subject ${this.name}: the subscription ended: ${reason.message}`, { cause: reason })
          : new TransportClosedError(`subject ${this.name}: the NATS connection closed`),
      );
    });
    return () => {
      if (this.live.delete(subscriber)) unsubscribe(sub);
    };
  }

  /** Ends one subscriber with `err` (its NATS subscription goes first). */
  private drop(subscriber: Subscriber<T>, err: Error): void {
    const sub = this.live.get(subscriber);
    this.live.delete(subscriber);
    if (sub) unsubscribe(sub);
    subscriber.error(err);
  }

  private end(reason: Error, tell: (s: Subscriber<T>) => void): void {
    if (this.closedWith) return;
    this.closedWith = reason;
    this.ending = tell;
    const subscribers = [...this.live];
    this.live.clear();
    for (const [subscriber, sub] of subscribers) {
      unsubscribe(sub);
      tell(subscriber);
    }
  }
}

/** Unsubscribes unless the connection is already closed (then the subscription is gone anyway). */
function unsubscribe(sub: Subscription): void {
  if (!sub.isClosed()) sub.unsubscribe();
}

function hasWildcard(name: string): boolean {
  return name.split('.').some((token) => token === '*' || token === '>');
}

/**
 * A NATS subject as an RxJS Subject: publish/subscribe fan-out across
 * processes and machines, or load balancing with a queue group.
 *
 * ## Example
 * ```ts
 * import { codec } from 'rxwire';
 * import { connect, subject } from 'rxwire/nats';
 * const conn = await connect({ servers: 'nats://127.0.0.1:4222' });
 * const ticks = subject(conn, 'prices.ACME', codec('double'));
 * ticks.subscribe((p) => console.log(p));        // every tick, on every subscriber
 * ticks.next(101.5);                              // one NATS message: the Avro bytes
 * subject(conn, 'jobs', Job, { queue: 'workers' }).subscribe(run); // each job to one worker
 * ```
 *
 * `name` is used as it is (no prefix), so plain NATS clients share the
 * subject. Each subscription to the returned Subject is one NATS
 * subscription (in `queue` when given); unsubscribing unsubscribes it. A
 * subscription may use wildcards (`prices.*`, `prices.>`); publishing needs
 * a plain subject.
 *
 * Endings, as an RxJS user would expect from a hot source:
 * - a message that does not decode with `codec` errors that subscriber's
 *   stream with `DecodeError` (its NATS subscription ends; other
 *   subscribers are untouched). Nothing is skipped silently; to keep going,
 *   `retry()` resubscribes (messages published in between are not seen:
 *   pub/sub keeps nothing);
 * - the NATS connection closing errors every subscriber with
 *   `TransportClosedError`;
 * - `complete()` / `error(e)` end only this handle's own subscribers and
 *   stop it publishing: pub/sub has no end-of-stream on the wire, so no
 *   other subscriber hears of it.
 *
 * Delivery is NATS core's: at most once, in publish order per publisher,
 * with no backpressure. A subscriber that falls too far behind (the
 * server's slow-consumer limit) or a server restart loses messages without
 * any sign on the stream; for values that must all arrive use a channel
 * (`conn.open`, which detects gaps) or a JetStream stream.
 *
 * @param conn the NATS connection (`connect()` of rxwire/nats, or `{ nc }`)
 * @param name the NATS subject, used as is
 * @param codec the codec of the values
 * @param options `queue`, see {@link SubjectOptions}
 * @returns a hot Subject of the values published on `name`
 * @throws TypeError when `name` is not a NATS subject (empty, whitespace, an empty token), `options` is not an object or has a key other than `queue`, or `options.queue` is not a non-empty string without whitespace
 */
export function subject<T, In = never>(conn: NatsHandle, name: string, codec: Codec<T, In>, options: SubjectOptions = {}): NatsSubject<T, In> {
  checkSubject('subject', name);
  checkKnown(options, SUBJECT_OPTIONS, 'subject: options');
  const { queue } = options;
  if (queue !== undefined && (typeof queue !== 'string' || queue === '' || /\s/.test(queue))) {
    throw new TypeError('subject: options.queue must be a non-empty string without whitespace');
  }
  return new NatsSubject(conn, name, codec, queue);
}

/** The keys `subject` takes. */
const SUBJECT_OPTIONS: Record<keyof SubjectOptions, true> = { queue: true };

/**
 * Checks that `name` is a NATS subject: dot-separated non-empty tokens,
 * no whitespace.
 * @throws TypeError naming `api`
 */
export function checkSubject(api: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === '' || /\s/.test(name) || name.split('.').some((t) => t === '')) {
    throw new TypeError(`${api}: the name must be a NATS subject (dot-separated non-empty tokens, no whitespace), not ${JSON.stringify(name)}`);
  }
}
