/**
 * The `tcp` suite's bare baseline: what a careful hand-written program does
 * to move Avro records or byte payloads over a plain `net` socket, with no
 * rxwire in the way. Shared by the main side (the senders) and the
 * `tcp-bare-count` worker (the parsers).
 *
 * Wire format: each record is `u32 LE length` + that many bytes (an Avro
 * value, or a raw payload). Nothing else: no kind byte, no channel, no
 * credit, no schema exchange; TCP's own flow control is the only
 * backpressure.
 *
 *   - {@link BatchWriter}: records encoded straight into one reusable arena
 *     (avsc `Type.encode` into the buffer, no intermediate Buffer per value),
 *     written ~64 KiB at a time, honouring `write()`'s return value and
 *     `'drain'`.
 *   - {@link FrameWriter}: already-made payloads (64 KiB), each written as a
 *     4-byte header and the payload itself, corked together (one `writev`),
 *     no copy.
 *   - {@link RecordParser}: splits the byte stream back into records,
 *     records straddling chunk boundaries included, and hands each one over
 *     as `(buffer, start, end)`; a record inside one chunk is not copied.
 */
import type { Socket } from 'node:net';
import * as avro from 'avsc';
import { Trade } from '../trade';

/** Bytes of the length prefix in front of every record. */
export const PREFIX = 4;

/** Bytes per `write()` of the batching writer (one socket write per batch). */
export const BATCH_BYTES = 64 * 1024;

/**
 * The avsc `Type` of the Trade schema, as rxwire's `Trade` codec builds it
 * (`Type.forSchema` of the same schema). The baseline calls it directly:
 * `encode` into a buffer (no validation: avsc's own fast path) and `decode`.
 */
export function tradeType(): avro.Type {
  return avro.Type.forSchema(Trade.schema as avro.Schema);
}

/** What a {@link BatchWriter} writes values with: avsc's `Type.encode` shape. */
export type EncodeInto<T> = (value: T, buffer: Buffer, offset: number) => number;

/**
 * Writes length-prefixed records to a socket in batches of up to
 * `batchBytes`, encoding each value straight into a reusable arena.
 *
 * Reuse is safe because a chunk given to `write()` stays counted in
 * `socket.writableLength` until the kernel has taken all of it, and chunks
 * complete in order: the bytes still pending are always the last
 * `writableLength` bytes written. After a `write()` that returns false the
 * writer waits for `'drain'` (nothing pending); after one that returns true
 * fewer than `writableHighWaterMark` bytes are pending, so an arena of
 * `writableHighWaterMark + 2 × batchBytes` never overwrites a pending byte.
 */
export class BatchWriter<T> {
  private readonly arena: Buffer;
  /** Where the batch being filled starts in the arena. */
  private start = 0;
  /** Where the next record's prefix goes. */
  private at = 0;
  /** The end of the batch being filled. */
  private limit: number;

  constructor(
    private readonly socket: Socket,
    private readonly encode: EncodeInto<T>,
    private readonly batchBytes = BATCH_BYTES,
  ) {
    this.arena = Buffer.allocUnsafe(socket.writableHighWaterMark + 2 * batchBytes);
    this.limit = batchBytes;
  }

  /** Writes `values[i & mask]` for i in [from, to), waiting for `'drain'` whenever `write()` says so. */
  async writeRange(values: readonly T[], mask: number, from: number, to: number): Promise<void> {
    let i = from;
    while (i < to) {
      i = this.fill(values, mask, i, to);
      if (i < to && !this.flush()) await drained(this.socket);
    }
  }

  /** Writes what is batched; resolves when the socket has no more than its high-water mark pending. */
  async end(): Promise<void> {
    if (!this.flush()) await drained(this.socket);
  }

  /**
   * Encodes values from `i` on into the current batch until it is full or
   * `to` is reached; returns the index of the first value not written.
   */
  private fill(values: readonly T[], mask: number, i: number, to: number): number {
    const { arena, encode } = this;
    let at = this.at;
    const limit = this.limit;
    for (; i < to; i++) {
      const end = encode(values[i & mask], arena, at + PREFIX);
      if (end < 0 || end > limit) {
        // Does not fit in what is left of this batch. A record larger than
        // a whole batch is the caller's mistake (batchBytes is for small records).
        if (at === this.start) throw new RangeError(`a record does not fit in a batch of ${this.batchBytes} bytes`);
        break;
      }
      arena.writeUInt32LE(end - at - PREFIX, at);
      at = end;
    }
    this.at = at;
    return i;
  }

  /** Writes the current batch (if any) and starts the next one; returns `write()`'s verdict. */
  private flush(): boolean {
    if (this.at === this.start) return true;
    const ok = this.socket.write(this.arena.subarray(this.start, this.at));
    // Next batch: right after this one, or at the arena's start when a whole
    // batch no longer fits before its end.
    this.start = this.at + this.batchBytes <= this.arena.length ? this.at : 0;
    this.at = this.start;
    this.limit = this.start + this.batchBytes;
    return ok;
  }
}

/**
 * Writes already-made payloads, each as a 4-byte length header and the
 * payload, both handed to the socket as they are (no copy): a group of
 * frames is corked and goes out in one `writev`. Waits for `'drain'`
 * whenever `write()` returns false.
 */
