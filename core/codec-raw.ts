/**
 * The raw-bytes codec: for payloads that are already bytes. Bytes go on the
 * wire as they are (no length prefix, no schema); decode returns a copy.
 */
import { Buffer } from 'node:buffer';
import { isCodec, type Codec } from './codec-types';
import { DecodeError, EncodeError, SchemaMismatchError } from './errors';
import type { Schema } from './schema';

export class RawCodec implements Codec<Uint8Array> {
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
