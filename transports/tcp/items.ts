/**
 * The body of a TCP NEXT frame: one or more items, each an Avro long byte
 * count then that many bytes of one value. `checkItems` polices a body as it
 * arrives (before it is held or decoded); `decodeItems` decodes one.
 */
import type { Codec } from '../../core/codec';
import { FrameError } from '../../core/errors';
import { readVarLong } from '../../core/varint';
import type { Guard } from '../../core/bounded';
import { TCP_HEADER } from './wire';

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
 * A value of the raw codec that is the only item of a frame filling its
 * whole buffer is delivered as a view of that buffer (`buf.subarray`), not
 * as a copy. That is the case of a frame assembled from two socket reads
 * (frame-reader.ts allocates it for that frame alone: every 64 KiB value,
 * reads being 64 KiB) and of a socket read holding exactly one frame. The
 * view is still a buffer of the application's own: the frame reader never
 * writes a buffer it has visited, and no other value or held frame lies in
 * it, so the application may keep it, write it, or even transfer its
 * `ArrayBuffer` (which holds only the frame's header besides it). Any other
 * raw value is copied (a frame sharing its read with others). For 64 KiB
 * values the copy cost the receiver a zero-filled allocation and a copy each.
 */
function ownsBuffer(buf: Buffer, bodyStart: number, itemEnd: number): boolean {
  return buf.byteOffset === 0 && bodyStart === TCP_HEADER && itemEnd === buf.buffer.byteLength;
}

export function decodeItems<T>(reader: Codec<T>, guard: Guard | undefined, buf: Buffer, start: number, end: number, into: T[]): number {
  const rawAlone = reader.fingerprint === 'raw' && ownsBuffer(buf, start, end);
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
    // The only item when it ends the body that began at `start` (checkItems vouched for the body).
    into.push(rawAlone && pos === start && itemEnd === end ? (buf.subarray(itemStart, itemEnd) as T) : reader.decode(buf, itemStart, itemEnd));
    pos = itemEnd;
  }
  return end - start;
}
