/**
 * The reading side of `durable()`: one pull consumer read with the client's
 * `consume()`, each value decoded, handed to the subscribers present, and
 * acknowledged right after that hand-over returned.
 *
 * - Acknowledgement: `ack()` after every present subscriber's `next`
 *   returned. A value still held by the client when reading stops is
 *   `nak()`ed, so the next reader gets it at once.
 * - Backpressure: one pull request at a time, for `batch` values; the next
 *   is sent once these are delivered (and the server never has more than
 *   `maxAckPending` values out unacknowledged).
 * - A value that does not decode: `term()` (JetStream will not hand it out
 *   again; it stays in the stream at its sequence), then the reader ends
 *   with DecodeError naming the sequence. A value written under another
 *   schema (its Rxwire-Schema tag) is not bad data but a reader with the
 *   wrong codec: `nak()` (it stays the consumer's next value, for a reader
 *   with the writer's schema), then the reader ends with
 *   SchemaMismatchError. It was terminated until 3 December 2026: a
 *   reader deployed with a newer codec destroyed the consumer's values.
 * - A value this reader already took, handed out again (its ack was lost
 *   with a server that went down, or that server lost the consumer's last
 *   state and delivers it as new), is acknowledged and not delivered again.
 * - Delivery yields to the event loop every 5 ms (the rest of the pull
 *   waits, in order).
 */
import { JetStreamApiError, type FetchMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Codec } from '../../../core/codec';
import { DecodeError, RemoteError, SchemaMismatchError, TransportClosedError, type RxwireError } from '../../../core/errors';
import { Fifo } from '../../../core/fifo';
import type { ResolvedOptions } from './options';
import { SCHEMA_HEADER, schemaTag } from './publisher';
import { CONSUMER_NOT_FOUND, ensureConsumer, STREAM_NOT_FOUND, typed } from './setup';
import { TakenSeqs } from './taken';
import { flushed } from '../flush';

/** One value as it was stored, with its place in the stream. */
export interface DurableMessage<T> {
  value: T;
  /** Its stream sequence (1, 2, …): give it back as `resumeAfter` or `deliver: { seq }`. */
  seq: number;
  /** When the stream stored it. */
  time: Date;
  /** True when JetStream handed it out before (to a reader that did not acknowledge it). */
  redelivered: boolean;
  /** How many times JetStream has handed it out, this time included. */
  deliveryCount: number;
}

/** What the reader needs from its owner. */
export interface ReaderContext<T> {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly codec: Codec<T, unknown>;
  readonly o: ResolvedOptions;
  /** The manager, once the stream exists. */
  ready(): Promise<JetStreamManager>;
}

/** Where a reader delivers. */
export interface ReaderSink<T> {
  /** One value; the reader acknowledges it when this returns. */
  deliver(m: JsMsg, value: T): void;
  /** The reader ended on its own (never called after `stop()`). */
  error(err: RxwireError): void;
}

/** The reader's counters. */
export interface ReaderStats {
  /** Values delivered and acknowledged. */
  received: number;
  /** Values acknowledged without delivery (below `resumeAfter`, or a redelivery of one already taken). */
  skipped: number;
  /** Values the client holds, not yet delivered. */
  buffered: number;
}

const SLICE_MS = 5;
/** How long one pull request waits on the server for values (the client's minimum): a reader stopping on an idle stream finishes within it. */
const PULL_EXPIRES_MS = 1000;

/**
 * Whether the consumer (or its stream) no longer exists: asked after a pull
 * failed, since a pull to a deleted consumer only misses its heartbeats. A
 * server that does not answer (restarting) is not an answer.
 */
async function gone(jsm: JetStreamManager, stream: string, name: string): Promise<boolean> {
  try {
    await jsm.consumers.info(stream, name);
    return false;
  } catch (err) {
    return err instanceof JetStreamApiError && (err.code === CONSUMER_NOT_FOUND || err.code === STREAM_NOT_FOUND);
  }
}

/** A running reader: `stop()` ends it (held values are nak'ed; an ephemeral consumer is deleted). */
export class Reader<T> {
  private stopped = false;
  private readonly queue = new Fifo<JsMsg>(); // arrived, not yet delivered (at most one pull's worth)
  private readonly held: JsMsg[] = []; // arrived after stop(), never to be delivered: nak'ed once our pull is over
  private readonly taken = new TakenSeqs();
  private readonly counts = { received: 0, skipped: 0 };
  private readonly finished: Promise<void>;
  private wait: { timer: NodeJS.Timeout; resolve(): void } | undefined;
  private draining = false;
  private immediate: NodeJS.Immediate | undefined;
  private emptied: (() => void) | undefined;
  private readonly drainLater = () => this.drain();
  private readonly tag: string;

  constructor(
    private readonly ctx: ReaderContext<T>,
    private readonly sink: ReaderSink<T>,
  ) {
    this.tag = schemaTag(ctx.codec);
    this.finished = this.run().catch((err: unknown) => this.end(typed(err, ctx.nc, `durable ${ctx.o.stream}: reading`)));
  }

