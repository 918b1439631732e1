/**
 * The publishing side of `durable()`: each value is published to the
 * stream's subject with a message id (`Nats-Msg-Id: <producerId>-<n>`), at
 * most `window` publishes wait for their PubAck at once, and a publish that
 * fails while the server may come back is tried again with the same id (the
 * stream drops the copy it already has within its duplicate window).
 *
 * Order: ids are given in the order values are taken; publishes go out in
 * that order on one connection, and while one is being retried no new one
 * starts. A publish lost with a dying server while a later one was already
 * queued for the next connection can still land after it (the only case
 * where stream order differs from send order; nothing is lost or stored
 * twice).
 */
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import type { Codec, EncodeInput } from '../../../core/codec';
import { FrameError, QueueFullError, TimeoutError, TransportClosedError, type RxwireError } from '../../../core/errors';
import { Fifo } from '../../../core/fifo';
import type { ResolvedOptions } from './options';
import { retryable, typed } from './setup';

/** The stream's answer to one stored value. */
export interface DurableAck {
  /** The stream's name. */
  stream: string;
  /** The value's stream sequence. */
  seq: number;
  /** True when the stream already had this message id (a retry): stored once, at `seq`. */
  duplicate: boolean;
}

/** The header that carries the writer's schema tag (docs/PROTOCOL.md, "JetStream"). */
export const SCHEMA_HEADER = 'Rxwire-Schema';

/** A codec's schema tag: the first 16 hex digits (64 bits) of its fingerprint, enough to tell schemas apart. */
export function schemaTag(codec: Codec<unknown, unknown>): string {
  return codec.fingerprint.slice(0, 16);
}

interface Publish {
  bytes: Buffer;
  id: string;
  settle?: { resolve(ack: DurableAck): void; reject(err: unknown): void };
}

/** The publisher's counters. */
export interface PublisherStats {
  /** Values taken (by send, trySend or next). */
  sent: number;
  /** Values the stream acknowledged (duplicates included). */
  acked: number;
  /** Acknowledgements that said the stream already had the id. */
  duplicates: number;
  /** Publishes awaiting their PubAck. */
  inFlight: number;
  /** Values waiting for room in the window. */
  queued: number;
  /** Publishes tried again after a failure. */
  retries: number;
  /** Values `next` dropped after publishing ended. */
  dropped: number;
}

