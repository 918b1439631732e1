/**
 * What the two sides of `stage` share: the setup the main thread hands each
 * worker (operators/stage.ts) and the envelopes on its rings
 * (operators/stage-worker.ts reads `Input`, writes `Output`).
 *
 * Each worker has two shm pairs, each used one way (the two directions carry
 * different schemas, and one pair has one schema both ways):
 *
 * - down, main → worker: `{ seq, value }`, one per input, `seq` counting from
 *   0 across the whole stage;
 * - up, worker → main: `{ seq, values, last }`: with `last`, the outputs the
 *   worker's operator emitted synchronously while input `seq` was pushed (and
 *   the mark that `seq` is done); without it, outputs emitted outside a push,
 *   attributed to the latest input (`seq` ≥ 0), to none yet (`BEFORE`) or
 *   emitted after the input completed (`AFTER`). Each worker first sends
 *   `{ seq: BEFORE, last: true }` with what its operator emitted while being
 *   subscribed: the mark that it is ready.
 *
 * The envelopes are Avro records around the user's schema, so a value is
 * encoded once, straight into the ring; the raw codec's bytes travel as Avro
 * `bytes`.
 */
import { codec as codecOf, type Codec } from '../lib/codec';
import type { CodecSpec } from '../lib/pool/types';
import type { ShmEnd } from '../transports/shm';

/** `seq` of outputs emitted before the worker got any input. */
export const BEFORE = -1;
/** `seq` of outputs emitted after the worker's input completed. */
export const AFTER = -2;

/** What the main thread hands each worker (structured-cloned, the ends' ports transferred). */
export interface StageSetup {
  /** The worker's end of its down pair: it reads `Input` envelopes. */
  down: ShmEnd;
  /** The worker's end of its up pair: it writes `Output` envelopes. */
  up: ShmEnd;
  input: CodecSpec;
  output: CodecSpec;
  /**
   * Set by `pipeline` (operators/pipeline.ts) for every step but the first:
   * `down` is the previous step's `up`, carrying its `Output` envelopes
   * (each of their `values` is one input here), and an error arriving on it
   * is passed on down the chain as is, not as this worker's failure (so the
   * main thread names the step it came from). Default false: `Input`
   * envelopes from the main thread.
   */
  chained?: boolean;
}

/** Main → worker. */
export interface Input<I> {
  seq: number;
  value: I;
}

/** Worker → main. */
export interface Output<O> {
  seq: number;
  values: O[];
  last: boolean;
}

/** The schema of a field carrying values of `spec`. */
function fieldType(spec: CodecSpec): unknown {
  return spec.kind === 'raw' ? 'bytes' : spec.schema;
}

/** avsc's `bytes` wants a Buffer; the raw codec's values are any Uint8Array. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The codec of the down envelope around values of `spec`. */
export function inputCodec<I>(spec: CodecSpec): Codec<Input<I>> {
  const made = codecOf({
    type: 'record',
    name: 'RxwireStageInput',
    fields: [
      { name: 'seq', type: 'long' },
      { name: 'value', type: fieldType(spec) },
    ],
  } as never) as unknown as Codec<Input<I>>;
  return spec.kind === 'raw' ? rawValues(made, (input) => ({ seq: input.seq, value: asBuffer(input.value as Uint8Array) as I })) : made;
}

/** The codec of the up envelope around values of `spec`. */
export function outputCodec<O>(spec: CodecSpec): Codec<Output<O>> {
  const made = codecOf({
    type: 'record',
    name: 'RxwireStageOutput',
    fields: [
      { name: 'seq', type: 'long' },
      { name: 'values', type: { type: 'array', items: fieldType(spec) } },
      { name: 'last', type: 'boolean' },
    ],
  } as never) as unknown as Codec<Output<O>>;
  return spec.kind === 'raw'
    ? rawValues(made, (output) => ({ ...output, values: output.values.map((v) => asBuffer(v as Uint8Array) as O) }))
    : made;
}

/** `made`, with raw values turned into Buffers before they are checked or encoded. */
function rawValues<E>(made: Codec<E>, toBuffers: (envelope: E) => E): Codec<E> {
  return {
    schema: made.schema,
    fingerprint: made.fingerprint,
    encode: (value) => made.encode(toBuffers(value)),
    encodeInto: (value, buffer, offset) => made.encodeInto(toBuffers(value), buffer, offset),
    decode: (buffer, start, end) => made.decode(buffer, start, end),
    resolve: (writer) => made.resolve(writer),
    check(value: unknown): asserts value is E {
      made.check(toBuffers(value as E));
    },
  };
}

export { asWorkerError as workerErrorOf } from '../lib/errors';
