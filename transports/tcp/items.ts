/**
 * The body of a TCP NEXT frame: one or more items, each an Avro long byte
 * count then that many bytes of one value. `checkItems` polices a body as it
 * arrives (before it is held or decoded); `decodeItems` decodes one.
 */
import type { Codec } from '../../core/codec';
import { FrameError } from '../../core/errors';
import { readVarLong } from '../../core/varint';
import type { Guard } from './bounded';

/**
 * Checks that a NEXT body is a sequence of whole items and returns its size.
 * @throws FrameError when a length is malformed, negative or runs past the body
 */
export function checkItems(buf: Buffer, start: number, end: number): number {
  if (start === end) throw new FrameError('a NEXT frame with no item');
  let pos = start;
  while (pos < end) {
    const b = buf[pos];
    if ((b & 0x81) === 0) {
      // A one-byte, non-negative length: the common case, checked without an object.
      pos += 1 + (b >> 1);
      if (pos > end) throw new FrameError(`a malformed item length in a NEXT body`);
      continue;
    }
    const prefix = readVarLong(buf, pos, end);
    if (!prefix || prefix.value < 0 || prefix.next + prefix.value > end) {
      throw new FrameError(`a malformed item length in a NEXT body at offset ${pos - start}`);
    }
    pos = prefix.next + prefix.value;
  }
  return end - start;
}

/**
 * A value of the raw codec at least this large is delivered as a view of
 * the bytes received (`buf.subarray`), not as a copy. It is still a buffer
 * of the application's own: the buffers the frame reader visits are never
 * written again (each socket chunk is a fresh buffer, and a frame that
 * straddles chunks is assembled into a fresh one), so nothing overwrites it.
 * The view keeps the memory it lies in alive (at most 4 values of this size
 * share a 64 KiB chunk); smaller values are copied, so a small value does not
 * hold a large chunk. For 64 KiB values the copy cost the receiver an
 * allocation and a copy per value.
 */
export const RAW_VIEW_BYTES = 16 * 1024;

/**
 * Decodes the items of a checked NEXT body into `into`, each through `guard`
 * first when the writer's schema needs one; returns the body's bytes (the
 * unit of credit). Raw values of RAW_VIEW_BYTES or more are views, not copies.
 * @throws DecodeError when an item is not a value of the writer's schema (the items before it are in `into`)
 */
export function decodeItems<T>(reader: Codec<T>, guard: Guard | undefined, buf: Buffer, start: number, end: number, into: T[]): number {
  const view = reader.fingerprint === 'raw' ? RAW_VIEW_BYTES : Number.POSITIVE_INFINITY;
  let pos = start;
  while (pos < end) {
    // checkItems has vouched for every prefix. One byte (a value under 64 bytes) is the common case: no object.
    const b = buf[pos];
    let itemStart = pos + 1;
    let itemEnd = itemStart + (b >> 1);
    if (b & 0x80) {
      const prefix = readVarLong(buf, pos, end)!;
      itemStart = prefix.next;
      itemEnd = itemStart + prefix.value;
    }
    guard?.(buf, itemStart, itemEnd);
    into.push(itemEnd - itemStart >= view ? (buf.subarray(itemStart, itemEnd) as T) : reader.decode(buf, itemStart, itemEnd));
    pos = itemEnd;
  }
  return end - start;
}
