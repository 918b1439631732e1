/**
 * A hand-written encoder and decoder for the request/reply envelope, byte for
 * byte what avsc writes for its schema (request-internals.ts), for the
 * envelopes a round trip is made of: no error. avsc's generated code copies
 * each `bytes` field with a native `Buffer.copy` and allocates through its
 * pool; for bodies of tens of bytes the fixed cost of those calls was a
 * fifth of a request's CPU time. Envelopes carrying an error, and everything
 * that is not encoding or decoding (schema, fingerprint, resolution, checks),
 * go to the avsc codec it wraps.
 *
 * The bytes (Avro binary): `id` long and `kind` int as zig-zag varints,
 * `body` as a varint length and the bytes, `error` as a union index (0: null;
 * 1: an RpcError record follows).
 */
import { Buffer } from 'node:buffer';
import type { Codec } from '../core/codec';
import { DecodeError, type ErrorData } from '../core/errors';
import { copyBytes, bytesOf } from '../core/bytes';
import { MAX_LONG, readVarint, unzigzag, varLongBytes, writeVarLong, type Cursor } from '../core/varint';
import type { Schema } from '../core/schema';

/** One request/reply message. */
export interface RpcEnvelope {
  id: number;
  kind: number;
  body: Buffer;
  error: ErrorData | null;
}

export class EnvelopeCodec implements Codec<RpcEnvelope> {
  readonly schema: unknown;
  readonly fingerprint: string;

  /** @param avro the avsc codec of the same schema, for errors and the rest */
  constructor(private readonly avro: Codec<RpcEnvelope>) {
    this.schema = avro.schema;
    this.fingerprint = avro.fingerprint;
  }

  encode(value: RpcEnvelope): Buffer {
    if (!plain(value)) return this.avro.encode(value);
    const buffer = Buffer.allocUnsafe(sizeOf(value));
    this.encodeInto(value, buffer, 0);
    return buffer;
  }

  encodeInto(value: RpcEnvelope, buffer: Buffer, offset: number): number {
    // Before `plain`, which reads `body` and so would make a ValueEnvelope's bytes.
    if (value instanceof ValueEnvelope && value.unmade) return value.encodeInto(buffer, offset);
    if (!plain(value)) return this.avro.encodeInto(value, buffer, offset);
    return encodePlain(value, buffer, offset);
  }

  decode(buffer: Uint8Array, start = 0, end = buffer.length): RpcEnvelope {
    if (start < 0 || end > buffer.length || start > end) {
      throw new DecodeError(`range [${start}, ${end}) is outside a buffer of ${buffer.length} bytes`);
    }
    // This decode's own cursor: nothing outlives the call, so a decode that
    // runs inside another (a getter of the bytes) leaves it intact.
    const at: Cursor = { pos: start };
    const id = readVarint(buffer, at, end);
    const kindAt = at.pos;
    const kind = id === id ? readVarint(buffer, at, end) : NaN;
    const kindBytes = at.pos - kindAt;
    const length = kind === kind ? readVarint(buffer, at, end) : NaN;
    // Numbers beyond the fast path's range: avsc reads them, or says why not.
    if (length !== length) return this.avro.decode(buffer, start, end);
    // An Avro int takes at most 5 bytes (a longer form of a small number is no int either, as codec('int') says).
    if (kind > 0xffffffff || kindBytes > 5) throw new DecodeError('the envelope kind is not an Avro int');
    const from = at.pos;
    const bodyLength = unzigzag(length);
    if (bodyLength < 0 || bodyLength > end - from) {
      throw new DecodeError(`truncated: an envelope body of ${bodyLength} bytes, ${end - from} left`);
    }
    const errorAt = from + bodyLength;
    if (errorAt >= end) throw new DecodeError('truncated: the envelope ends before its error field');
    if (buffer[errorAt] !== 0) return this.avro.decode(buffer, start, end); // an error record: avsc reads it
    if (errorAt + 1 !== end) throw new DecodeError(`${end - errorAt - 1} trailing bytes after an RpcEnvelope`);
    return { id: unzigzag(id), kind: unzigzag(kind), body: bytesOf(buffer, from, errorAt), error: null };
  }

