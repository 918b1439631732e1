/**
 * Faster reads and writes of avsc's `double` and `float`, and of short
 * ASCII strings (core/codec-strings.ts). A profile of the shm reader put half of a Trade's
 * decode in two calls: `Buffer#readDoubleLE` (Node's checked read: ~18 ns a
 * double here) and `Buffer#utf8Slice` (a native call: ~50 ns for a
 * five-letter symbol). The reads below give the same values for the same
 * bytes, in a few nanoseconds:
 *   - a double or float assembled byte by byte in a scratch (~11 ns a
 *     double, against ~18 through `readDoubleLE`'s checks);
 *   - a string of at most ASCII_MAX bytes, all below 0x80, with one
 *     `String.fromCharCode`; anything else through avsc's own read.
 * Past the end of the buffer they do what avsc's do: the position moves
 * past it (the codec reports the value truncated) and 0 is returned.
 */
import * as avro from 'avsc';
import type { Tap } from './codec-tap';
import { CheckedInt, ExactLong, readLongAsDouble } from './codec-long';
import { EncodeError } from './errors';

/**
 * The scratch a number is assembled in, byte by byte (little-endian
 * machines; others use Node's reads). Not a DataView on the buffer: a
 * property added to the rings' data Buffers (to carry one) made every
 * Buffer access on the shm paths polymorphic, and exchange over shm fell
 * from 2.8M to 1.9M records/s (bench/README.md, session 25).
 */
const scratch = new Float64Array(1);
const scratchBytes = new Uint8Array(scratch.buffer);
const scratch32 = new Float32Array(scratch.buffer, 0, 1);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The little-endian double at `buf[pos]` (8 bytes in range). */
export function doubleAt(buf: Buffer, pos: number): number {
  if (!LITTLE_ENDIAN) return buf.readDoubleLE(pos);
  scratchBytes[0] = buf[pos];
  scratchBytes[1] = buf[pos + 1];
  scratchBytes[2] = buf[pos + 2];
  scratchBytes[3] = buf[pos + 3];
  scratchBytes[4] = buf[pos + 4];
  scratchBytes[5] = buf[pos + 5];
  scratchBytes[6] = buf[pos + 6];
  scratchBytes[7] = buf[pos + 7];
  return scratch[0];
}

/** The little-endian float at `buf[pos]` (4 bytes in range). */
export function floatAt(buf: Buffer, pos: number): number {
  if (!LITTLE_ENDIAN) return buf.readFloatLE(pos);
  scratchBytes[0] = buf[pos];
  scratchBytes[1] = buf[pos + 1];
  scratchBytes[2] = buf[pos + 2];
  scratchBytes[3] = buf[pos + 3];
  return scratch32[0];
}

/** Writes `value` as a little-endian double at `buf[pos]` (8 bytes in range). */
export function putDouble(buf: Buffer, pos: number, value: number): void {
  if (!LITTLE_ENDIAN) {
    buf.writeDoubleLE(value, pos);
    return;
  }
  scratch[0] = value;
  buf[pos] = scratchBytes[0];
  buf[pos + 1] = scratchBytes[1];
  buf[pos + 2] = scratchBytes[2];
  buf[pos + 3] = scratchBytes[3];
  buf[pos + 4] = scratchBytes[4];
  buf[pos + 5] = scratchBytes[5];
  buf[pos + 6] = scratchBytes[6];
  buf[pos + 7] = scratchBytes[7];
}

/** Writes `value` as a little-endian float at `buf[pos]` (4 bytes in range). */
export function putFloat(buf: Buffer, pos: number, value: number): void {
  if (!LITTLE_ENDIAN) {
    buf.writeFloatLE(value, pos);
    return;
  }
  scratch32[0] = value;
  buf[pos] = scratchBytes[0];
  buf[pos + 1] = scratchBytes[1];
  buf[pos + 2] = scratchBytes[2];
  buf[pos + 3] = scratchBytes[3];
}

/** avsc's own write of a primitive: throws for a value its type refuses. */
type PrimitiveWrite = (this: avro.Type, tap: Tap, value: unknown) => void;
const avscDoubleWrite = (avro.types.DoubleType.prototype as unknown as { _write: PrimitiveWrite })._write;
const avscFloatWrite = (avro.types.FloatType.prototype as unknown as { _write: PrimitiveWrite })._write;

