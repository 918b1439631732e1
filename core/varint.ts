/**
 * Avro's `long`: zig-zag, then 7 bits a byte, low bits first, the high bit
 * set on every byte but the last. Written once here for the code that must
 * read or write lengths without a codec (TCP items, the bounded pre-check).
 * Values are JavaScript numbers, exact up to 2^53.
 */

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