  resolve(writer: Schema | Codec<unknown>): Codec<RpcEnvelope> {
    const fingerprint = (writer as Codec<unknown>).fingerprint;
    return fingerprint === this.fingerprint ? this : this.avro.resolve(writer);
  }

  check(value: unknown): asserts value is RpcEnvelope {
    this.avro.check(value);
  }
}

/**
 * An outgoing envelope (no error) whose body is `codec`'s encoding of
 * `value`, its bytes not made yet: `rpcCodec` writes the value straight into
 * the transport's buffer behind the envelope's header, with no Buffer of its
 * own and no copy (about 0.1 µs of a request round trip over shm). Reading
 * `body` makes the bytes once (`codec.encode`, which may throw its
 * EncodeError), and from then on those bytes are what goes, as for any
 * envelope. The request client makes these only for a WireSubject, which
 * encodes a value when it takes it, and reads `body` first for one it queues,
 * so what goes is the value as it was when the request was made.
 */
export class ValueEnvelope<V> implements RpcEnvelope {
  readonly error = null;
  private bytes: Buffer | undefined;

  constructor(
    readonly id: number,
    readonly kind: number,
    private readonly codec: Codec<V>,
    private readonly value: V,
  ) {}

  get body(): Buffer {
    return (this.bytes ??= this.codec.encode(this.value));
  }

  /** The body's bytes are not made: `encodeInto` writes the value itself. */
  get unmade(): boolean {
    return this.bytes === undefined;
  }

  /**
   * As `EnvelopeCodec.encodeInto`: `id`, `kind`, the body's length and the
   * value encoded in place, `error` null. The length's one byte is reserved
   * before the value is written (a body under 64 bytes), and the body moved
   * along when its length takes more. Throws the codec's EncodeError.
   */
  encodeInto(buffer: Buffer, offset: number): number {
    const from = offset + varLongBytes(this.id) + varLongBytes(this.kind) + 1;
    if (from >= buffer.length) return encodePlain(this, buffer, offset); // hardly room for the header: the bytes are made
    const pos = writeVarLong(buffer, writeVarLong(buffer, offset, this.id), this.kind);
    const end = this.codec.encodeInto(this.value, buffer, from);
    if (end < 0) {
      const bodyEnd = buffer.length - end; // where the value would end
      return buffer.length - bodyEnd - varLongBytes(bodyEnd - from); // the longer length and the error byte too
    }
    const length = end - from;
    const lengthBytes = varLongBytes(length);
    const last = end + lengthBytes - 1; // where the error byte goes
    if (last >= buffer.length) return buffer.length - last - 1;
    if (lengthBytes > 1) buffer.copyWithin(pos + lengthBytes, from, end);
    writeVarLong(buffer, pos, length);
    buffer[last] = 0; // error: null
    return last + 1;
  }
}

/** Writes a plain envelope (see `plain`) at `buffer[offset]`: as `EnvelopeCodec.encodeInto`. */
function encodePlain(value: RpcEnvelope, buffer: Buffer, offset: number): number {
  const { body } = value;
  // The header first, its size found by writing it (a typed array drops writes past its end), then the room.
  let pos = writeVarLong(buffer, offset, value.id);
  pos = writeVarLong(buffer, pos, value.kind);
  pos = writeVarLong(buffer, pos, body.length);
  const end = pos + body.length + 1;
  if (end > buffer.length) return buffer.length - end;
  copyBytes(buffer, pos, body);
  buffer[pos + body.length] = 0; // error: null
  return end;
}

/**
 * An envelope the fast path writes: no error, an id avsc takes as a long, an int kind,
 * a byte body. Anything else goes to avsc, which fails a value that does not
 * fit with an `EncodeError` naming the field instead of writing garbage.
 */
function plain(value: RpcEnvelope): boolean {
  return (
    value.error === null &&
    Number.isInteger(value.id) &&
    Math.abs(value.id) <= MAX_LONG &&
    (value.kind | 0) === value.kind &&
    value.body instanceof Uint8Array
  );
}

/** The encoded size of a plain envelope. */
function sizeOf(value: RpcEnvelope): number {
  const length = value.body.length;
  return varLongBytes(value.id) + varLongBytes(value.kind) + varLongBytes(length) + length + 1;
}

