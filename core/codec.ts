/**
 * Codecs: Avro schemas (through `avsc`) that encode values into bytes and
 * decode them back, written for transports that own their buffers.
 *
 * ## Example
 * ```ts
 * import { codec } from 'rxwire';
 * const Trade = codec({ type: 'record', name: 'Trade', fields: [
 *   { name: 'id', type: 'long' }, { name: 'sym', type: 'string' },
 * ] } as const);
 * const bytes = Trade.encode({ id: 1, sym: 'ACME' });
 * Trade.decode(bytes); // Trade { id: 1, sym: 'ACME' }
 * ```
 *
 * What a codec refuses, with an `EncodeError` naming the field: a value that
 * does not fit the schema, a string with a lone UTF-16 surrogate (UTF-8
 * cannot carry it; core/codec-strings.ts), and a value that refers to itself
 * where the schema recurses. Decoded records are instances of avsc's record
 * classes (named after the record), with the fields as own properties.
 */
import * as avro from 'avsc';
import { AvroCodec, typeOf } from './codec-avro';
import { RawCodec } from './codec-raw';
import type { Codec, CodecOptions } from './codec-types';
import { SchemaMismatchError } from './errors';
import type { Infer, InferInput, Schema } from './schema';
import { checkKnown } from './options';

export { isCodec, type Codec, type CodecOptions, type EncodeInput, type InputOf, type ValueOf } from './codec-types';

/**
 * A codec for an Avro schema. A schema written as a literal with `as const`
 * gives the value type (see `Infer`), and the type a sender may pass (see
 * `InferInput`: defaulted fields optional).
 *
 * A named type may be defined again, identically, further on in the schema
 * (say `ProcessRefSchema` in two fields): the repeats are read as references
 * to the first definition (core/schema-names.ts).
 *
 * @param schema an Avro schema in its JSON form, best written `as const`
 * @param options see {@link CodecOptions}
 */
export function codec<const S extends Schema>(schema: S, options: CodecOptions = {}): Codec<Infer<S>, InferInput<S>> {
  const type = typeOf(schema);
  refuseWrappedUnions(type, new Set());
  const made: Codec<unknown> = new AvroCodec(type, undefined, validateOption(options, 'codec'));
  // Infer<S> cannot be related to the implementation's type generically
  // (it recurses through Schema), so the bridge is one cast, here.
  return made as never;
}

/**
 * A codec over an existing avsc `Type`, for schemas built with avsc itself.
 * The type is used as it is: unlike {@link codec}, its strings are not
 * checked for lone surrogates unless it was built with the same typeHook.
 */
export function codecOfType<T = unknown>(type: avro.Type, options: CodecOptions = {}): Codec<T> {
  return new AvroCodec<T>(type, undefined, validateOption(options, 'codecOfType'));
}

/**
 * A union whose branches a value cannot choose between (two records, `int`
 * and `double`, a string and an enum) is one avsc wraps (`{ A: value }`),
 * where `Infer` types every union unwrapped: a value that type-checked was
 * refused, and one received did not have its type. Refused at `codec()`
 * instead; a record with a field that says which (or one branch) does it.
 * @throws TypeError naming the union
 */
function refuseWrappedUnions(type: avro.Type, seen: Set<avro.Type>): void {
  if (seen.has(type)) return;
  seen.add(type);
  if (type instanceof avro.types.WrappedUnionType) {
    const branches = type.types.map((t) => t.name ?? t.typeName).join(', ');
    throw new TypeError(`codec: the union [${branches}] has branches a value cannot choose between (rxwire reads and writes unions unwrapped): give each a distinct kind of value, or make it one record with a field that says which`);
  }
  if (type instanceof avro.types.RecordType) for (const field of type.fields) refuseWrappedUnions(field.type, seen);
  else if (type instanceof avro.types.ArrayType) refuseWrappedUnions(type.itemsType, seen);
  else if (type instanceof avro.types.MapType) refuseWrappedUnions(type.valuesType, seen);
  else if (type instanceof avro.types.UnwrappedUnionType) for (const branch of type.types) refuseWrappedUnions(branch, seen);
}

const CODEC_OPTIONS: Record<keyof CodecOptions, true> = { validate: true };

/** `options.validate`, checked: a boolean, default true; another key is a TypeError (core/options.ts). */
function validateOption(options: CodecOptions, api: string): boolean {
  checkKnown(options, CODEC_OPTIONS, `${api}: options`);
  const { validate = true } = options;
  if (typeof validate !== 'boolean') throw new TypeError(`${api}: options.validate must be a boolean`);
  return validate;
}

/** The raw-bytes codec, for payloads that are already bytes. */
export const raw: Codec<Uint8Array> = new RawCodec();

/** The codec a receiver should use for a writer's schema, given its own. */
export function readerFor<T, In>(reader: Codec<T, In>, writerSchema: unknown, writerFingerprint: string): Codec<T, In> {
  if (writerFingerprint === reader.fingerprint) return reader;
  if (writerFingerprint === 'raw' || reader.fingerprint === 'raw') {
    throw new SchemaMismatchError('<root>', `writer is ${writerFingerprint === 'raw' ? 'raw bytes' : 'Avro'}, reader is ${reader.fingerprint === 'raw' ? 'raw bytes' : 'Avro'}`);
  }
  return reader.resolve(writerSchema as Schema);
}
