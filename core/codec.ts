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
 * Trade.decode(bytes); // { id: 1, sym: 'ACME' }
 * ```
 */
import { createHash } from 'node:crypto';
import * as avro from 'avsc';
import { DecodeError, EncodeError, SchemaMismatchError } from './errors';
import type { Infer, Schema } from './schema';

/** Encodes values of `T` into bytes and decodes them back. */
export interface Codec<T> {
  /** The schema, in avsc's canonical JSON form (`{ type: 'bytes', raw: true }` for the raw codec). */
  readonly schema: unknown;
  /** Hex SHA-256 of the canonical schema: two codecs with equal fingerprints read each other's bytes as is. */
  readonly fingerprint: string;
  /**
   * Encodes `value` into a new buffer.
   * @throws EncodeError naming the field that does not fit.
   */
  encode(value: T): Buffer;
  /**
   * Encodes `value` straight into `buffer` at `offset`, with no intermediate
   * buffer. Returns the offset just past the last byte written; when the room
   * is too small, returns a negative number whose magnitude is the count of
   * missing bytes (the bytes already written are garbage), so the caller can
   * grow its buffer or wait for room and try again.
   * @throws EncodeError naming the field that does not fit.
   */
  encodeInto(value: T, buffer: Buffer, offset: number): number;
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
  resolve(writer: Schema | Codec<unknown>): Codec<T>;
  /** @throws EncodeError when `value` does not fit the schema. */
  check(value: unknown): asserts value is T;
}

/** The type of the values a codec carries: `ValueOf<typeof Trade>`. */
export type ValueOf<C> = C extends Codec<infer T> ? T : never;

/**
 * A codec for an Avro schema. A schema written as a literal with `as const`
 * gives the value type (see `Infer`).
 *
 * @param schema an Avro schema in its JSON form, best written `as const`
 * @param options see {@link CodecOptions}
 */
export function codec<const S extends Schema>(schema: S, options: CodecOptions = {}): Codec<Infer<S>> {
  const made: Codec<unknown> = new AvroCodec(avro.Type.forSchema(schema as avro.Schema), undefined, options.validate ?? true);
  // Infer<S> cannot be related to the implementation's type generically
  // (it recurses through Schema), so the bridge is one cast, here.
  return made as never;
}

/** A codec over an existing avsc `Type`, for schemas built with avsc itself. */
export function codecOfType<T = unknown>(type: avro.Type, options: CodecOptions = {}): Codec<T> {
  return new AvroCodec<T>(type, undefined, options.validate ?? true);
}

/** Options of {@link codec}. */
export interface CodecOptions {
  /**
   * Check each value against the schema before encoding it, so a value that
   * does not fit fails with an `EncodeError` naming the field. Default `true`;
   * `false` is faster, but only for values known to fit: avsc may then write
   * garbage instead of failing.
   */
  validate?: boolean;
}

/** Is `x` a codec? */
export function isCodec(x: unknown): x is Codec<unknown> {
  return x instanceof AvroCodec || x instanceof RawCodec;
}

class AvroCodec<T> implements Codec<T> {
  readonly schema: unknown;
  readonly fingerprint: string;

  constructor(
    readonly type: avro.Type,
    private readonly resolver: avro.Resolver | undefined,
    private readonly validate: boolean,
  ) {
    this.schema = type.schema();
    this.fingerprint = fingerprintOf(type);
  }

  encode(value: T): Buffer {
    if (this.validate) this.check(value);
    try {
      return this.type.toBuffer(value);
    } catch (err) {
      throw this.encodeFailure(value, err);
    }
  }

  encodeInto(value: T, buffer: Buffer, offset: number): number {
    if (this.validate) this.check(value);
    try {
      return this.type.encode(value, buffer, offset);
    } catch (err) {
      throw this.encodeFailure(value, err);
    }
  }

  decode(buffer: Uint8Array, start = 0, end = buffer.length): T {
    const buf = asBuffer(buffer);
    if (start < 0 || end > buf.length || start > end) {
      throw new DecodeError(`range [${start}, ${end}) is outside a buffer of ${buf.length} bytes`);
    }
    let result: { value: unknown; offset: number };
    try {
      // avsc reads from `start` and stops where the value ends; it cannot be
      // told where to stop. A value that runs past `end` (into the next
      // frame) is caught below by its end offset; one that runs past the
      // buffer comes back as offset -1. No view is made: a fresh Buffer per
      // value costs about a third of the decode.
      result = this.type.decode(buf, start, this.resolver);
    } catch (err) {
      throw new DecodeError(`bytes do not decode as ${typeName(this.type)}: ${(err as Error).message}`, { cause: err });
    }
    if (result.offset < 0 || result.offset > end) {
      throw new DecodeError(`truncated: ${end - start} bytes do not hold a whole ${typeName(this.type)}`);
    }
    if (result.offset !== end) {
      throw new DecodeError(`${end - result.offset} trailing bytes after a ${typeName(this.type)}`);
    }
    return result.value as T;
  }

  resolve(writer: Schema | Codec<unknown>): Codec<T> {
    const writerType = isCodec(writer)
      ? writer instanceof AvroCodec
        ? writer.type
        : undefined
      : avro.Type.forSchema(writer as avro.Schema);
    if (writerType === undefined) {
      throw new SchemaMismatchError('<root>', `raw bytes cannot be read as ${typeName(this.type)}`);
    }
    if (fingerprintOf(writerType) === this.fingerprint) return this;
    let resolver: avro.Resolver;
    try {
      resolver = this.type.createResolver(writerType);
    } catch (err) {
      const found = findMismatch(this.type, writerType, typeName(this.type));
      throw new SchemaMismatchError(found?.path ?? typeName(this.type), found?.reason ?? (err as Error).message);
    }
    return new AvroCodec<T>(this.type, resolver, this.validate);
  }

  check(value: unknown): asserts value is T {
    // The fast check first; avsc tracks field paths only when given a hook,
    // which costs on every value, so the hook runs only to explain a failure.
    if (this.type.isValid(value)) return;
    let failure: EncodeError | undefined;
    const root = typeName(this.type);
    const ok = this.type.isValid(value, {
      errorHook: (path: string[], actual: unknown, type: avro.Type) => {
        failure ??= new EncodeError([root, ...path].join('.'), typeName(type), actual);
      },
    });
    if (!ok) throw failure ?? new EncodeError(root, root, value);
  }

  private encodeFailure(value: unknown, err: unknown): EncodeError {
    const failure = new EncodeError(typeName(this.type), typeName(this.type), value);
    (failure as { cause?: unknown }).cause = err;
    return failure;
  }
}

/**
 * The raw-bytes codec: for payloads that are already bytes. Bytes go on the
 * wire as they are (no length prefix, no schema); decode returns a copy.
 */
class RawCodec implements Codec<Uint8Array> {
  readonly schema = { type: 'bytes', raw: true } as const;
  readonly fingerprint = 'raw';

  encode(value: Uint8Array): Buffer {
    this.check(value);
    return Buffer.from(value);
  }

  encodeInto(value: Uint8Array, buffer: Buffer, offset: number): number {
    this.check(value);
    const end = offset + value.byteLength;
    if (end > buffer.length) return buffer.length - end;
    buffer.set(value, offset);
    return end;
  }

  decode(buffer: Uint8Array, start = 0, end = buffer.length): Buffer {
    if (start < 0 || end > buffer.length || start > end) {
      throw new DecodeError(`range [${start}, ${end}) is outside a buffer of ${buffer.length} bytes`);
    }
    return Buffer.from(buffer.subarray(start, end));
  }

  resolve(writer: Schema | Codec<unknown>): Codec<Uint8Array> {
    if (writer === this || (isCodec(writer) && writer.fingerprint === this.fingerprint)) return this;
    throw new SchemaMismatchError('<root>', 'only raw bytes can be read by the raw codec');
  }

  check(value: unknown): asserts value is Uint8Array {
    if (!(value instanceof Uint8Array)) throw new EncodeError('<raw>', 'Uint8Array', value);
  }
}

/** The raw-bytes codec, for payloads that are already bytes. */
export const raw: Codec<Uint8Array> = new RawCodec();

/** The codec a receiver should use for a writer's schema, given its own. */
export function readerFor<T>(reader: Codec<T>, writerSchema: unknown, writerFingerprint: string): Codec<T> {
  if (writerFingerprint === reader.fingerprint) return reader;
  if (writerFingerprint === 'raw' || reader.fingerprint === 'raw') {
    throw new SchemaMismatchError('<root>', `writer is ${writerFingerprint === 'raw' ? 'raw bytes' : 'Avro'}, reader is ${reader.fingerprint === 'raw' ? 'raw bytes' : 'Avro'}`);
  }
  return reader.resolve(writerSchema as Schema);
}

function fingerprintOf(type: avro.Type): string {
  return createHash('sha256').update(JSON.stringify(type.schema())).digest('hex');
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function typeName(type: avro.Type): string {
  if (type.name) return type.name;
  if (type.typeName.startsWith('union')) return (type as unknown as { types: avro.Type[] }).types.map(typeName).join(' | ');
  return type.typeName;
}

/**
 * Walks a reader and a writer type side by side to name the first field the
 * reader cannot resolve; avsc's own message does not say where.
 */
function findMismatch(reader: avro.Type, writer: avro.Type, path: string): { path: string; reason: string } | undefined {
  if (isRecord(reader) && isRecord(writer)) {
    const writerFields = new Map<string, avro.Type>();
    for (const f of (writer as avro.types.RecordType).fields) writerFields.set(f.name, f.type);
    for (const field of (reader as avro.types.RecordType).fields) {
      const names = [field.name, ...(field.aliases ?? [])];
      const match = names.map((n) => writerFields.get(n)).find((t) => t !== undefined);
      const at = `${path}.${field.name}`;
      if (match === undefined) {
        if (field.defaultValue() === undefined) {
          return { path: at, reason: 'the writer has no such field and the reader gives no default' };
        }
        continue;
      }
      const inner = findMismatch(field.type, match, at);
      if (inner) return inner;
    }
    return undefined;
  }
  try {
    reader.createResolver(writer);
    return undefined;
  } catch (err) {
    if (isKind(reader, 'array') && isKind(writer, 'array')) {
      return findMismatch((reader as avro.types.ArrayType).itemsType, (writer as avro.types.ArrayType).itemsType, `${path}[]`);
    }
    if (isKind(reader, 'map') && isKind(writer, 'map')) {
      return findMismatch((reader as avro.types.MapType).valuesType, (writer as avro.types.MapType).valuesType, `${path}{}`);
    }
    return { path, reason: `cannot read ${describeType(writer)} as ${describeType(reader)}` };
  }
}

function isRecord(type: avro.Type): boolean {
  return type.typeName === 'record' || type.typeName === 'error';
}

function isKind(type: avro.Type, kind: string): boolean {
  return type.typeName === kind;
}

function describeType(type: avro.Type): string {
  return type.name ? `${type.typeName} ${type.name}` : typeName(type);
}


