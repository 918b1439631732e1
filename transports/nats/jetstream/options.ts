/**
 * The options of `durable()` (a JetStream stream read through a durable
 * consumer), their defaults and checks, and the stream and consumer
 * configurations they give. docs/PROTOCOL.md, "JetStream", is the wire view.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, ReplayPolicy, RetentionPolicy, StorageType, type ConsumerConfig, type StreamConfig } from '@nats-io/jetstream';
import { checkKnown } from '../../../core/options';

/** What `durable()` needs of a connection: N1's `connect()` result satisfies it, and so does `{ nc }` around any NatsConnection. */
export interface JetStreamConnection {
  /** The underlying @nats-io connection. */
  readonly nc: NatsConnection;
  /** The subject prefix of this connection's rxwire subjects (default `'rxwire.'`). */
  readonly prefix?: string;
}

/** Where a consumer created by `durable()` starts reading the stream. */
export type DeliverFrom =
  /** From the first value the stream still holds. */
  | 'all'
  /** Only values stored after the consumer is created. */
  | 'new'
  /** From stream sequence `seq` (the first stored value is 1). */
  | { seq: number }
  /** From the first value stored at or after `time`. */
  | { time: Date };

/** Options of `durable()`. Every field is optional. */
export interface DurableOptions {
  /**
   * The name of the durable consumer the Observable side reads through. The
   * server keeps its position: a reader that stops (unsubscribes, crashes,
   * restarts in another process) resumes after the last value it
   * acknowledged. Letters, digits, `-` and `_`. Default: none, an ephemeral
   * consumer per subscription, deleted when it ends (reads from `deliver`).
   */
  durable?: string;
  /**
   * The NATS subject the values are published on and the consumer reads
   * (its filter). Default `<prefix>js.<stream>` (`rxwire.js.<stream>`).
   */
  subject?: string;
  /**
   * Where a consumer starts when `durable()` creates it (default `'all'`).
   * A durable consumer that already exists keeps its position: `deliver`
   * applies only when the consumer is created (use a new `durable` name, or
   * none, to replay).
   */
  deliver?: DeliverFrom;
  /**
   * The stream's retention when `durable()` creates the stream (default
   * `'limits'`; `'interest'` and `'workqueue'` as in JetStream). An existing
   * stream is used as it is.
   */
  retention?: 'limits' | 'interest' | 'workqueue';
  /** The stream's storage when `durable()` creates it (default `'file'`, which survives a server restart). */
  storage?: 'file' | 'memory';
  /**
   * The window within which the server drops a second publish with the same
   * message id, in ms, when `durable()` creates the stream (default
   * 120 000, JetStream's own default). Retries of one value happen within it.
   */
  duplicateWindow?: number;
  /**
   * Values the server may hand this consumer before they are acknowledged
   * (the consumer's `max_ack_pending`, when `durable()` creates it; default
   * 1024). This is the reader's backpressure: a slow subscriber holds at
   * most this many values in memory, whatever the producer does.
   */
  maxAckPending?: number;
  /** Values asked for per pull request (default 256, at most `maxAckPending`). */
  batch?: number;
  /**
   * How long the server waits for an acknowledgement before it hands a value
   * out again, in ms (the consumer's `ack_wait` when created; default 30 000).
   * After a reader crashes, its unacknowledged values come back after this.
   */
  ackWait?: number;
  /** Publishes in flight at once, awaiting the stream's PubAck (default 256): `send` waits and `trySend` is false beyond it. */
  window?: number;
  /**
   * Values `next` may hold while the window is full (default 65 536;
   * `Infinity`: no bound); one more ends the publishing side with
   * `QueueFullError`.
   */
  maxQueue?: number;
  /**
   * The first part of every message id this publisher writes
   * (`<producerId>-<n>`, n = 1, 2, … per value). Default: a fresh random id
   * per `durable()` call. Give a stable one (and `firstSequence`) to a
   * producer that restarts and must not store a value twice. No control
   * characters: it goes into a header.
   */
  producerId?: string;
  /** The `n` of this publisher's first message id (default 1). */
  firstSequence?: number;
  /**
   * How long one value may keep being retried (same message id) while the
   * server is unreachable or does not answer, in ms (default 60 000). Past
   * it, publishing ends with `TimeoutError`.
   */
  publishTimeout?: number;
  /**
   * Values with a stream sequence at or below this one are acknowledged
   * without being delivered. A reader that records the last sequence it
   * processed together with its own output resumes with exactly-once
   * effects after a crash (the values it took but had not yet acknowledged
   * are skipped). Default 0: nothing skipped.
   */
  resumeAfter?: number;
}

/** The options with their defaults applied. */
export type ResolvedOptions = Required<Omit<DurableOptions, 'durable'>> & { durable: string | undefined; stream: string };

const NAME = /^[A-Za-z0-9_-]+$/;
const OPTIONS: Record<keyof DurableOptions, true> = {
  durable: true,
  subject: true,
  deliver: true,
  retention: true,
  storage: true,
  duplicateWindow: true,
  maxAckPending: true,
  batch: true,
  ackWait: true,
  window: true,
  maxQueue: true,
  producerId: true,
  firstSequence: true,
  publishTimeout: true,
  resumeAfter: true,
};

