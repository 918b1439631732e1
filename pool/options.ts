/**
 * The options of `WorkerPool.spawn` (pool/pool.ts) and their check at the door.
 */
import { isCodec, type Codec } from '../core/codec';
import { checkModuleRef, type ModuleRef } from '../threads/load-module';
import { MAX_CAPACITY } from './credits';
import { checkRingBytes } from '../transports/shm/layout';
import { checkKnown } from '../core/options';

/** Options of {@link WorkerPool.spawn}. */
export interface PoolOptions<D, U> {
  /** The codec of the values the manager sends down to the workers. */
  down: Codec<D>;
  /** The codec of the values the workers send up to the manager. */
  up: Codec<U>;
  /**
   * How many values the up queue holds, for the whole pool: values in the
   * workers' up rings plus those waiting in the manager's queue. With it
   * full, a worker's `up.send` waits and `up.trySend` returns false, until a
   * value leaves the manager's queue or the pool stops. A positive integer,
   * at most 2^30 - 1. Default 1024.
   */
  upCapacity?: number;
  /** Passed to every worker's function as its second argument (structured-cloned). Default undefined. */
  args?: unknown;
  /**
   * Bytes of each shared ring, a power of two from 256 to 2^30. Each worker
   * has two pairs (down and up), two rings each. Default 256 KiB.
   */
  bytes?: number;
}

const KNOWN: Record<keyof PoolOptions<unknown, unknown>, true> = { down: true, up: true, upCapacity: true, args: true, bytes: true };

/** The options, checked, with their defaults. */
export interface Checked<D, U> {
  down: Codec<D>;
  up: Codec<U>;
  upCapacity: number;
  args: unknown;
  bytes: number;
}

/** Validates `spawn`'s arguments at the door, naming the one at fault. */
export function checkOptions<D, U>(n: number, module: ModuleRef, options: PoolOptions<D, U>): Checked<D, U> {
  if (!Number.isInteger(n) || n < 1) throw new RangeError('WorkerPool.spawn: n (the number of workers) must be a positive integer');
  if (n > 1024) throw new RangeError('WorkerPool.spawn: n (the number of workers) must be at most 1024');
  checkModuleRef(module, 'WorkerPool.spawn: module');
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('WorkerPool.spawn: options must be an object with the codecs `down` and `up`');
  }
  checkKnown(options, KNOWN, 'WorkerPool.spawn: options');
  const { down, up, upCapacity = 1024, args, bytes = 256 * 1024 } = options;
  if (!isCodec(down)) throw new TypeError('options.down must be a codec (from codec(schema), or raw)');
  if (!isCodec(up)) throw new TypeError('options.up must be a codec (from codec(schema), or raw)');
  if (!Number.isInteger(upCapacity) || upCapacity < 1) throw new RangeError('options.upCapacity must be a positive integer');
  if (upCapacity > MAX_CAPACITY) throw new RangeError(`options.upCapacity must be at most ${MAX_CAPACITY}`);
  checkRingBytes(bytes);
  return { down: down as Codec<D>, up: up as Codec<U>, upCapacity, args, bytes };
}
