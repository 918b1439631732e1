/**
 * What the two sides of a WorkerPool share: the setup the manager hands each
 * worker (pool/pool.ts) and the context the worker's function gets
 * (pool/worker.ts).
 */
import type { Observable, Observer } from 'rxjs';
import { codec as codecOf, raw, type Codec } from '../core/codec';
import { writerSchema } from '../core/codec-avro';
import type { WorkerResult } from '../threads/run';
import type { ShmEnd } from '../transports/shm';

/** A codec as it crosses to a worker: the raw codec by name, an Avro codec by its schema. */
export type CodecSpec = { kind: 'raw' } | { kind: 'avro'; schema: unknown };

/** What the manager hands each worker (structured-cloned, the ends' ports transferred). */
export interface PoolSetup {
  /** How many workers the pool has. */
  workers: number;
  /** The worker's end of its down pair: it reads values of `downCodec`. */
  down: ShmEnd;
  /** The worker's end of its up pair: it writes values of `upCodec`. */
  up: ShmEnd;
  downCodec: CodecSpec;
  upCodec: CodecSpec;
  /** The pool's credit cell (see credits.ts). */
  credits: SharedArrayBuffer;
  /** Data bytes of each ring (`options.bytes`): a value larger than a ring holds is refused before it queues. */
  ringBytes: number;
  /** The user's `options.args`. */
  args: unknown;
}

/**
 * A worker's way up to the manager: the pool's one bounded queue. Also an
 * RxJS Observer, so `source$.subscribe(worker.up)` works.
 */
export interface PoolSender<U> extends Observer<U> {
  /**
   * Sends `value`, waiting (without blocking the event loop) for room in the
   * pool's up queue. Resolves once the value is on its way; rejects with
   * `EncodeError` or `FrameError` (larger than a ring can ever hold,
   * `options.bytes`), nothing sent, or `TransportClosedError` (the up stream
   * has ended, or the manager is gone).
   */
  send(value: U): Promise<void>;
  /**
   * Sends `value` if the pool's up queue has room now (and no earlier value
   * of this worker still waits); false, sending nothing, when it is full.
   * Never blocks.
   * @throws EncodeError when the value does not fit the schema
   * @throws FrameError when it is larger than a ring can ever hold (`options.bytes`)
   * @throws TransportClosedError when the up stream has ended
   */
  trySend(value: U): boolean;
  /**
   * Queues `value` in this worker, in order with `send`, and forwards it as
   * room comes; never throws. A value that does not fit the schema, or is
   * larger than a ring can ever hold, ends the up stream with `EncodeError`
   * or `FrameError` (the manager sees the failure).
   */
  next(value: U): void;
  /** Ends the up stream with `err`: the manager's `up$` and `join()` fail with `WorkerError`. */
  error(err: unknown): void;
  /** Ends the up stream once the values already queued are sent. */
  complete(): void;
}

/** What a pool worker's function gets. */
export interface PoolWorker<D, U> {
  /** This worker's index, 0 ≤ index < workers. */
  readonly index: number;
  /** How many workers the pool has. */
  readonly workers: number;
  /**
   * What the manager sends this worker (`send(index, v)`, `broadcast(v)`), in
   * order. Completes when the pool stops. Hot: subscribe before the values
   * you need are read (nothing is read before the first subscriber); the end
   * stops reading for good when its last subscriber leaves.
   */
  readonly down$: Observable<D>;
  /** The way up to the manager. */
  readonly up: PoolSender<U>;
}

/**
 * The default export of a pool's worker module. What it returns (a value, a
 * Promise, or an Observable whose last value counts) is the worker's result
 * in `join()`; when it settles, the worker's up stream completes.
 */
export type PoolWorkerFunction<D, U, R = unknown, A = unknown> = (worker: PoolWorker<D, U>, args: A) => WorkerResult<R>;

/**
 * The form in which `codec` crosses to a worker: its schema as `codec()`
 * there reads back as this codec's (core/codec-avro.ts `writerSchema`: a
 * canonical form's names in no namespace, nested in a namespace, marked).
 */
export function specOf(codec: Codec<unknown>): CodecSpec {
  return codec.fingerprint === raw.fingerprint ? { kind: 'raw' } : { kind: 'avro', schema: writerSchema(codec.schema) };
}

/** The codec a worker rebuilds from `spec`. */
export function codecFrom(spec: CodecSpec): Codec<unknown> {
  return spec.kind === 'raw' ? (raw as Codec<unknown>) : (codecOf(spec.schema as never) as Codec<unknown>);
}
