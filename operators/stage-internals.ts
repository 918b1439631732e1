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
 *   subscribed: the mark that it is ready. Outputs of one push (or of the
 *   mark) too large for one ring record come as several envelopes of that
 *   `seq`, `last: false` before the last part (operators/stage-sender.ts).
 *
 * The envelopes are Avro records around the user's schema, so a value is
 * encoded once, straight into the ring; the raw codec's bytes travel as Avro
 * `bytes`.
 */
import { Buffer } from 'node:buffer';
import { codec as codecOf, type Codec } from '../core/codec';
import type { Fifo } from '../core/fifo';
import type { WireSubject } from '../core/wire-subject';
import { codecFrom, type CodecSpec } from '../pool/types';
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

/**
 * avsc's `bytes` wants a Buffer; the raw codec's values are any Uint8Array.
 * Anything else is left as it is, for the check to refuse as `raw` does
 * (`EncodeError`): a Uint16Array or a DataView was viewed as its bytes.
 */
function asBuffer(bytes: Uint8Array): Buffer {
  if (Buffer.isBuffer(bytes) || !(bytes instanceof Uint8Array)) return bytes as Buffer;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The codec of the down envelope around values of `spec`. A value that does
 * not fit fails with the `EncodeError` of the user's own codec, naming the
 * user's type and field (`cannot encode Trade.price`), not the envelope's.
 */
export function inputCodec<I>(spec: CodecSpec): Codec<Input<I>> {
  const made = codecOf({
    type: 'record',
    name: 'RxwireStageInput',
    fields: [
      { name: 'seq', type: 'long' },
      { name: 'value', type: fieldType(spec) },
    ],
  } as never) as unknown as Codec<Input<I>>;
  const envelope =
    spec.kind === 'raw' ? rawValues(made, (input) => ({ seq: input.seq, value: asBuffer(input.value as Uint8Array) as I })) : made;
  return explained(envelope, codecFrom(spec) as Codec<I>);
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

/**
 * `envelope`, whose failures to check or encode an input are explained by
 * `values`, the user's codec: its own `EncodeError` is thrown instead (the
 * envelope's path would name the internal record). Only a failure pays for
 * the second check.
 */
function explained<I>(envelope: Codec<Input<I>>, values: Codec<I>): Codec<Input<I>> {
  const explain = (input: Input<I>, err: unknown): never => {
    if (typeof input === 'object' && input !== null) values.check(input.value);
    throw err;
  };
  return {
    schema: envelope.schema,
    fingerprint: envelope.fingerprint,
    encode(input) {
      try {
        return envelope.encode(input);
      } catch (err) {
        return explain(input, err);
      }
    },
    encodeInto(input, buffer, offset) {
      try {
        return envelope.encodeInto(input, buffer, offset);
      } catch (err) {
        return explain(input, err);
      }
    },
    decode: (buffer, start, end) => envelope.decode(buffer, start, end),
    resolve: (writer) => envelope.resolve(writer),
    check(input: unknown): asserts input is Input<I> {
      try {
        envelope.check(input);
      } catch (err) {
        explain(input as Input<I>, err);
      }
    },
  };
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

/**
 * Ordered `stage`: the outputs of the inputs sent and not yet emitted, one
 * slot per seq. Seqs are opened consecutively and emitted in order, so the
 * slots are the window [first, first + size) of a ring that doubles when
 * full: no Map and no object per input (with a Map of slot objects, the
 * main thread spent a fifth of its time collecting garbage). A slot keeps
 * the `values` array of the envelope that brought its outputs, uncopied.
 */
export class OrderedSlots<O> {
  private held: (O[] | undefined)[] = new Array(1024);
  private finished = new Uint8Array(1024);
  private mask = 1023;
  /** The next seq to emit. */
  private first = 0;
  /** The next seq to open. */
  private end = 0;

  /** Slots open: inputs sent and not yet emitted. */
  get size(): number {
    return this.end - this.first;
  }

  /** Opens the slot of the next seq, which must be `seq`. */
  open(seq: number): void {
    if (seq !== this.end) throw new Error(`slot ${seq} opened out of turn (next is ${this.end})`);
    if (this.size === this.held.length) this.grow();
    this.end++;
  }

  /** Has `seq`'s turn passed (its outputs, if any, emitted)? */
  passed(seq: number): boolean {
    return seq < this.first;
  }

  /** Holds outputs of `seq` (an open slot); `last` marks it finished. */
  add(seq: number, values: O[], last: boolean): void {
    const i = seq & this.mask;
    if (values.length > 0) {
      const held = this.held[i];
      if (held === undefined) this.held[i] = values;
      else for (const value of values) held.push(value);
    }
    if (last) this.finished[i] = 1;
  }

  /** Marks `seq` finished, with no more outputs. */
  finish(seq: number): void {
    this.finished[seq & this.mask] = 1;
  }

  /**
   * Emits the outputs of each finished slot at the head, in seq order, and
   * closes it (before emitting: `emit` may open slots). Stops at the first
   * unfinished slot, or when `emit` returns false (the subscriber closed).
   */
  release(emit: (value: O) => boolean): void {
    while (this.first < this.end) {
      const i = this.first & this.mask;
      if (this.finished[i] === 0) return;
      const values = this.held[i];
      this.held[i] = undefined;
      this.finished[i] = 0;
      this.first++;
      if (values !== undefined) for (const value of values) if (!emit(value)) return;
    }
  }

  /** Drops every slot's outputs. */
  clear(): void {
    this.held.fill(undefined);
    this.finished.fill(0);
    this.first = this.end;
  }

  private grow(): void {
    const capacity = this.held.length * 2;
    const held = new Array<O[] | undefined>(capacity);
    const finished = new Uint8Array(capacity);
    for (let seq = this.first; seq < this.end; seq++) {
      held[seq & (capacity - 1)] = this.held[seq & this.mask];
      finished[seq & (capacity - 1)] = this.finished[seq & this.mask];
    }
    this.held = held;
    this.finished = finished;
    this.mask = capacity - 1;
  }
}

/** One worker of a `stage` and the main thread's ends to it. */
export interface Member<I, O> {
  index: number;
  down: WireSubject<Input<I>>;
  up: WireSubject<Output<O>>;
  /** The seqs of the inputs sent to it and not yet finished there, oldest first (a worker finishes its inputs in order). */
  pending: Fifo<number>;
  /** Its operator has been subscribed and what it emitted then has arrived. */
  ready: boolean;
  /** Its operator has completed (its up stream with it): it takes no more inputs. */
  done: boolean;
}

/** Ordered: how many finished inputs per `inFlight` may wait for their turn. */
export const HELD_PER_IN_FLIGHT = 16;
/** How long a worker's failure waits for the output wire to end behind what it sent (within ms, but an exit may follow its port's close by seconds: see PeerWatch). */
export const LAST_VALUES_MS = 5000;
/**
 * Once a failing worker's up wire has ended, all it sent is out: the failure waits this long more (restarted by
 * each other wire's ending), or until every up wire has ended, for what the other workers sent (it was
 * LAST_VALUES_MS, the error 5 s late for nothing; then 100 ms from the failing worker's end only, and a failure
 * at its down wire's end was at once: on a loaded machine the other worker's values, read a moment later, were
 * lost — stage.spec's 'never' case, once in CI). Since session 39 it starts only once the other workers have also
 * answered every input they were sent (LAST_VALUES_MS bounds that wait): with 500 ms from the failing worker's end,
 * the 'never' case lost the other worker's every value once more in CI, its thread not yet run on a loaded machine.
 */
export const OTHERS_MS = 500;
