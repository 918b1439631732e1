/**
 * The floor: the smallest single-producer single-consumer ring in a
 * SharedArrayBuffer that still moves real records, written for the bench
 * and nothing else (no kinds, no endings, no schema handshake, no
 * validation, no backpressure beyond "full"). Shared by the main side
 * (bench/floor/*.ts) and the floor workers (bench/workers/floor-*.worker.ts).
 *
 * Layout: an Int32Array header of two cache lines — `HEAD` (bytes written,
 * published by the writer) and `TAIL` (bytes consumed, by the reader) —
 * then `bytes` of data. Two record forms:
 *   - variable: a 4-byte little-endian length, then the body; a length of
 *     0xffffffff means "skip to the start of the ring" (a record never wraps);
 *   - fixed: `slot` bytes per record, no length (the minimal ring).
 * Cursors are 32-bit byte counts that wrap; positions are `cursor % bytes`
 * with `bytes` a power of two.
 */
import type * as avro from 'avsc';

export const HEAD = 0;
export const TAIL = 16; // its own 64-byte line
const HEADER_BYTES = 128;
export const SKIP = 0xffffffff;

/** Both views of one floor ring. */
export interface FloorRing {
  readonly sab: SharedArrayBuffer;
  readonly header: Int32Array;
  readonly data: Buffer;
  readonly mask: number;
}

/** A new ring of `bytes` data bytes (a power of two). */
export function floorRing(bytes: number): SharedArrayBuffer {
  if ((bytes & (bytes - 1)) !== 0) throw new RangeError('floor ring bytes must be a power of two');
  return new SharedArrayBuffer(HEADER_BYTES + bytes);
}

/** Maps a ring made by {@link floorRing}. */
export function mapFloorRing(sab: SharedArrayBuffer): FloorRing {
  const bytes = sab.byteLength - HEADER_BYTES;
  return { sab, header: new Int32Array(sab, 0, HEADER_BYTES / 4), data: Buffer.from(sab, HEADER_BYTES, bytes), mask: bytes - 1 };
}

/** How long a floor side busy-polls before it sleeps: long enough that a round trip never pays a wake-up while the other side is running. */
const SPIN_MS = 1;

/** Waits (spin up to SPIN_MS, then `Atomics.wait`) until `header[index]` is no longer `seen`; false after `giveUpMs`. */
export function waitChange(header: Int32Array, index: number, seen: number, giveUpMs = 10_000): boolean {
  const since = performance.now();
  while (Atomics.load(header, index) === seen) {
    const waited = performance.now() - since;
    if (waited < SPIN_MS) continue;
    if (waited > giveUpMs) return false;
    Atomics.wait(header, index, seen, 50);
  }
  return true;
}

/** Waits until `need` bytes are free after cursor `head` in `ring` (publishing what is written first, so the reader can free them). */
export type WaitForRoom = (ring: FloorRing, head: number, need: number) => void;

/**
 * Writes `value` as one variable record (a u32 length, then `type.encode`'s bytes) at cursor `head`, after a
 * SKIP to the start of the ring when fewer than `max` bytes (length included) are left before its end: a record
 * never wraps. Returns the cursor after it (published by the caller).
 * @throws Error when the value takes more than `max` bytes
 */
export function writeRecord(ring: FloorRing, head: number, type: avro.Type, value: unknown, max: number, room: WaitForRoom): number {
  const { data, mask } = ring;
  const bytes = mask + 1;
  let at = head & mask;
  if (bytes - at < max) {
    room(ring, head, bytes - at);
    data.writeUInt32LE(SKIP, at);
    head = (head + (bytes - at)) | 0;
    at = 0;
  }
  room(ring, head, max);
  const end = type.encode(value, data, at + 4);
  if (end < 0) throw new Error(`a floor record took more than ${max} bytes`); // avsc's "no room"
  data.writeUInt32LE(end - at - 4, at);
  return (head + (end - at)) | 0;
}
