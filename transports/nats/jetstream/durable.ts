/**
 * `durable()`: a JetStream stream as an RxJS Subject — `next` / `send`
 * persist values, subscribers read them through a (durable) pull consumer.
 */
import { jetstream, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { Observable, type Observer, type Subscriber, type TeardownLogic } from 'rxjs';
import type { Codec, EncodeInput } from '../../../core/codec';
import { TransportClosedError, type RxwireError } from '../../../core/errors';
import { resolveOptions, type DurableOptions, type JetStreamConnection, type ResolvedOptions } from './options';
import { DurablePublisher, type DurableAck, type PublisherStats } from './publisher';
import { Reader, type DurableMessage, type ReaderStats } from './reader';
import { ensureStream, manager } from './setup';

/** The counters of both sides. */
export interface DurableStats extends PublisherStats, ReaderStats {}

interface Target<T> {
  subscriber: Subscriber<T> | Subscriber<DurableMessage<T>>;
  messages: boolean;
}

/**
 * A JetStream stream as an RxJS Subject. Made by {@link durable}.
 *
 * Publishing (the Observer side): `send` resolves with the stream's ack,
 * `trySend` is false while `window` publishes await theirs, `next` queues
 * up to `maxQueue`. Every value is published with a message id, so one that
 * is retried (the server restarting) is stored once.
 *
 * Reading (the Observable side): the first subscriber starts reading
 * through the consumer; every value goes to the subscribers present, and is
 * acknowledged once each of their `next` calls has returned — synchronous
 * work done in `next` is done before the ack; work a subscriber defers
 * (`concatMap` to a Promise, a buffer) is not waited for. When the last
 * subscriber leaves, reading stops: values the client held undelivered are
 * `nak`ed, the durable consumer stays on the server and a later subscriber
 * (here or in another process) resumes after the last acknowledged value.
 */
export class DurableSubject<T, In = never> extends Observable<T> implements Observer<EncodeInput<T, In>> {
  /** The same values with their stream sequence, time and redelivery flag; shares the reader with the plain subscribers. */
  readonly messages$: Observable<DurableMessage<T>>;
  private readonly o: ResolvedOptions;
  private readonly js: JetStreamClient;
  private readonly publisher: DurablePublisher<T, In>;
  private readonly targets = new Set<Target<T>>();
  private reader: Reader<T> | undefined;
  private stopping: Promise<void> = Promise.resolve();
  private jsm: Promise<JetStreamManager> | undefined;
  private closed: RxwireError | undefined;
  private closing: Promise<void> | undefined;
  private readonly past = { received: 0, skipped: 0 }; // the counts of readers that have stopped

  constructor(
    private readonly conn: JetStreamConnection,
    stream: string,
    private readonly codec: Codec<T, In>,
    options: DurableOptions = {},
  ) {
    super();
    this.o = resolveOptions(conn, stream, options);
    this.js = jetstream(conn.nc);
    this.publisher = new DurablePublisher(conn.nc, this.js, codec, this.o, (err) => this.fail(err), () => this.ready().then(() => undefined));
    this.messages$ = new Observable<DurableMessage<T>>((subscriber) => this.attach({ subscriber, messages: true }));
  }

  /** The stream's name. */
  get stream(): string {
    return this.o.stream;
  }

  /** The subject values are published on. */
  get subject(): string {
    return this.o.subject;
  }

  /** Publishes `value`, resolving with the stream's ack once it is stored. Rejects with EncodeError (nothing sent), TimeoutError, TransportClosedError or RemoteError. */
  send(value: EncodeInput<T, In>): Promise<DurableAck> {
    return this.publisher.send(value);
  }

  /** Publishes `value` if fewer than `window` publishes await their ack; false (nothing taken) otherwise. Throws the typed error when publishing has ended. */
  trySend(value: EncodeInput<T, In>): boolean {
    return this.publisher.trySend(value);
  }

  /**
   * Observer: publishes `value` (queued while the window is full). Never
   * throws: an EncodeError or QueueFullError ends publishing (later values
   * are refused, those already taken are still published) and errors this
   * subject's subscribers, as on a WireSubject.
   */
  next(value: EncodeInput<T, In>): void {
    this.publisher.next(value);
  }

  /**
   * Observer: this producer is done. A JetStream stream has no end, so
   * nothing is written and readers are not told: what was taken is still
   * published (await {@link close} to know it is stored), later values are
   * dropped.
   */
  complete(): void {
    void this.publisher.end();
  }

  /** Observer: the same as {@link complete} — the error is not written to the stream (it has no place for one). */
  error(_err: unknown): void {
    void this.publisher.end();
  }

  /** The counters of both sides. */
  stats(): DurableStats {
    const now = this.reader?.stats() ?? { received: 0, skipped: 0, buffered: 0 };
    return { ...this.publisher.stats(), received: this.past.received + now.received, skipped: this.past.skipped + now.skipped, buffered: now.buffered };
  }

  /**
   * Ends both sides: waits for every value taken to be acknowledged by the
   * stream (up to `publishTimeout`), stops reading (subscribers get
   * TransportClosedError) and resolves when nothing of this subject is left
   * running. The connection stays open; the stream and a durable consumer
   * stay on the server.
   */
  close(): Promise<void> {
    this.closing ??= this.shut();
    return this.closing;
  }

  private async shut(): Promise<void> {
    await this.publisher.end();
    this.publisher.close();
    this.fail(new TransportClosedError(`durable ${this.o.stream}: closed`));
    await this.stopping;
  }

  protected _subscribe(subscriber: Subscriber<T>): TeardownLogic {
    return this.attach({ subscriber, messages: false });
  }

  private attach(target: Target<T>): TeardownLogic {
    if (this.closed) {
      target.subscriber.error(this.closed);
      return undefined;
    }
    this.targets.add(target);
    if (!this.reader) this.start();
    return () => {
      if (this.targets.delete(target) && this.targets.size === 0) this.stop();
    };
  }

  private start(): void {
    const previous = this.stopping; // a reader still leaving goes first (its nak'ed values come back to this one)
    const reader: Reader<T> = new Reader<T>(
      {
        nc: this.conn.nc,
        js: this.js,
        codec: this.codec as Codec<T, unknown>,
        o: this.o,
        ready: () => previous.then(() => this.ready()),
      },
      {
        deliver: (m, value) => this.deliver(m, value),
        error: (err) => {
          if (this.reader !== reader) return;
          this.stop(); // ends that reader (its naks reach the server before a new one starts)
          this.errorAll(err);
        },
      },
    );
    this.reader = reader;
  }

  private stop(): void {
    const reader = this.reader;
    this.reader = undefined;
    if (!reader) return;
    this.stopping = Promise.all([this.stopping, reader.stop()]).then(() => undefined);
    const { received, skipped } = reader.stats(); // final: a stopped reader delivers nothing more
    this.past.received += received;
    this.past.skipped += skipped;
  }

  private deliver(m: JsMsg, value: T): void {
    let message: DurableMessage<T> | undefined;
    for (const t of [...this.targets]) {
      if (!t.messages) {
        (t.subscriber as Subscriber<T>).next(value);
        continue;
      }
      const { info } = m;
      message ??= { value, seq: m.seq, time: new Date(Math.floor(info.timestampNanos / 1e6)), redelivered: info.redelivered, deliveryCount: info.deliveryCount };
      (t.subscriber as Subscriber<DurableMessage<T>>).next(message);
    }
  }

  /** The stream exists (created once, on first use by either side; tried again at the next use after a failure). */
  private ready(): Promise<JetStreamManager> {
    if (this.jsm) return this.jsm;
    const jsm = manager(this.conn.nc).then(async (m) => {
      await ensureStream(m, this.o);
      return m;
    });
    this.jsm = jsm;
    jsm.catch(() => {
      if (this.jsm === jsm) this.jsm = undefined;
    });
    return jsm;
  }

  private errorAll(err: RxwireError): void {
    const targets = [...this.targets];
    this.targets.clear();
    for (const t of targets) t.subscriber.error(err);
  }

  /** Publishing failed for good, or close(): the subscribers present get the error, reading stops. */
  private fail(err: RxwireError): void {
    if (err instanceof TransportClosedError) this.closed ??= err;
    this.stop();
    this.errorAll(err);
  }
}

/**
 * A JetStream stream as an RxJS Subject: values published with `next` /
 * `send` are stored in stream `stream` (created when missing) and
 * subscribers read them through a pull consumer — the durable consumer
 * `options.durable`, which remembers what was acknowledged across restarts,
 * or an ephemeral one per subscription. See docs/PROTOCOL.md, "JetStream".
 * (Issue 12 sketches it as `jetstream.open(stream, codec, { durable })`; it
 * is a free function taking the connection, as `serve` and `client` are.)
 *
 * ## Example
 * ```ts
 * import { codec } from 'rxwire';
 * import { connect, durable } from 'rxwire/nats';
 * const conn = await connect({ servers: 'nats://127.0.0.1:4222' });
 * const orders = durable(conn, 'orders', codec('string'), { durable: 'billing' });
 * await orders.send('order 1');               // resolves once stored
 * orders.subscribe((o) => bill(o));           // acked once bill() returned
 * ```
 *
 * @param conn an rxwire NATS connection, or `{ nc }` around a NatsConnection
 * @param stream the JetStream stream's name (letters, digits, `-`, `_`)
 * @param codec the values' codec
 * @param options see {@link DurableOptions}
 * @returns a {@link DurableSubject}
 */
export function durable<T, In = never>(conn: JetStreamConnection, stream: string, codec: Codec<T, In>, options: DurableOptions = {}): DurableSubject<T, In> {
  return new DurableSubject(conn, stream, codec, options);
}
