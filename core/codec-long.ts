/**
 * avsc's `long`, read and written exactly over the whole range avsc takes,
 * −(2^53 − 2) to 2^53 − 2. avsc's Tap works on the zig-zag form (2n for
 * n ≥ 0, 2|n| − 1 below) in floating point: below −2^52 that odd form is
 * past 2^53, where a double holds only even integers, so it was rounded to
 * the even one next to it — a positive number's form. −(2^52 + 1) went out
 * as 2^52, and −(2^53 − 2) as 2^53 − 2, with no error; reading, the sign of
 * such a form was lost the same way. Here a form past 2^53 is kept in two
 * 32-bit halves. Everywhere avsc is exact (every n ≥ −2^52) the bytes and
 * values are avsc's own, and so are its errors.
 *
 * Also avsc's `int`, which read any varint: bytes from a careless or hostile
 * writer decoded an `int` field as 2^41 or 2^32 − 1. Here an `int` is at most
 * five bytes and from −2^31 to 2^31 − 1 (as Avro's Java reader requires),
 * else the codec reports a DecodeError.
 */
import * as avro from 'avsc';
import type { Tap } from './codec-tap';

/** Below this avsc's zig-zag form of a negative long is past 2^53. */
const EXACT_BELOW = -(2 ** 52);
/** avsc's range of a long (`isSafeLong`): the codec carries every integer from −LONG_MAX to LONG_MAX exactly. */
export const LONG_MAX = 2 ** 53 - 2;
const TWO_32 = 2 ** 32;

interface LongTap extends Tap {
  readLong(): number;
}
type LongWrite = (this: avro.Type, tap: Tap, value: unknown) => void;
const avscLongWrite = (avro.types.LongType.prototype as unknown as { _write: LongWrite })._write;

/** avsc's long type, exact over its whole range (same schema; the same bytes wherever avsc's were right). */
export class ExactLong extends avro.types.LongType {
  _read(tap: Tap): number {
    const n = readLongAsDouble(tap);
    if (!(Math.abs(n) <= LONG_MAX)) throw new Error('potential precision loss'); // avsc's error, which the codec reports
    return n;
  }

  _write(tap: Tap, value: unknown): void {
    // avsc writes every value it refuses (its error) and every n ≥ −2^52 right.
    if (typeof value !== 'number' || !(value < EXACT_BELOW) || value % 1 !== 0 || value < -LONG_MAX) return avscLongWrite.call(this, tap, value);
    writeNegativeLong(tap, value);
  }
}

interface IntTap extends Tap {
  readInt(): number;
}

/** avsc's int type, refusing a varint that is not an Avro int (same schema, same bytes). */
export class CheckedInt extends avro.types.IntType {
  _read(tap: Tap): number {
    const at = tap.pos;
    const n = (tap as IntTap).readInt();
    // Past the end of the buffer the codec reports the value truncated, as for any read.
    if (((n | 0) !== n || tap.pos - at > 5) && tap.pos <= tap.buf.length) throw new Error(`invalid int: a varint of ${tap.pos - at} bytes, ${n}`);
    return n;
  }
}

/**
 * The long at `tap.pos` as a number, moving `tap.pos` past it: exact up to
 * 2^53 in magnitude; beyond, rounded as a double must be, with its sign
 * (avsc's read alone loses the sign of a form past 2^53).
 */
export function readLongAsDouble(tap: Tap): number {
  const at = tap.pos;
  const n = (tap as LongTap).readLong();
  // A long is at most 10 bytes; avsc reads on through any run of continuation bytes (80 80 … 00 read as 0).
  // Past the end of the buffer the codec reports the value truncated, as for any read.
  if (tap.pos - at > 10 && tap.pos <= tap.buf.length) throw new Error(`invalid long: a varint of ${tap.pos - at} bytes`);
  // avsc is exact while the form is at most 2^53, i.e. |n| < 2^52; a rounded form reads as ±2^52 or beyond.
  if (n < 2 ** 52 && n > -(2 ** 52)) return n;
  const end = tap.pos;
  tap.pos = at;
  const exact = readLongExact(tap);
  if (exact === exact) return exact;
  tap.pos = end;
  return tap.buf[at] & 1 ? -Math.abs(n) : Math.abs(n); // the form's low bit is the sign
}

/**
 * Reads the long at `tap.pos` exactly (NaN past 2^53 in magnitude, or for a
 * varint of more than 10 bytes), moving `tap.pos` past it; past the end of
 * the buffer the position moves past it, as avsc's reads do.
 */
function readLongExact(tap: Tap): number {
  const buf = tap.buf;
  let pos = tap.pos;
  let lo = 0;
  let hi = 0;
  let shift = 0;
  let byte: number;
  // The low 28 bits, then 4 more into `lo` and the rest into `hi`.
  do {
    byte = pos < buf.length ? buf[pos] : 0;
    pos++;
    if (shift < 28) lo |= (byte & 0x7f) << shift;
    else if (shift === 28) {
      lo = (lo | ((byte & 0x0f) << 28)) >>> 0;
      hi = (byte & 0x7f) >> 4;
    } else if (shift < 53) hi += (byte & 0x7f) * 2 ** (shift - 32);
    else if (byte & 0x7f) hi = Number.POSITIVE_INFINITY;
    shift += 7;
  } while (byte & 0x80 && shift < 70);
  tap.pos = pos;
  if (byte & 0x80 || hi >= 2 ** 22) return Number.NaN; // a form of 2^54 or more: |n| ≥ 2^53
  // The form halved: hi·2^31 + lo/2, and its low bit the sign.
  const half = hi * 2 ** 31 + Math.floor(lo / 2);
  return lo & 1 ? -half - 1 : half;
}

/** Writes n (an integer from −(2^53 − 2) to −2^52) at `tap.pos`: its form 2|n| − 1 in two halves. */
function writeNegativeLong(tap: Tap, n: number): void {
  const m = -n;
  let hi = Math.floor(m / TWO_32);
  let lo = m - hi * TWO_32;
  // 2m − 1 (m ≥ 2^52, so hi ≥ 2^20: the borrow never takes hi below 0).
  hi = hi * 2 + (lo >= 2 ** 31 ? 1 : 0);
  lo = (lo * 2) % TWO_32;
  if (lo === 0) {
    lo = TWO_32 - 1;
    hi -= 1;
  } else lo -= 1;
  const buf = tap.buf;
  let pos = tap.pos;
  while (hi > 0 || lo >= 0x80) {
    buf[pos++] = (lo & 0x7f) | 0x80; // past the end a typed array drops the write; the position still moves
    lo = ((lo >>> 7) | ((hi & 0x7f) << 25)) >>> 0;
    hi = Math.floor(hi / 0x80);
  }
  buf[pos++] = lo;
  tap.pos = pos;
}