/** avsc's double type, read and written faster (same schema, bytes and values). */
export class FastDouble extends avro.types.DoubleType {
  _update(resolver: { _read: unknown }, type: avro.Type): void {
    if (!fromLong(resolver, type)) avscDoubleUpdate.call(this, resolver, type);
  }

  _read(tap: Tap): number {
    const pos = tap.pos;
    const end = pos + 8;
    tap.pos = end;
    return end > tap.buf.length ? 0 : doubleAt(tap.buf, pos);
  }

  _write(tap: Tap, value: unknown): void {
    if (typeof value !== 'number') return avscDoubleWrite.call(this, tap, value); // avsc's error
    const pos = tap.pos;
    const end = pos + 8;
    tap.pos = end;
    if (end <= tap.buf.length) putDouble(tap.buf, pos, value);
  }
}

/** avsc's float type, read and written faster (same schema, bytes and values). */
export class FastFloat extends avro.types.FloatType {
  _update(resolver: { _read: unknown }, type: avro.Type): void {
    if (!fromLong(resolver, type)) avscFloatUpdate.call(this, resolver, type);
  }

  _read(tap: Tap): number {
    const pos = tap.pos;
    const end = pos + 4;
    tap.pos = end;
    return end > tap.buf.length ? 0 : floatAt(tap.buf, pos);
  }

  /** A number a float holds: NaN and ±Infinity, and finite numbers within its range (avsc took 1e40 and wrote Infinity). */
  _check(value: unknown, _flags: number, hook?: (value: unknown, type: avro.Type) => void): boolean {
    const ok = typeof value === 'number' && !floatOverflow(value);
    if (!ok && hook) hook(value, this);
    return ok;
  }

  _write(tap: Tap, value: unknown): void {
    if (typeof value !== 'number') return avscFloatWrite.call(this, tap, value);
    if (floatOverflow(value)) throw new EncodeError('float', 'a number within the range of a float (±3.4028234663852886e38)', value);
    const pos = tap.pos;
    const end = pos + 4;
    tap.pos = end;
    if (end <= tap.buf.length) putFloat(tap.buf, pos, value);
  }
}

/** A finite number a float would write as ±Infinity. */
function floatOverflow(value: number): boolean {
  return Number.isFinite(value) && !Number.isFinite(Math.fround(value));
}

/** The longest string read here; a longer one goes through avsc (`utf8Slice` costs the same whatever the length). */
export const ASCII_MAX = 8;

/**
 * The string of the `n` bytes at `buf[pos]` (in range, n ≤ ASCII_MAX) when
 * they are all ASCII; undefined otherwise (the caller reads it as UTF-8).
 */
export function asciiAt(buf: Buffer, pos: number, n: number): string | undefined {
  switch (n) {
    case 0:
      return '';
    case 1: {
      const a = buf[pos];
      return a < 0x80 ? String.fromCharCode(a) : undefined;
    }
    case 2: {
      const a = buf[pos], b = buf[pos + 1];
      return (a | b) < 0x80 ? String.fromCharCode(a, b) : undefined;
    }
    case 3: {
      const a = buf[pos], b = buf[pos + 1], c = buf[pos + 2];
      return (a | b | c) < 0x80 ? String.fromCharCode(a, b, c) : undefined;
    }
    case 4: {
      const a = buf[pos], b = buf[pos + 1], c = buf[pos + 2], d = buf[pos + 3];
      return (a | b | c | d) < 0x80 ? String.fromCharCode(a, b, c, d) : undefined;
    }
    case 5: {
      const a = buf[pos], b = buf[pos + 1], c = buf[pos + 2], d = buf[pos + 3], e = buf[pos + 4];
      return (a | b | c | d | e) < 0x80 ? String.fromCharCode(a, b, c, d, e) : undefined;
    }
    case 6: {
      const a = buf[pos], b = buf[pos + 1], c = buf[pos + 2], d = buf[pos + 3], e = buf[pos + 4], f = buf[pos + 5];
      return (a | b | c | d | e | f) < 0x80 ? String.fromCharCode(a, b, c, d, e, f) : undefined;
    }
    case 7: {
      const a = buf[pos], b = buf[pos + 1], c = buf[pos + 2], d = buf[pos + 3], e = buf[pos + 4], f = buf[pos + 5], g = buf[pos + 6];
      return (a | b | c | d | e | f | g) < 0x80 ? String.fromCharCode(a, b, c, d, e, f, g) : undefined;
    }
    case 8: {
      const a = buf[pos], b = buf[pos + 1], c = buf[pos + 2], d = buf[pos + 3], e = buf[pos + 4], f = buf[pos + 5], g = buf[pos + 6], h = buf[pos + 7];
      return (a | b | c | d | e | f | g | h) < 0x80 ? String.fromCharCode(a, b, c, d, e, f, g, h) : undefined;
    }
    default:
      return undefined;
  }
}

