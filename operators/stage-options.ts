/**
 * The options of `stage` (operators/stage.ts) and their check at the door.
 */
import { isCodec, type Codec } from '../core/codec';
import type { KeyValue } from '../core/hash';
import { checkModuleRef, type ModuleRef } from '../threads/load-module';
import { checkRingBytes } from '../transports/shm/layout';
import { checkKnown, checkNumber } from '../core/options';

/** Options of {@link stage}. */
export interface StageOptions<I, O> {
  /** How many worker threads run the module, a positive integer. Default 1. */
  workers?: number;
  /** The codec of the values going into the workers. */
  input: Codec<I>;
  /** The codec of the values the workers' operator emits. */
  output: Codec<O>;
  /**
   * Emit outputs in the order of the inputs they came from, whichever worker
   * ran them (see the `stage` comment for how outputs are attributed).
   * `false` emits each output as soon as it arrives. Default true.
   */
  ordered?: boolean;
  /**
   * How many inputs may be in flight at once: sent to a worker and not yet
   * finished there. Inputs beyond it wait in this thread's memory. When
   * ordered, inputs finished but waiting for an earlier one are bounded too,
   * at 16 × inFlight. A positive integer: fixed. Default: adaptive, what
   * the workers finish in about 4 ms at their measured pace, from 1024 to
   * 16384, grown only when no worker's ring is full (./stage-window.ts):
   * fast small inputs get a deep pipeline, slow ones keep 1024.
   */
  inFlight?: number;
  /**
   * Routes each input to worker `keyHash(key(v)) % workers`, so equal keys
   * meet at one worker, in order (as `exchange` does). Without it, each input
   * goes to the worker with the fewest inputs in flight.
   */
  key?: (value: I) => KeyValue;
  /**
   * Bytes of each shared ring, a power of two from 256 to 2^30; each worker has four. Default 256 KiB.
   * One value must fit a ring (else FrameError); the outputs of one input that do not fit together go in parts.
   */
  bytes?: number;
}

/** The options, checked, with their defaults. */
export interface Checked<I, O> {
  workers: number;
  input: Codec<I>;
  output: Codec<O>;
  ordered: boolean;
  /** `options.inFlight` when given; undefined: adaptive. */
  inFlight: number | undefined;
  key: ((value: I) => KeyValue) | undefined;
  bytes: number;
}

const KNOWN: Record<keyof StageOptions<unknown, unknown>, true> = { workers: true, input: true, output: true, ordered: true, inFlight: true, key: true, bytes: true };

/** Validates `stage`'s arguments at the door, naming the one at fault. */
export function checkOptions<I, O>(module: ModuleRef, options: StageOptions<I, O>): Checked<I, O> {
  checkModuleRef(module, 'stage: module');
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('stage: options must be an object with the codecs `input` and `output`');
  }
  checkKnown(options, KNOWN, 'stage: options');
  const { workers = 1, input, output, ordered = true, inFlight, key, bytes = 256 * 1024 } = options;
  checkNumber(workers, 'options.workers');
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError('options.workers must be a positive integer');
  if (workers > 1024) throw new RangeError('options.workers must be at most 1024');
  if (!isCodec(input)) throw new TypeError('options.input must be a codec (from codec(schema), or raw)');
  if (!isCodec(output)) throw new TypeError('options.output must be a codec (from codec(schema), or raw)');
  if (typeof ordered !== 'boolean') throw new TypeError('options.ordered must be a boolean');
  if (inFlight !== undefined) checkNumber(inFlight, 'options.inFlight');
  if (inFlight !== undefined && (!Number.isInteger(inFlight) || inFlight < 1)) throw new RangeError('options.inFlight must be a positive integer');
  if (key !== undefined && typeof key !== 'function') throw new TypeError('options.key must be a function of a value');
  checkRingBytes(bytes);
  return { workers, input: input as Codec<I>, output: output as Codec<O>, ordered, inFlight, key, bytes };
}
