/**
 * avsc's `Tap` (a buffer and a position, with Avro's read and write
 * methods) and the `_read` / `_write` of its types: not in avsc's typings,
 * stable across avsc 5.x (its own `Type#decode` and `Type#encode` are these
 * two calls around a fresh Tap and a fresh `{ value, offset }` result).
 * AvroCodec keeps one Tap and reuses it, so a decode allocates only the
 * value, and an encode nothing.
 */
import { Buffer } from 'node:buffer';
import type * as avro from 'avsc';
const utils = require('avsc/lib/utils') as { Tap: new (buf: Buffer, pos: number) => Tap };

/** A position in a buffer; past `buf.length` once a read or write ran off its end. */
export interface Tap {
  buf: Buffer;
  pos: number;
}

/** The internal read of an avsc type or resolver (the writes: core/codec-writer.ts). */
export interface TapReader {
  /** Reads one value at `tap.pos`, moving `tap.pos` past it. */
  _read(tap: Tap): unknown;
}

/** A Tap of its own, for one codec, pointed at each call's buffer. */
export function newTap(): Tap {
  return new utils.Tap(Buffer.alloc(0), 0);
}

/** A Tap at `buf[pos]`. */
export function newTapAt(buf: Buffer, pos: number): Tap {
  return new utils.Tap(buf, pos);
}

/** What reads a value of `type` at a Tap: as the writer's schema when `resolver` is given. */
export function readerOf(type: avro.Type, resolver: avro.Resolver | undefined): TapReader {
  return (resolver ?? type) as unknown as TapReader;
}
