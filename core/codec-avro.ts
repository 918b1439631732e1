/**
 * The Avro codec: an avsc `Type` that encodes into caller-owned buffers,
 * decodes exactly one value per range, and explains every failure with the
 * user's own type and field (core/codec-explain.ts).
 */
import { createHash } from 'node:crypto';
import * as avro from 'avsc';
import { explainEncode, mismatch, typeName } from './codec-explain';
import { isCodec, type Codec, type EncodeInput } from './codec-types';
import { DecodeError, EncodeError, SchemaMismatchError } from './errors';
import type { Schema } from './schema';

export class AvroCodec<T, In = never> implements Codec<T, In> {
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

  encode(value: EncodeInput<T, In>): Buffer {
    if (this.validate) this.check(value);
    try {
      return this.type.toBuffer(value);
    } catch (err) {
      throw this.encodeFailure(value, err);
    }
  }

  encodeInto(value: EncodeInput<T, In>, buffer: Buffer, offset: number): number {
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

  resolve(writer: Schema | Codec<unknown>): Codec<T, In> {
    let writerType: avro.Type;
    if (writer instanceof AvroCodec) writerType = writer.type;
    else if (isCodec(writer)) {
      if (writer.fingerprint === 'raw') throw new SchemaMismatchError('<root>', `raw bytes cannot be read as ${typeName(this.type)}`);
      writerType = avro.Type.forSchema(writer.schema as avro.Schema);
    } else writerType = avro.Type.forSchema(writer as avro.Schema);
    if (fingerprintOf(writerType) === this.fingerprint) return this;
    let resolver: avro.Resolver;
    try {
      resolver = this.type.createResolver(writerType);
    } catch (err) {
      throw mismatch(this.type, writerType, err);
    }
    return new AvroCodec<T, In>(this.type, resolver, this.validate);
  }

  check(value: unknown): asserts value is T {
    // The fast check first; avsc tracks field paths only when given a hook,
    // which costs on every value, so the hook runs only to explain a failure.
    // A cyclic value overflows the stack in avsc: explainEncode names it.
    let ok: boolean;
    try {
      ok = this.type.isValid(value);
    } catch (err) {
      throw explainEncode(this.type, value, err) ?? err;
    }
    if (!ok) throw explainEncode(this.type, value) ?? new EncodeError(typeName(this.type), typeName(this.type), value);
  }

  /** What to throw when avsc fails to write `value` (only seen with `validate: false`). */
  private encodeFailure(value: unknown, err: unknown): EncodeError {
    const root = typeName(this.type);
    return explainEncode(this.type, value, err) ?? new EncodeError(root, root, value, { cause: err });
  }
}

function fingerprintOf(type: avro.Type): string {
  return createHash('sha256').update(JSON.stringify(type.schema())).digest('hex');
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
