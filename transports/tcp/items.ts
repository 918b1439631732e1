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
 * Decodes the items of a checked NEXT body into `into`, each through `guard`
 * first when the writer's schema needs one; returns the body's bytes (the
 * unit of credit).
 * @throws DecodeError when an item is not a value of the writer's schema (the items before it are in `into`)
 */
export function decodeItems<T>(reader: Codec<T>, guard: Guard | undefined, buf: Buffer, start: number, end: number, into: T[]): number {
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
    into.push(reader.decode(buf, itemStart, itemEnd));
    pos = itemEnd;
  }
  return end - start;
}
