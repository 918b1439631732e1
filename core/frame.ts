/**
 * Frames: the envelope of the port transport, and (with a channel id) of TCP.
 * docs/PROTOCOL.md gives the bytes; this file is the only code that writes
 * them, and frame-reader.ts the only code that parses them. The shm
 * transport keeps its own record layout in the ring (transports/shm/layout.ts)
 * but carries the same HELLO and ERROR bodies.
 *
 *   u32 LE  length   bytes after this field: 1 (kind) + body
 *   u8      kind     one of FrameKind
 *   body             kind-specific (an Avro value for NEXT)
 */
import type { Guard } from './bounded';
import { Buffer } from 'node:buffer';
import { codec, readerFor, type Codec } from './codec';
import { FrameError, SchemaMismatchError, type ErrorData } from './errors';
import { FrameReader, type FrameLayout } from './frame-reader';

/** The kinds of frame. Data kinds (< 0x10) are in the stream; control kinds steer it. */
export const FrameKind = {
  /** body: one Avro value under the writer's schema */
  NEXT: 0x01,
  /** body: empty; the writer's stream completed */
  COMPLETE: 0x02,
  /** body: ErrorRecord; the writer's stream errored */
  ERROR: 0x03,
  /** body: HelloRecord; first frame from each writer */
  HELLO: 0x10,
  /** body: Avro long, bytes of NEXT frames the reader has consumed in all (cumulative) */
  ACK: 0x11,
  /** body: empty; the reader wants nothing more: the writer must stop */
  STOP: 0x12,
  /** body: RejectRecord; the reader cannot read the writer's schema */
  REJECT: 0x13,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/** Bytes before a frame's body: the length and the kind. */
export const FRAME_HEADER = 5;

/** The version this build speaks, sent in HELLO. */
export const PROTOCOL_VERSION = 1;

/** The fields of an error as data, in every record that carries one (ErrorRecord here, RpcError in request/reply). */
export const ERROR_FIELDS = [
  { name: 'name', type: 'string' },
  { name: 'message', type: 'string' },
  { name: 'code', type: ['null', 'string'] },
  { name: 'stack', type: ['null', 'string'] },
] as const;

export const ErrorRecord: Codec<ErrorData> = codec({
  type: 'record',
  name: 'ErrorRecord',
  namespace: 'rxwire',
  fields: ERROR_FIELDS,
} as const);

/** The fields of a HELLO body, in order (TCP's channel HELLO puts the channel's name before them). */
export const HELLO_FIELDS = [
  { name: 'version', type: 'int' },
  { name: 'fingerprint', type: 'string' },
  { name: 'schema', type: 'string' },
  { name: 'window', type: 'long' },
] as const;

export const HelloRecord = codec({ type: 'record', name: 'HelloRecord', namespace: 'rxwire', fields: HELLO_FIELDS } as const);
export type Hello = typeof HelloRecord extends Codec<infer T> ? T : never;

/** The largest window a HELLO carries: avsc writes a long exactly only within ±(2^53 − 2). */
export const MAX_WINDOW = 2 ** 53 - 2;

/** The HELLO a writer of `writer` sends first, announcing `window` bytes. */
export function helloOf(writer: Codec<unknown>, window: number): Hello {
  return { version: PROTOCOL_VERSION, fingerprint: writer.fingerprint, schema: JSON.stringify(writer.schema), window };
}

/**
 * The codec that reads a writer's values, from its HELLO: `reader` itself
 * when the schemas are equal, else `reader` resolved against the writer's.
 * @throws FrameError when the writer speaks another protocol version
 * @throws SchemaMismatchError when the schemas cannot be resolved, or the
 *   writer's is not a valid schema (path `<root>`)
 */
export function readerForHello<T>(reader: Codec<T>, hello: Hello): Codec<T> {
  if (hello.version !== PROTOCOL_VERSION) {
    throw new FrameError(`peer speaks protocol ${hello.version}, this end ${PROTOCOL_VERSION}`);
  }
  try {
    return readerFor(reader, JSON.parse(hello.schema), hello.fingerprint);
  } catch (err) {
    if (err instanceof SchemaMismatchError) throw err;
    throw new SchemaMismatchError('<root>', `the writer's schema is not a valid Avro schema: ${(err as Error).message}`);
  }
}

export const RejectRecord = codec({
  type: 'record',
  name: 'RejectRecord',
  namespace: 'rxwire',
  fields: [
    { name: 'path', type: 'string' },
    { name: 'message', type: 'string' },
  ],
} as const);

export const AckRecord: Codec<number> = codec('long');

const KNOWN = new Set<number>(Object.values(FrameKind));

/**
 * Writes a frame header at `at`: u32 LE length (the bytes after it), u8 kind,
 * and, for a transport whose frames carry one (TCP), u32 LE channel id.
 */
export function writeFrameHeader(buf: Buffer, at: number, kind: number, bodyLength: number, channel?: number): void {
  if (channel === undefined) {
    buf.writeUInt32LE(bodyLength + 1, at);
    buf[at + 4] = kind;
  } else {
    buf.writeUInt32LE(bodyLength + 5, at);
    buf[at + 4] = kind;
    buf.writeUInt32LE(channel, at + 5);
  }
}

/**
 * A growing buffer that values are encoded straight into (no per-value
 * allocation): the one frame writer. `FrameWriter` below writes the port's
 * frames with it; TCP's `FrameOut` (transports/tcp/output.ts) extends it with
 * channel ids and items.
 */
export class EncodeBuffer {
  protected buf: Buffer;
  protected pos = 0;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafeSlow(capacity);
  }

  /** Bytes written since the last take. */
  get size(): number {
    return this.pos;
  }

  /**
   * Encodes `value` at `offset`, growing the buffer until it fits with
   * `slack` bytes to spare after it; returns the offset after the value.
   * @throws EncodeError when the value does not fit the schema (`pos` is unchanged)
   */
  protected encodeAt<T>(codec: Codec<T>, value: T, offset: number, slack = 0): number {
    for (;;) {
      this.ensure(offset + slack);
      const end = codec.encodeInto(value, this.buf, offset);
      if (end >= 0) {
        this.ensure(end + slack);
        return end;
      }
      this.ensure(this.buf.length - end + slack);
    }
  }

  /** Grows the buffer to at least `size` bytes, keeping all of it (a value being encoded lies past `pos`). */
  protected ensure(size: number): void {
    if (size <= this.buf.length) return;
    let next = this.buf.length * 2;
    while (next < size) next *= 2;
    const grown = Buffer.allocUnsafeSlow(next);
    this.buf.copy(grown, 0, 0, this.buf.length);
    this.buf = grown;
  }
}

