/**
 * Avro's `long`: zig-zag, then 7 bits a byte, low bits first, the high bit
 * set on every byte but the last. Written once here for the code that must
 * read or write lengths without a codec (TCP items, the bounded pre-check).
 * Values are JavaScript numbers, exact up to 2^53.
 */
import { DecodeError } from './errors';

/**
 * Reads an Avro long at `pos`. Returns the value and the offset after it, or
 * undefined when the bytes end first or the varint is longer than 8 bytes
 * (beyond 2^53, not a length anyone would accept).
 */
export function readVarLong(buf: Uint8Array, pos: number, end: number): { value: number; next: number } | undefined {
  let n = 0;
  let mul = 1;
  for (let i = 0; i < 8 && pos < end; i++) {
    const b = buf[pos++];
    n += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return { value: n % 2 === 0 ? n / 2 : -(n + 1) / 2, next: pos };
    mul *= 128;
  }
  return undefined;
}

/** avsc's bound on a long given as a number: its zig-zag form must stay a safe integer (larger ones go to avsc). */
export const MAX_LONG = 2 ** 52;

/** Bytes the Avro long `n` takes. */
export function varLongBytes(n: number): number {
  let z = zigzag(n);
  let bytes = 1;
  while (z >= 0x80) {
    z = Math.floor(z / 0x80);
    bytes++;
  }
  return bytes;
}

/** Writes the Avro long `n` at `at` (the caller has made room); returns the offset after it. */
export function writeVarLong(buf: Uint8Array, at: number, n: number): number {
  let z = zigzag(n);
  while (z >= 0x80) {
    buf[at++] = (z % 0x80) | 0x80;
    z = Math.floor(z / 0x80);
  }
  buf[at++] = z;
  return at;
}

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

/** Where one decode reads next: one per call, never shared. */
export interface Cursor {
  pos: number;
}

/**
 * Reads one varint at `at.pos` and moves `at.pos` past it; NaN for one of
 * 2^53 or more (longs up to 2^53 − 2 are taken, whose zig-zag forms are not
 * all safe integers: the caller leaves those rare bytes to the codec, whose
 * long is exact, core/codec-long.ts). 2^53 itself is out too: a form of
 * 2^53 + 1 adds up to it in floating point.
 * @throws DecodeError when the record ends inside the number
 */
export function readVarint(buffer: Uint8Array, at: Cursor, end: number): number {
  const value = scanVarint(buffer, at, end);
  if (value === -1) throw new DecodeError('truncated: the record ends inside a number');
  return value;
}

/**
 * As {@link readVarint}, for a reader with a slower path to fall back on:
 * -1 (and `at.pos` unmoved) when the record ends inside the number, instead
 * of a DecodeError.
 */
export function scanVarint(buffer: Uint8Array, at: Cursor, end: number): number {
  let pos = at.pos;
  let value = 0;
  let scale = 1;
  for (;;) {
    if (pos >= end) return -1;
    const byte = buffer[pos++];
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) break;
    scale *= 0x80;
    if (scale > 2 ** 49) return NaN;
  }
  at.pos = pos;
  return value >= 2 ** 53 ? NaN : value;
}

/** The number a zig-zag varint (`readVarint`) stands for. */
export function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}