export class FrameWriter {
  /** One header per payload slot, reused (a header is pending as long as its payload). */
  private readonly headers: Buffer[];

  constructor(
    private readonly socket: Socket,
    private readonly payloads: readonly Uint8Array[],
  ) {
    this.headers = payloads.map((p) => {
      const h = Buffer.allocUnsafe(PREFIX);
      h.writeUInt32LE(p.byteLength, 0);
      return h;
    });
  }

  /** Writes payload `i & mask` for i in [from, to). */
  async writeRange(mask: number, from: number, to: number): Promise<void> {
    const { socket, payloads, headers } = this;
    let i = from;
    while (i < to) {
      socket.cork();
      let ok = true;
      for (; i < to && ok; i++) {
        socket.write(headers[i & mask]);
        ok = socket.write(payloads[i & mask]);
      }
      socket.uncork();
      if (!ok) await drained(socket);
    }
  }
}

/**
 * Resolves on the socket's next `'drain'`; rejects if it closes first (the
 * peer went away), so a writer never waits forever.
 */
export function drained(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      socket.off('close', onClose);
      resolve();
    };
    const onClose = () => {
      socket.off('drain', onDrain);
      reject(new Error('the socket closed while waiting for drain'));
    };
    socket.once('drain', onDrain);
    socket.once('close', onClose);
  });
}

/** Receives one record: `buffer[start, end)`. */
export type OnRecord = (buffer: Buffer, start: number, end: number) => void;

/**
 * Splits a stream of length-prefixed records into records. Feed it every
 * chunk in order. A record entirely inside a chunk is handed over in place
 * (a view of the chunk: Node allocates a fresh buffer per read, so a handler
 * may keep it). One that straddles chunks is first assembled: with
 * `fresh: false` in a scratch buffer reused for the next one (the handler
 * must be done with it when it returns: fine for decoding), with
 * `fresh: true` in a buffer of its own that the handler may keep.
 */
export class RecordParser {
  private readonly prefix = Buffer.alloc(PREFIX);
  /** Bytes of a straddling record's prefix held so far (0 when none, or when its body is being held). */
  private prefixHeld = 0;
  /** The straddling record's body being assembled, or undefined. */
  private body: Buffer | undefined;
  private bodyLength = 0;
  private bodyHeld = 0;
  private scratch = Buffer.allocUnsafe(0);

  constructor(
    private readonly onRecord: OnRecord,
    private readonly options: { readonly fresh?: boolean; readonly maxRecord?: number } = {},
  ) {}

  push(chunk: Buffer): void {
    const end = chunk.length;
    let pos = this.prefixHeld > 0 || this.body ? this.completeHeld(chunk) : 0;
    const onRecord = this.onRecord;
    while (pos + PREFIX <= end) {
      const start = pos + PREFIX;
      const next = start + chunk.readUInt32LE(pos);
      if (next > end) break;
      onRecord(chunk, start, next);
      pos = next;
    }
    if (pos < end) this.hold(chunk, pos);
  }

  /** Whether no partial record is held (the stream ended on a record boundary). */
  get idle(): boolean {
    return this.prefixHeld === 0 && this.body === undefined;
  }

  /** Adds the start of `chunk` to the held record; returns where the rest of the chunk starts (its length if all used). */
  private completeHeld(chunk: Buffer): number {
    let pos = 0;
    if (this.body === undefined) {
      const take = Math.min(PREFIX - this.prefixHeld, chunk.length);
      chunk.copy(this.prefix, this.prefixHeld, 0, take);
      this.prefixHeld += take;
      pos = take;
      if (this.prefixHeld < PREFIX) return pos;
      this.prefixHeld = 0;
      this.startBody(this.prefix.readUInt32LE(0));
    }
    const body = this.body!;
    const take = Math.min(this.bodyLength - this.bodyHeld, chunk.length - pos);
    chunk.copy(body, this.bodyHeld, pos, pos + take);
    this.bodyHeld += take;
    pos += take;
    if (this.bodyHeld === this.bodyLength) {
      this.body = undefined;
      this.onRecord(body, 0, this.bodyLength);
    }
    return pos;
  }

  /** Keeps `chunk[from, end)`, the start of a record that goes on in the next chunk. */
  private hold(chunk: Buffer, from: number): void {
    const end = chunk.length;
    if (end - from < PREFIX) {
      chunk.copy(this.prefix, 0, from, end);
      this.prefixHeld = end - from;
      return;
    }
    this.startBody(chunk.readUInt32LE(from));
    chunk.copy(this.body!, 0, from + PREFIX, end);
    this.bodyHeld = end - from - PREFIX;
  }

  private startBody(length: number): void {
    const max = this.options.maxRecord ?? 16 * 1024 * 1024;
    if (length > max) throw new RangeError(`record of ${length} bytes, more than ${max}`);
    if (this.options.fresh) this.body = Buffer.allocUnsafe(length);
    else {
      if (length > this.scratch.length) this.scratch = Buffer.allocUnsafe(Math.max(length, 2 * this.scratch.length, 256));
      this.body = this.scratch;
    }
    this.bodyLength = length;
    this.bodyHeld = 0;
  }
}