/**
 * Appends frames to a growing buffer that is handed off whole (transferred)
 * by `take()`. Buffers are never pooled, so transferring one detaches
 * nothing else. Capacity adapts: a batch starts at the size of the last one.
 */
export class FrameWriter extends EncodeBuffer {
  constructor(private readonly minCapacity = 4096) {
    super(minCapacity);
  }

  /** Appends a frame whose body is `value` under `bodyCodec`; returns the frame's size in bytes. */
  write<T>(kind: FrameKind, bodyCodec: Codec<T>, value: T): number {
    const start = this.pos;
    const end = this.encodeAt(bodyCodec, value, start + FRAME_HEADER);
    writeFrameHeader(this.buf, start, kind, end - start - FRAME_HEADER);
    this.pos = end;
    return end - start;
  }

  /**
   * Appends a frame of `kind` whose body is `value` under `bodyCodec` (no
   * codec: an empty body) when the body is at most `maxBody` bytes; returns
   * the frame's size. A larger body is not kept: returns its size negated.
   * @throws EncodeError when the value does not fit the schema (nothing kept)
   */
  writeWithin<T>(kind: FrameKind, maxBody: number, bodyCodec?: Codec<T>, value?: T): number {
    if (!bodyCodec) return this.writeEmpty(kind);
    const before = this.pos;
    const bytes = this.write(kind, bodyCodec, value as T);
    if (bytes - FRAME_HEADER <= maxBody) return bytes;
    this.truncate(before);
    return FRAME_HEADER - bytes;
  }

  /** Appends a frame with an empty body. */
  writeEmpty(kind: FrameKind): number {
    this.ensure(this.pos + FRAME_HEADER);
    writeFrameHeader(this.buf, this.pos, kind, 0);
    this.pos += FRAME_HEADER;
    return FRAME_HEADER;
  }

  /**
   * Leaves `bytes` bytes for a header that the caller fills in after `take()`
   * (NATS puts its message sequence number there); returns their offset.
   */
  reserve(bytes: number): number {
    const at = this.pos;
    this.ensure(at + bytes);
    this.pos += bytes;
    return at;
  }

  /** Drops everything written after `size` bytes (a frame that must not go out). */
  truncate(size: number): void {
    if (size < this.pos) this.pos = size;
  }

  /**
   * Hands off what was written as a string of one char (0–255) per byte,
   * and keeps this buffer for the next frames (port posts a small batch so:
   * structured-cloning a short string costs much less than posting an
   * `ArrayBuffer`, and no fresh buffer is allocated).
   */
  takeLatin1(): string {
    const out = this.buf.toString('latin1', 0, this.pos);
    this.pos = 0;
    return out;
  }

  /** Hands off what was written (the caller owns it) and starts a fresh buffer. */
  take(): Uint8Array {
    const out = new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.pos);
    this.buf = Buffer.allocUnsafeSlow(Math.max(this.minCapacity, this.pos));
    this.pos = 0;
    return out;
  }
}

/** Called for each frame found: its kind and where its body lies. */
export type FrameVisitor = (kind: FrameKind, bodyStart: number, bodyEnd: number) => void;

/** The version-1 frame (the port's): the length and the kind, which must be one of FrameKind. */
export const FRAME_LAYOUT: FrameLayout = {
  header: FRAME_HEADER,
  checkHeader(buf, at) {
    const kind = buf[at + 4];
    if (!KNOWN.has(kind)) throw new FrameError(`unknown frame kind 0x${kind.toString(16)}`);
  },
};

/**
 * Parses a batch of whole frames, calling `visit` for each in order (the
 * one parser, core/frame-reader.ts, with the version-1 layout).
 * @throws FrameError on a truncated or oversized frame or an unknown kind;
 *   frames before the bad one have been visited.
 */
export function parseFrames(batch: Buffer, visit: FrameVisitor, maxFrame = Number.MAX_SAFE_INTEGER): void {
  const reader = new FrameReader(FRAME_LAYOUT, (buf, start, end) => visit(buf[start + 4] as FrameKind, start + FRAME_HEADER, end), maxFrame);
  reader.readBatch(batch);
}

/**
 * `SessionTransport.decodeNext` where a NEXT body is one value (the frames of
 * the port and NATS transports): decodes it into `into`; its credit is the
 * whole frame, header included.
 * @throws DecodeError when the bytes are not a value of the writer's schema
 */
export function decodeFrameValue<T>(reader: Codec<T>, guard: Guard | undefined, buf: Buffer, start: number, end: number, into: T[]): number {
  guard?.(buf, start, end);
  into.push(reader.decode(buf, start, end));
  return end - start + FRAME_HEADER;
}

/** Is this a data kind (part of the stream, subject to the reader's pace)? */
export function isDataKind(kind: FrameKind): boolean {
  return kind < 0x10;
}
