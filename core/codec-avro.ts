/**
 * The Avro codec: an avsc `Type` that encodes into caller-owned buffers,
 * decodes exactly one value per range, and explains every failure with the
 * user's own type and field (core/codec-explain.ts).
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import * as avro from 'avsc';
import { explainEncode, mismatch, typeName } from './codec-explain';
import { newTap, newTapAt, readerOf, type Tap, type TapReader } from './codec-tap';
import { checkedWriter, type Writer } from './codec-writer';
import { isCodec, type Codec, type EncodeInput } from './codec-types';
import { DecodeError, EncodeError, SchemaMismatchError } from './errors';
import type { Schema } from './schema';
import { copyBytes } from './bytes';
import { typeHook } from './codec-strings';
import { referOnce, withFullNames } from './schema-names';

/** Where `encode` writes before copying out: one per thread. */
const scratch = Buffer.allocUnsafe(4096);
let scratchBusy = false;

export class AvroCodec<T, In = never> implements Codec<T, In> {
  readonly schema: unknown;
  readonly fingerprint: string;
  /** Reused by every encodeInto and decode (one allocation less per value); a nested call makes its own. */
  private readonly tap: Tap = newTap();
  private tapBusy = false;
  /**
   * Writes a value at a Tap: with `validate`, the checked writer that checks
   * each part as it writes it (core/codec-writer.ts: one walk, not `isValid`
   * then a write); without, avsc's own write.
   */
  private readonly writer: Writer;
  /** Reads a value at a Tap: the resolver from the writer's schema, or the type itself. */
  private readonly reader: TapReader;

  constructor(
    readonly type: avro.Type,
    resolver: avro.Resolver | undefined,
    private readonly validate: boolean,
  ) {
    this.schema = type.schema();
    this.fingerprint = fingerprintOf(type);
    this.writer = validate ? checkedWriter(type) : (type as unknown as Writer);
    this.reader = readerOf(type, resolver);
  }

  /**
   * A fresh Buffer of the value's exact size, in an ArrayBuffer of its own.
   * Encoded into a per-thread scratch and copied out (a loop for a short
   * value) into unzeroed memory: avsc's `toBuffer` zeroes its Buffer and
   * copies with a native call. A value larger than the scratch is encoded
   * again into a buffer of the size the first try found missing; an encode
   * nested in another (the scratch is in use) goes through `toBuffer`.
   */
  encode(value: EncodeInput<T, In>): Buffer {
    if (scratchBusy) return this.encodeFresh(value);
    scratchBusy = true;
    let end: number;
    try {
      end = this.encodeInto(value, scratch, 0);
    } finally {
      scratchBusy = false;
    }
    if (end < 0) return this.encodeSized(value, scratch.length - end);
    // Not from Node's shared pool (as `toBuffer`'s is not): the caller may transfer its ArrayBuffer.
    const body = Buffer.allocUnsafeSlow(end);
    copyBytes(body, 0, scratch, 0, end);
    return body;
  }

  /** Encodes into a buffer of its own of `size` bytes, the size the value took in the scratch. */
  private encodeSized(value: EncodeInput<T, In>, size: number): Buffer {
    const body = Buffer.allocUnsafeSlow(size);
    // Another size this time (a getter that answers differently): avsc's way.
    return this.encodeInto(value, body, 0) === size ? body : this.encodeFresh(value);
  }

  private encodeFresh(value: EncodeInput<T, In>): Buffer {
    if (this.validate) this.check(value);
    try {
      return this.type.toBuffer(value);
    } catch (err) {
      throw this.encodeFailure(value, err);
    }
  }

  /**
   * Checks and writes in one walk (see `writer`). When the value does not
   * fit, the bytes from `offset` on may have been written before the part
   * that does not fit was reached; the EncodeError is the one `check` throws.
   */
  encodeInto(value: EncodeInput<T, In>, buffer: Buffer, offset: number): number {
    const tap = this.takeTap(buffer, offset);
    try {
      this.writer._write(tap, value);
    } catch (err) {
      throw this.encodeFailure(value, err);
    } finally {
      this.giveBack(tap);
    }
    // As avsc's `encode`: past the end, the negated count of missing bytes.
    return tap.pos <= buffer.length ? tap.pos : buffer.length - tap.pos;
  }

  decode(buffer: Uint8Array, start = 0, end = buffer.length): T {
    const buf = buffer instanceof Buffer ? buffer : asBuffer(buffer);
    if (start < 0 || end > buf.length || start > end) {
      throw new DecodeError(`range [${start}, ${end}) is outside a buffer of ${buf.length} bytes`);
    }
    // avsc reads from `start` and stops where the value ends; it cannot be
    // told where to stop. A value that runs past `end` (into the next frame)
    // is caught below by its end position; one that runs past the buffer
    // leaves the position past it. No view is made (a fresh Buffer per value
    // costs about a third of the decode), and the Tap is reused: this is the
    // reader's hot path, so the Tap is taken here, not through `takeTap`.
    if (this.tapBusy) return this.decodeNested(buf, start, end);
    const tap = this.tap;
    this.tapBusy = true;
    tap.buf = buf;
    tap.pos = start;
    let value: unknown;
    try {
      value = this.reader._read(tap);
    } catch (err) {
      throw this.decodeFailure(err);
    } finally {
      tap.buf = EMPTY;
      this.tapBusy = false;
    }
    if (tap.pos !== end) throw this.badEnd(tap.pos, start, end);
    return value as T;
  }