/** avsc's Tap read of a string (a long length, then UTF-8). */
interface StringTap extends Tap {
  readString(): string;
}

/**
 * Reads a string at `tap`: a short ASCII one here (its length a one-byte
 * long, all of it in the buffer), any other through avsc's `readString`.
 */
export function readString(tap: Tap): string {
  const buf = tap.buf;
  const pos = tap.pos;
  const zigzag = buf[pos];
  // A one-byte long of an even zigzag is a length of zigzag / 2 (odd: negative, avsc's to refuse).
  if (zigzag <= 2 * ASCII_MAX && (zigzag & 1) === 0) {
    const end = pos + 1 + (zigzag >> 1);
    if (end <= buf.length) {
      const s = asciiAt(buf, pos + 1, zigzag >> 1);
      if (s !== undefined) {
        tap.pos = end;
        return s;
      }
    }
  }
  return (tap as StringTap).readString();
}

/** avsc's Tap write of a string. */
interface WriteStringTap extends Tap {
  writeString(s: string): void;
}

/** The longest string written here: its length is a one-byte long (zigzag < 0x80). */
const ASCII_WRITE_MAX = 63;

/**
 * Writes a string at `tap`: an ASCII one of at most ASCII_WRITE_MAX
 * characters that fits the buffer byte by byte here (avsc first asks
 * `Buffer.byteLength`), any other through avsc's `writeString`.
 */
export function writeString(tap: Tap, s: string): void {
  const n = s.length;
  const buf = tap.buf;
  const pos = tap.pos;
  if (n <= ASCII_WRITE_MAX && pos + 1 + n <= buf.length) {
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[pos + 1 + i] = c;
    }
    if (i === n) {
      buf[pos] = n << 1;
      tap.pos = pos + 1 + n;
      return;
    }
  }
  (tap as WriteStringTap).writeString(s);
}

/** The avsc `typeHook` part for numbers: the fast double and float, the exact long, the checked int. */
export function fastNumbers(schema: avro.Schema): avro.Type | undefined {
  const name = typeof schema === 'string' ? schema : primitiveName(schema);
  if (name === 'double') return new FastDouble();
  if (name === 'float') return new FastFloat();
  // A long or int with a logicalType too: codecs register no logical types, so avsc would make it a plain one.
  const type = name ?? (schema as { type?: unknown } | null)?.type;
  if (type === 'long') return new ExactLong();
  if (type === 'int') return new CheckedInt();
  return undefined;
}

/** A double or float read from a long writer's bytes: avsc's Tap loses the sign below −2^52 (core/codec-long.ts). */
function fromLong(resolver: { _read: unknown }, type: avro.Type): boolean {
  if (type.typeName !== 'long') return false;
  resolver._read = readLongAsDouble;
  return true;
}
type Update = (this: avro.Type, resolver: unknown, type: avro.Type) => void;
const avscDoubleUpdate = (avro.types.DoubleType.prototype as unknown as { _update: Update })._update;
const avscFloatUpdate = (avro.types.FloatType.prototype as unknown as { _update: Update })._update;

/** `{ type: 'double' }` (without a logical type) names 'double'; anything else undefined. */
function primitiveName(schema: unknown): string | undefined {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return undefined;
  const { type, logicalType } = schema as { type?: unknown; logicalType?: unknown };
  return logicalType === undefined && typeof type === 'string' ? type : undefined;
}
