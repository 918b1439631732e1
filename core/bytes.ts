/**
 * Copying a few bytes: the one rule the hand-written codecs (request and
 * process envelopes) and the Avro codec's `encode` share. Up to LOOP_MAX
 * bytes a plain loop beats the native copy's fixed cost, and the bodies of
 * a round trip are tens of bytes.
 */
import { Buffer } from 'node:buffer';

/** Bytes up to this many are copied by a loop. */
const LOOP_MAX = 64;

/** Copies `src[from, to)` to `dst` at `at` (the caller made room). */
export function copyBytes(dst: Uint8Array, at: number, src: Uint8Array, from = 0, to = src.length): void {
  const n = to - from;
  if (n <= LOOP_MAX) {
    for (let i = 0; i < n; i++) dst[at + i] = src[from + i];
  } else {
    dst.set(src.subarray(from, to), at);
  }
}

/** `src[from, to)` as a Buffer of its own (from Node's pool): nothing shared with `src`. */
export function bytesOf(src: Uint8Array, from: number, to: number): Buffer {
  const bytes = Buffer.allocUnsafe(to - from);
  copyBytes(bytes, 0, src, from, to);
  return bytes;
}