  /** A decode inside another (a logical type's hook that uses this codec): a Tap of its own. */
  private decodeNested(buf: Buffer, start: number, end: number): T {
    const tap = newTapAt(buf, start);
    let value: unknown;
    try {
      value = this.reader._read(tap);
    } catch (err) {
      throw this.decodeFailure(err);
    }
    if (tap.pos !== end) throw this.badEnd(tap.pos, start, end);
    return value as T;
  }

  private decodeFailure(err: unknown): DecodeError {
    return new DecodeError(`bytes do not decode as ${typeName(this.type)}: ${(err as Error).message}`, { cause: err });
  }

  /** The value ended at `at`, not at `end`: it ran past the range, or left bytes after it. */
  private badEnd(at: number, start: number, end: number): DecodeError {
    if (at > end) return new DecodeError(`truncated: ${end - start} bytes do not hold a whole ${typeName(this.type)}`);
    return new DecodeError(`${end - at} trailing bytes after a ${typeName(this.type)}`);
  }

  resolve(writer: Schema | Codec<unknown>): Codec<T, In> {
    let writerType: avro.Type;
    if (writer instanceof AvroCodec) writerType = writer.type;
    else if (isCodec(writer) && writer.fingerprint === 'raw') {
      throw new SchemaMismatchError('<root>', `raw bytes cannot be read as ${typeName(this.type)}`);
    } else writerType = writerTypeOf(isCodec(writer) ? writer.schema : writer);
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

  /** The codec's Tap at `buf[pos]`, or a fresh one inside a nested call (a logical type's hook that uses this codec). */
  private takeTap(buf: Buffer, pos: number): Tap {
    if (this.tapBusy) return newTapAt(buf, pos);
    this.tapBusy = true;
    const tap = this.tap;
    tap.buf = buf;
    tap.pos = pos;
    return tap;
  }

  /** Ends a call's use of `tap`: the codec's own lets go of the buffer (it may be large) and is free again. */
  private giveBack(tap: Tap): void {
    if (tap !== this.tap) return;
    tap.buf = EMPTY;
    this.tapBusy = false;
  }

  /**
   * What to throw when writing `value` failed: the EncodeError `check` gives
   * (a checked writer met a part that does not fit), or, for a value that
   * fits (avsc failed some other way), one that carries avsc's error.
   */
  private encodeFailure(value: unknown, err: unknown): EncodeError {
    const root = typeName(this.type);
    return explainEncode(this.type, value, this.validate ? undefined : err) ?? new EncodeError(root, root, value, { cause: err });
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * A schema in avsc's canonical form: full names, no `namespace`, every
 * reference by full name — what a walk of a writer's schema may rely on
 * (transports/tcp/bounded.ts), whatever valid Avro the writer sent. The
 * writer's schema is read as `resolve` reads it (`writerSchema`).
 */
export function canonicalSchema(schema: unknown): unknown {
  return (asCanonical(schema)?.type ?? typeOf(schema)).schema();
}

/**
 * The avsc type of a schema in JSON form: the one way `codec()` and a
 * writer's schema become one (core/schema-names.ts: a dotted name's
 * namespace is its prefix; names avsc would resolve wrongly, and schemas
 * over the bounds, are refused with a TypeError).
 */
export function typeOf(schema: unknown): avro.Type {
  return avro.Type.forSchema(referOnce(schema) as avro.Schema, { typeHook });
}

/**
 * A writer's schema (from a peer, or a codec built elsewhere) written so
 * that `codec()` reads it as `resolve` does. A writer's schema is a
 * canonical form (`codec.schema`, a HELLO's `schema`; the Avro
 * specification's Parsing Canonical Form too), where every name is full:
 * `{"name":"com.x.Outer",…{"name":"Inner",…}}` holds an `Inner` in no
 * namespace (`"namespace": ""` or a `.Inner` reference where it was
 * written), which the Avro rules read as `com.x.Inner` (avsc then found
 * the fingerprint changed, or `duplicate type name` beside a real
 * `com.x.Inner`). So a schema that is the canonical form of its reading
 * with every name full is read that way, and given with those names
 * marked (core/schema-names.ts `withFullNames`); any other is `schema`
 * itself, read by the Avro rules.
 */
export function writerSchema(schema: unknown): unknown {
  return asCanonical(schema)?.marked ?? schema;
}

/** `schema` read as a canonical form with every name full, when it is one and the Avro rules read it otherwise. */
function asCanonical(schema: unknown): { marked: unknown; type: avro.Type } | undefined {
  try {
    const marked = withFullNames(schema);
    if (marked === undefined) return undefined;
    const type = typeOf(marked);
    return JSON.stringify(type.schema()) === JSON.stringify(schema) ? { marked, type } : undefined;
  } catch {
    // Not a canonical form (nor, maybe, a schema): the Avro rules read it, and say what is wrong with it.
    return undefined;
  }
}

/**
 * A writer's schema, as JSON, as `codec()` would take it (`typeOf`) once
 * written out by `writerSchema`.
 * @throws SchemaMismatchError (path `<root>`) when it is not a schema this end can read
 */
function writerTypeOf(schema: unknown): avro.Type {
  try {
    return asCanonical(schema)?.type ?? typeOf(schema);
  } catch (err) {
    throw new SchemaMismatchError('<root>', `the writer's schema is not a valid Avro schema: ${String((err as Error)?.message ?? err).replace(/^codec: /, '')}`);
  }
}

function fingerprintOf(type: avro.Type): string {
  return createHash('sha256').update(JSON.stringify(type.schema())).digest('hex');
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