/** Checks `stream` and `options` at the door and fills in the defaults; TypeError/RangeError name the option. */
export function resolveOptions(conn: JetStreamConnection, stream: string, options: DurableOptions): ResolvedOptions {
  if (typeof stream !== 'string' || !NAME.test(stream)) throw new TypeError(`stream must be a JetStream name (letters, digits, - and _), got ${JSON.stringify(stream)}`);
  // A misspelt `durable` would give an ephemeral consumer, whose position is lost, without a word.
  checkKnown(options, OPTIONS, 'durable: options');
  const {
    durable,
    subject = `${conn.prefix ?? 'rxwire.'}js.${stream}`,
    deliver = 'all',
    retention = 'limits',
    storage = 'file',
    duplicateWindow = 120_000,
    maxAckPending = 1024,
    batch = Math.min(256, maxAckPending),
    ackWait = 30_000,
    window = 256,
    maxQueue = 65_536,
    producerId = randomId(),
    firstSequence = 1,
    publishTimeout = 60_000,
    resumeAfter = 0,
  } = options;
  if (durable !== undefined && (typeof durable !== 'string' || !NAME.test(durable))) throw new TypeError(`options.durable must be a consumer name (letters, digits, - and _), got ${JSON.stringify(durable)}`);
  if (typeof subject !== 'string' || subject === '' || /[\s*>]/.test(subject) || subject.split('.').includes('')) throw new TypeError(`options.subject must be a NATS subject without wildcards (dot-separated non-empty tokens), got ${JSON.stringify(subject)}`);
  if (!['limits', 'interest', 'workqueue'].includes(retention)) throw new TypeError(`options.retention must be 'limits', 'interest' or 'workqueue'`);
  if (!['file', 'memory'].includes(storage)) throw new TypeError(`options.storage must be 'file' or 'memory'`);
  checkDeliver(deliver);
  positive('duplicateWindow', duplicateWindow, MOST_MS);
  positive('maxAckPending', maxAckPending);
  positive('batch', batch);
  if (batch > maxAckPending) throw new RangeError(`options.batch (${batch}) must not exceed options.maxAckPending (${maxAckPending})`);
  positive('ackWait', ackWait, MOST_MS);
  positive('window', window);
  if (!(maxQueue === Infinity || (Number.isSafeInteger(maxQueue) && maxQueue >= 0))) throw new RangeError(`options.maxQueue must be an integer >= 0 or Infinity, got ${String(maxQueue)}`);
  // It goes into a header (Nats-Msg-Id), where a control character (CR, LF) would break the message.
  if (typeof producerId !== 'string' || producerId === '' || /[\x00-\x1f\x7f]/.test(producerId)) throw new TypeError('options.producerId must be a non-empty string without control characters');
  positive('firstSequence', firstSequence);
  positive('publishTimeout', publishTimeout);
  if (!Number.isSafeInteger(resumeAfter) || resumeAfter < 0) throw new RangeError('options.resumeAfter must be an integer >= 0');
  return { stream, durable, subject, deliver, retention, storage, duplicateWindow, maxAckPending, batch, ackWait, window, maxQueue, producerId, firstSequence, publishTimeout, resumeAfter };
}

function positive(name: string, value: number, most = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isSafeInteger(value) || value < 1 || value > most) throw new RangeError(`options.${name} must be an integer from 1 to ${most}, got ${String(value)}`);
}

function checkDeliver(deliver: DeliverFrom): void {
  if (deliver === 'all' || deliver === 'new') return;
  if (typeof deliver === 'object' && deliver !== null && !('seq' in deliver && 'time' in deliver)) {
    if ('seq' in deliver && Number.isSafeInteger(deliver.seq) && deliver.seq >= 1) return;
    if ('time' in deliver && deliver.time instanceof Date && !Number.isNaN(deliver.time.getTime())) return;
  }
  throw new TypeError(`options.deliver must be 'all', 'new', { seq: n >= 1 } or { time: Date }`);
}

/** A random id of 16 base-36 characters. */
function randomId(): string {
  let id = '';
  while (id.length < 16) id += Math.floor(Math.random() * 36).toString(36);
  return id;
}

const MS = 1_000_000; // nanoseconds per millisecond, JetStream's unit
/** The longest duration in ms whose nanoseconds (JetStream's unit, in JSON) stay an exact integer. */
const MOST_MS = Math.floor(Number.MAX_SAFE_INTEGER / MS);

/** The stream `durable()` creates when it is missing. */
export function streamConfig(o: ResolvedOptions): Partial<StreamConfig> & { name: string } {
  return {
    name: o.stream,
    subjects: [o.subject],
    retention: { limits: RetentionPolicy.Limits, interest: RetentionPolicy.Interest, workqueue: RetentionPolicy.Workqueue }[o.retention],
    storage: o.storage === 'file' ? StorageType.File : StorageType.Memory,
    duplicate_window: o.duplicateWindow * MS,
  };
}

/** The pull consumer `durable()` creates when it is missing (ephemeral when `durable` is not set). */
export function consumerConfig(o: ResolvedOptions): Partial<ConsumerConfig> {
  const { deliver } = o;
  const from: Partial<ConsumerConfig> =
    deliver === 'all'
      ? { deliver_policy: DeliverPolicy.All }
      : deliver === 'new'
        ? { deliver_policy: DeliverPolicy.New }
        : 'seq' in deliver
          ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: deliver.seq }
          : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: deliver.time.toISOString() };
  return {
    ...(o.durable === undefined ? { inactive_threshold: 60_000 * MS } : { durable_name: o.durable }),
    ...from,
    ack_policy: AckPolicy.Explicit,
    replay_policy: ReplayPolicy.Instant,
    ack_wait: o.ackWait * MS,
    max_ack_pending: o.maxAckPending,
    filter_subject: o.subject,
  };
}