  stats(): ReaderStats {
    return { ...this.counts, buffered: this.queue.length };
  }

  /**
   * Stops delivering at once; resolves when the consumer is left: the pull
   * request under way answered (it ends within PULL_EXPIRES_MS), the values
   * it brought undelivered nak'ed (so the next reader gets them again — the
   * server redelivers them, not necessarily before newer values), and those
   * acks and naks reached the server.
   */
  stop(): Promise<void> {
    this.halt();
    return this.finished;
  }

  private halt(): void {
    this.stopped = true;
    if (this.immediate) clearImmediate(this.immediate);
    this.held.push(...this.queue.drain());
    this.emptied?.();
    if (this.wait) {
      clearTimeout(this.wait.timer);
      this.wait.resolve();
    }
  }

  private async run(): Promise<void> {
    const { nc, js, o } = this.ctx;
    const jsm = await this.ctx.ready();
    if (this.stopped) return;
    const name = await ensureConsumer(jsm, o);
    try {
      const consumer = await js.consumers.get(o.stream, name);
      // The client's fetch takes a callback as consume does (its FetchMessages type leaves it out).
      const pull = { max_messages: o.batch, expires: PULL_EXPIRES_MS, callback: (m: JsMsg) => this.arrive(m) } as FetchMessages;
      let failures = 0; // in a row
      while (!this.stopped && !nc.isClosed()) {
        try {
          // One pull at a time, never cancelled: whatever it brings reaches us (and is nak'ed if we stopped).
          const ended = await (await consumer.fetch(pull)).closed();
          if (ended instanceof Error) throw ended;
          await this.delivered(); // the next pull once this one's values are taken
          failures = 0;
        } catch (err) {
          if (nc.isClosed()) break;
          failures++;
          if (await gone(jsm, o.stream, name)) throw new RemoteError({ name: 'JetStreamConsumerGone', message: `durable ${o.stream}: consumer ${name} is gone (${(err as Error).message})`, code: null, stack: null });
          await this.pause(Math.min(2000, 50 * 2 ** failures)); // the server may be restarting: pull again
        }
      }
      if (!this.stopped) this.end(new TransportClosedError(`durable ${o.stream}: the NATS connection closed`));
      for (const m of this.held.splice(0)) m.nak(); // not taken: the next reader gets it now, not after ackWait
      await flushed(nc); // our acks and naks reach the server before stop() resolves
    } finally {
      // An ephemeral consumer goes with its reader (the server would also drop it after inactive_threshold).
      if (o.durable === undefined && !nc.isClosed()) await jsm.consumers.delete(o.stream, name).catch((err: unknown) => this.end(typed(err, nc, `durable ${o.stream}: deleting consumer ${name}`)));
    }
  }

  private arrive(m: JsMsg): void {
    if (this.stopped) {
      this.held.push(m);
      return;
    }
    this.queue.push(m);
    if (!this.draining) this.drain();
  }

  /** Delivers what waits, in order, for up to SLICE_MS; the rest after a turn of the event loop. */
  private drain(): void {
    this.immediate = undefined;
    this.draining = true;
    const start = Date.now();
    while (!this.stopped && this.queue.length > 0) {
      this.take(this.queue.shift()!);
      if (this.queue.length > 0 && Date.now() - start >= SLICE_MS) {
        this.immediate = setImmediate(this.drainLater);
        return; // still draining: arrivals queue meanwhile
      }
    }
    this.draining = false;
    this.emptied?.();
  }

  /** Resolves once the queue is empty (or reading stopped). */
  private delivered(): Promise<void> {
    if (this.queue.length === 0 || this.stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.emptied = () => {
        this.emptied = undefined;
        resolve();
      };
    });
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.wait = undefined;
        resolve();
      }, ms);
      this.wait = { timer, resolve };
    });
  }

  private take(m: JsMsg): void {
    const { codec, o } = this.ctx;
    if (m.seq <= o.resumeAfter || this.taken.has(m.seq)) {
      m.ack();
      this.counts.skipped++;
      return;
    }
    const written = m.headers?.get(SCHEMA_HEADER);
    if (written && written !== this.tag) {
      m.nak(); // left for a reader with the writer's schema (and the rest of this pull with it: end() stops, stop() naks what is held)
      return this.end(new SchemaMismatchError('(root)', `stream ${o.stream} seq ${m.seq} was written with schema ${written}, this reader's is ${this.tag} (Rxwire-Schema); the value stays the consumer's next`));
    }
    let value: T;
    try {
      value = codec.decode(m.data);
    } catch (err) {
      m.term(); // no reason text: nats-server 2.9 reads only a bare +TERM
      return this.end(new DecodeError(`stream ${o.stream} seq ${m.seq} (${m.data.length} bytes) does not decode: ${(err as Error).message}`, { cause: err }));
    }
    this.sink.deliver(m, value);
    m.ack(); // taken: every present subscriber's next has returned
    this.taken.add(m.seq);
    this.counts.received++;
  }

  private end(err: RxwireError): void {
    if (this.stopped) return;
    this.halt();
    this.sink.error(err);
  }
}