/** One producer on one stream. */
export class DurablePublisher<T, In = never> {
  private readonly queue = new Fifo<Publish>();
  private inFlight = 0;
  private retrying = 0;
  private seq: number;
  private done: 'open' | 'ending' | 'ended' = 'open';
  private failure: RxwireError | undefined; // publishing failed: nothing more is published
  private refused: RxwireError | undefined; // next() ended publishing: what was taken still is
  private ready: 'no' | 'waiting' | 'yes' = 'no';
  private readonly waits = new Map<NodeJS.Timeout, Publish>(); // publishes waiting to be tried again
  private readonly drained: (() => void)[] = [];
  private readonly tag: string;
  private readonly counts = { sent: 0, acked: 0, duplicates: 0, retries: 0, dropped: 0 };

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly codec: Codec<T, In>,
    private readonly o: ResolvedOptions,
    /** Called once when publishing fails for good (the error also rejects every waiting send). */
    private readonly onFailure: (err: RxwireError) => void,
    /** Resolves once the stream exists; publishing waits for it. */
    private readonly whenReady: () => Promise<void>,
  ) {
    this.seq = o.firstSequence;
    this.tag = schemaTag(codec as Codec<unknown, unknown>);
  }

  /** Publishes `value`; resolves with the stream's ack, rejects with a typed error (EncodeError: nothing sent). */
  send(value: EncodeInput<T, In>): Promise<DurableAck> {
    return new Promise<DurableAck>((resolve, reject) => {
      this.usable();
      this.take(this.fitting(this.codec.encode(value)), { resolve, reject });
    });
  }

  /** Publishes `value` when the window has room: false when full (nothing taken); throws a typed error. */
  trySend(value: EncodeInput<T, In>): boolean {
    this.usable();
    if (this.inFlight + this.queue.length >= this.o.window || this.retrying > 0) return false;
    this.take(this.fitting(this.codec.encode(value)));
    return true;
  }

  /**
   * Observer-style: queues up to `maxQueue`. An encode error or a full queue
   * ends publishing with that error (`onFailure`; later calls are refused
   * with it), but the values already taken are still published. Never throws.
   */
  next(value: EncodeInput<T, In>): void {
    if (this.failure || this.refused || this.done !== 'open') {
      this.counts.dropped++;
      return;
    }
    let bytes: Buffer;
    try {
      bytes = this.fitting(this.codec.encode(value));
    } catch (err) {
      this.refuse(err as RxwireError);
      return;
    }
    if (this.queue.length >= this.o.maxQueue) {
      this.refuse(new QueueFullError(`durable ${this.o.stream}: ${this.queue.length} values already wait for the window (maxQueue ${this.o.maxQueue})`));
      return;
    }
    this.take(bytes);
  }

  /** No more values: resolves once every value taken has its ack (or publishing failed). */
  end(): Promise<void> {
    if (this.done === 'open') this.done = 'ending';
    return new Promise<void>((resolve) => {
      this.drained.push(resolve);
      this.checkDrained();
    });
  }

  /** Stops at once: retries end, what waits rejects with TransportClosedError. */
  close(): void {
    this.done = 'ended';
    const err = this.failure ?? new TransportClosedError(`durable ${this.o.stream}: closed`);
    for (const [timer, p] of this.waits) {
      clearTimeout(timer);
      this.retrying--;
      this.inFlight--;
      p.settle?.reject(err);
    }
    this.waits.clear();
    this.fail(err);
  }

  stats(): PublisherStats {
    return { ...this.counts, inFlight: this.inFlight, queued: this.queue.length };
  }

  /**
   * `bytes`, if the server takes a message of them with its headers: one it refuses (over max_payload) is a
   * FrameError here, nothing taken — sent, the server's refusal failed the producer for good.
   */
  private fitting(bytes: Buffer): Buffer {
    const max = this.nc.info?.max_payload;
    // The headers: NATS/1.0, Nats-Msg-Id (producer id, a count), the schema tag, with room to spare.
    const room = max === undefined ? Infinity : max - (64 + this.o.producerId.length + 16 + this.tag.length);
    if (bytes.length > room) throw new FrameError(`durable ${this.o.stream}: a value of ${bytes.length} bytes exceeds what the server takes in a message with its headers (${room} bytes: max_payload ${max}); nothing was sent`);
    return bytes;
  }

  private usable(): void {
    if (this.failure) throw this.failure;
    if (this.refused) throw this.refused;
    if (this.done !== 'open') throw new TransportClosedError(`durable ${this.o.stream}: publishing has ended`);
  }

  private take(bytes: Buffer, settle?: Publish['settle']): void {
    this.counts.sent++;
    this.queue.push({ bytes, id: `${this.o.producerId}-${this.seq++}`, settle });
    if (this.ready === 'no') {
      this.ready = 'waiting'; // values queue until the stream exists
      this.whenReady().then(
        () => {
          this.ready = 'yes';
          this.pump();
        },
        (err: unknown) => this.unready(typed(err, this.nc, `durable ${this.o.stream}`)),
      );
    }
    this.pump();
  }

  private pump(): void {
    while (this.ready === 'yes' && !this.failure && this.retrying === 0 && this.inFlight < this.o.window && this.queue.length > 0) {
      const p = this.queue.shift()!;
      this.inFlight++;
      this.publish(p, Date.now() + this.o.publishTimeout, false);
    }
    this.checkDrained();
  }

  private publish(p: Publish, deadline: number, retry: boolean): void {
    const h = headers();
    h.set(SCHEMA_HEADER, this.tag);
    const timeout = Math.max(1, Math.min(5000, deadline - Date.now()));
    this.js.publish(this.o.subject, p.bytes, { msgID: p.id, headers: h, timeout }).then(
      (ack) => this.acked(p, ack, retry),
      (err: unknown) => this.failed(p, err, deadline, retry),
    );
  }

  private acked(p: Publish, ack: PubAck, retry: boolean): void {
    if (retry) this.retrying--;
    this.inFlight--;
    this.counts.acked++;
    if (ack.duplicate) this.counts.duplicates++;
    p.settle?.resolve({ stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate });
    this.pump();
  }

  private failed(p: Publish, err: unknown, deadline: number, retry: boolean): void {
    if (this.failure || this.done === 'ended') {
      if (retry) this.retrying--;
      this.inFlight--;
      p.settle?.reject(this.failure);
      this.checkDrained();
      return;
    }
    if (retryable(err, this.nc) && Date.now() < deadline) {
      if (!retry) this.retrying++;
      this.counts.retries++;
      const timer = setTimeout(() => {
        this.waits.delete(timer);
        if (this.failure) return this.failed(p, err, deadline, true);
        this.publish(p, deadline, true);
      }, 250);
      this.waits.set(timer, p);
      return;
    }
    if (retry) this.retrying--;
    this.inFlight--;
    const e = retryable(err, this.nc) ? new TimeoutError(`durable ${this.o.stream}: message ${p.id} not acknowledged within publishTimeout (${this.o.publishTimeout} ms)`, { cause: err }) : typed(err, this.nc, `durable ${this.o.stream}: publish ${p.id}`);
    p.settle?.reject(e);
    this.fail(e);
  }

  /**
   * The stream could not be set up (the server unreachable at first use): the sends waiting for it get `err`
   * and the next value tries again; a value taken by `next` (nobody to tell) ends publishing, as any error there.
   */
  private unready(err: RxwireError): void {
    const waiting = [...this.queue.drain()];
    if (this.done === 'ended' || waiting.some((p) => !p.settle)) {
      for (const p of waiting) this.queue.push(p);
      return this.fail(err);
    }
    this.ready = 'no';
    for (const p of waiting) p.settle!.reject(err);
    this.checkDrained();
  }

  /** Publishing ends with `err` for what comes next; what was taken is still published. */
  private refuse(err: RxwireError): void {
    this.refused = err;
    this.onFailure(err);
  }

  private fail(err: RxwireError): void {
    if (this.failure) return;
    this.failure = err;
    for (const p of this.queue.drain()) p.settle?.reject(err);
    if (this.done !== 'ended' || !(err instanceof TransportClosedError)) this.onFailure(err);
    this.checkDrained();
  }

  private checkDrained(): void {
    if (this.done === 'open' || this.drained.length === 0) return;
    if (!this.failure && (this.inFlight > 0 || this.queue.length > 0)) return;
    if (this.failure && this.inFlight > 0 && this.done !== 'ended') return;
    for (const resolve of this.drained.splice(0)) resolve();
  }
}
