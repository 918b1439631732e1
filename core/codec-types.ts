/**
 * The codec contract, shared by every codec: the Avro codecs of
 * core/codec.ts, the raw codec, and hand-written ones such as the request
 * envelope codec (`rpcCodec()` in rxwire/operators). Types only, plus the
 * one structural test {@link isCodec}.
 */
import type { Schema } from './schema';

/**
 * Encodes values into bytes and decodes them back as values of `T`. `In`,
 * when given, is what a sender may pass instead of `T`: for a schema with
 * defaulted fields those fields are optional in `In` (avsc writes the
 * default), while received values (`T`) always have them. Without `In`
 * (`Codec<T>`), a codec encodes values of `T`. A `Codec<T, In>` is also a
 * `Codec<T>`, so every API that takes a `Codec<T>` takes it and infers `T`.
 */
export interface Codec<T, In = never> {
  /** The schema, in avsc's canonical JSON form (`{ type: 'bytes', raw: true }` for the raw codec). */
  readonly schema: unknown;
  /** Hex SHA-256 of the canonical schema: two codecs with equal fingerprints read each other's bytes as is. */
  readonly fingerprint: string;
  /**
   * Encodes `value` into a new buffer.
   * @throws EncodeError naming the field that does not fit.
   */
  encode(value: EncodeInput<T, In>): Buffer;
  /**
   * Encodes `value` straight into `buffer` at `offset`, with no intermediate
   * buffer. Returns the offset just past the last byte written; when the room
   * is too small, returns a negative number whose magnitude is the count of
   * missing bytes (the bytes already written are garbage), so the caller can
   * grow its buffer or wait for room and try again. A value that does not
   * fit the schema may likewise have left garbage from `offset` on (never
   * before `offset`, never past the buffer's end) before the error.
   * @throws EncodeError naming the field that does not fit.
   */
  encodeInto(value: EncodeInput<T, In>, buffer: Buffer, offset: number): number;
  /**
   * Decodes the value in `buffer[start, end)`. The range must hold exactly one
   * value: a short or a long range is a {@link DecodeError}. The result never
   * shares memory with `buffer`.
   */
  decode(buffer: Uint8Array, start?: number, end?: number): T;
  /**
   * A codec that reads data written under `writer` (a schema or a codec) as
   * values of this codec's schema, by Avro's resolution rules (fields added
   * with defaults, fields dropped, numbers promoted). Encoding is unchanged.
   * @throws SchemaMismatchError naming the field when the schemas cannot be resolved.
   */
  resolve(writer: Schema | Codec<unknown>): Codec<T, In>;
  /**
   * Checks `value` against the schema, as `encode` does before writing.
   * Narrows to `T`, the type received (so that a `Codec<T, In>` is also a
   * `Codec<T>`). A value
   * that leaves out a defaulted field passes too (avsc writes the default):
   * read such fields from what you receive, not from the value you checked.
   * @throws EncodeError when `value` does not fit the schema.
   */
  check(value: unknown): asserts value is T;
}

/**
 * What a `Codec<T, In>` encodes: `In`, or `T` when the codec has no separate
 * input type (`In` left out, i.e. `never`). Defaulting `In` to a marker
 * rather than to `T` keeps `T` inferred from what is decoded: a function
 * taking a `Codec<T>` infers `T` as the received type, not the input type.
 */
export type EncodeInput<T, In> = [In] extends [never] ? T : In;

/** The type of the values a codec delivers: `ValueOf<typeof Trade>`. */
export type ValueOf<C> = C extends Codec<infer T, infer _In> ? T : never;

/** The type of the values a codec accepts for sending (defaulted fields optional): `InputOf<typeof Trade>`. */
export type InputOf<C> = C extends Codec<infer T, infer In> ? EncodeInput<T, In> : never;

/** Options of `codec()` and `codecOfType()`. */
export interface CodecOptions {
  /**
   * Check each value against the schema before encoding it, so a value that
   * does not fit fails with an `EncodeError` naming the field. Default `true`;
   * `false` is faster, but only for values known to fit: avsc may then write
   * garbage instead of failing.
   */
  validate?: boolean;
}

const METHODS = ['encode', 'encodeInto', 'decode', 'resolve', 'check'] as const;

/**
 * Is `x` a codec? True for anything with the {@link Codec} interface: a
 * string `fingerprint`, a `schema`, and the methods `encode`, `encodeInto`,
 * `decode`, `resolve` and `check` (so hand-written codecs such as
 * `rpcCodec()` count, not only those made by `codec()`).
 */
export function isCodec(x: unknown): x is Codec<unknown> {
  if (typeof x !== 'object' || x === null) return false;
  const c = x as Record<string, unknown>;
  return typeof c.fingerprint === 'string' && 'schema' in c && METHODS.every((m) => typeof c[m] === 'function');
}
