/**
 * A MSG envelope written into a ring and read out of it in place: the same
 * bytes as EnvelopeCodec's (./envelope.ts), without the Envelope object and
 * the message's own body buffer — the message is encoded by its mailbox
 * codec straight behind the header, and decoded by it straight from the
 * ring (bench/README.md, `process`: the direct path).
 */
import type { Codec } from '../core/codec';
import { MAX_LONG, scanVarint, unzigzag, varLongBytes, writeVarLong, type Cursor } from '../core/varint';
import { Kind } from './envelope';

/** Bytes past the end that a header written past a short view is counted as missing, at least (the body is not known yet). */
const UNKNOWN_BODY = 64;

/**
 * The record of one MSG, as `RingWriter.tryWrite` takes a codec: set its
 * fields, then write it. One per thread, reused: nothing is made per message.
 */
export class MessageRecord {
  to = 0;
  tag = 0;
  codec: Codec<unknown> | undefined;
  message: unknown;

  /** Whether a MSG to `to` with `tag` takes this path (the envelope codec's fast path covers its numbers). */
  static fits(to: number, tag: number): boolean {
    return to >= 0 && to <= MAX_LONG && Math.abs(tag) <= MAX_LONG;
  }

  /** As a codec's `encodeInto`: the end, or the negated count of bytes missing past the buffer's end. */
  encodeInto(_: unknown, buf: Buffer, offset: number): number {
    let pos = writeVarLong(buf, offset, Kind.MSG);
    pos = writeVarLong(buf, pos, this.to);
    buf[pos++] = 0; // from
    pos = writeVarLong(buf, pos, this.tag);
    buf[pos++] = 0; // call
    buf[pos++] = 0; // n
    buf[pos++] = 0; // text: ''
    // The body's length goes first: one byte under 64 bytes, else the body moves up to make room.
    const at = pos + 1;
    if (at >= buf.length) return buf.length - at - UNKNOWN_BODY;
    const end = this.codec!.encodeInto(this.message, buf, at);
    if (end < 0) return end - 2;
    const length = end - at;
    if (length < 64) {
      buf[pos] = length << 1;
      return end;
    }
    const extra = varLongBytes(length) - 1;
    if (end + extra > buf.length) return buf.length - (end + extra);
    buf.copyWithin(at + extra, at, end);
    writeVarLong(buf, pos, length);
    return end + extra;
  }
}

/** A MSG read in place: who it is for, its tag, and where its body lies. */
export interface MessageAt {
  to: number;
  tag: number;
  start: number;
}

/**
 * Reads the header of the record `data[start, end)` if it is a MSG without
 * text in the shape MessageRecord writes (kind, from, call, n and text one
 * byte each; `to`, `tag` and the length varints whose zig-zag forms are
 * under 2^49 · 128, as `scanVarint` reads); false for any other, or one cut
 * short, which goes through EnvelopeCodec. `into` is reused. The fixed bytes
 * are compared, not read as varints: eight reads were ~0.1 µs of a hop.
 */
export function readMessage(data: Uint8Array, start: number, end: number, into: MessageAt, at: Cursor): boolean {
  // kind MSG (zig-zag 2), then `to`
  if (end - start < 8 || data[start] !== 2) return false;
  at.pos = start + 1;
  const to = scanVarint(data, at, end);
  let pos = at.pos;
  if (!(to >= 0) || pos >= end || data[pos] !== 0) return false; // from: 0
  at.pos = pos + 1;
  const tag = scanVarint(data, at, end);
  pos = at.pos;
  // call, n: 0; text: ''
  if (!(tag >= 0) || pos + 3 > end || data[pos] !== 0 || data[pos + 1] !== 0 || data[pos + 2] !== 0) return false;
  at.pos = pos + 3;
  const length = scanVarint(data, at, end);
  if (!(length >= 0) || at.pos + length / 2 !== end || length % 2 !== 0) return false;
  into.to = unzigzag(to);
  into.tag = unzigzag(tag);
  into.start = at.pos;
  return true;
}
