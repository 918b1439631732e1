/**
 * The producing side of a ring; the contract and memory ordering are stated
 * in ./ring.ts.
 */
import { Buffer } from 'node:buffer';
import type { Codec } from '../../core/codec';
import { FrameError } from '../../core/errors';
import { CURSOR, DATA_SEEN, DATA_WAITERS, MAX_BODY, PUBLISHED, READER_STATE, RECORD_HEADER, RecordKind, SPACE_WAITERS, SPACE_WANTED, WAKE_SHIFT, align, consumerBase } from './layout';
import type { RingMemory, WaitCell } from './layout';

/** The producing side of a ring. */
export class RingWriter {
  private claimed: number;
  private published: number;
  private gate: number;
  /** The consumer that was slowest at the last `slowest()`. */
  private slowestK = 0;
  /** The last bounded view of the data region (see `bounded`), and where it ends. */
  private boundedView: Buffer = Buffer.alloc(0);
  private boundedEnd = -1;
  /** The DATA_SEEN the consumers were last notified for. */
  private notified: number | undefined;
  /** Bytes the last refused record needed (header and any padding included). */
  wanted = 0;

  constructor(readonly memory: RingMemory) {
    this.claimed = this.published = Atomics.load(memory.header, PUBLISHED);
    this.gate = this.slowest();
  }

  /** Where the next record goes (a wrapping byte position). */
  get position(): number {
    return this.claimed;
  }

  /** Records written but not yet published. */
  get pending(): boolean {
    return this.claimed !== this.published;
  }

  /**
   * Encodes `value` as one record, in place in the ring. Returns false when the
   * ring has no room for it now, having written nothing but, for a record that
   * must wrap, the PAD to the end of the region (published at once).
   * @throws FrameError when the record could never fit this ring
   * @throws EncodeError (from the codec) when the value does not fit its schema
   */
  tryWrite<T>(kind: RecordKind, codec: Codec<T>, value: T): boolean {
    const { capacity, mask, data } = this.memory;
    let refreshed = false;
    /** The record's size, once known (a wrap pads before there is room to encode it again). */
    let known = 0;
    for (;;) {
      const offset = this.claimed & mask;
      const toEnd = capacity - offset;
      const free = capacity - ((this.claimed - this.gate) | 0);
      // Bytes we may write from `offset` without touching unread data.
      const room = Math.min(toEnd, free);
      if (room < toEnd && !refreshed) {
        // Room short of the end: the cached gate may be stale. Reload it once
        // before paying for a bounded view (a third of all writes did).
        this.gate = this.slowest();
        refreshed = true;
        continue;
      }
      if (room >= RECORD_HEADER) {
        const buf = room === toEnd ? data : this.bounded(offset + room);
        const end = codec.encodeInto(value, buf, offset + RECORD_HEADER);
        if (end >= 0) {
          this.commit(offset, kind, end - offset - RECORD_HEADER);
          return true;
        }
        const body = buf.length - offset - RECORD_HEADER - end;
        const size = align(RECORD_HEADER + body);
        if (size > capacity || body > MAX_BODY) {
          throw new FrameError(`a record of ${body} bytes can never fit a ring of ${capacity} bytes`);
        }
        if (room === toEnd && size > toEnd) {
          // It can only go after the end of the data region: pad to the end now and wrap, published at once so
          // that the reader can pass the pad. Waiting for room for both at once hung any record over half the
          // ring whenever the position was mid-ring (pad + record > capacity: never free).
          this.pad(offset, toEnd);
          this.publish();
          known = size;
          continue;
        }
        this.wanted = room === toEnd ? toEnd + size : size;
      } else {
        this.wanted = Math.max(RECORD_HEADER, known);
      }
      if (refreshed) return false;
      this.gate = this.slowest();
      refreshed = true;
    }
  }

  /** Writes a record with an empty body. Returns false when there is no room. */
  tryWriteEmpty(kind: RecordKind): boolean {
    // Records are 8-aligned, so an empty one always fits before the end.
    if (this.memory.capacity - ((this.claimed - this.gate) | 0) < RECORD_HEADER) {
      this.gate = this.slowest();
      if (this.memory.capacity - ((this.claimed - this.gate) | 0) < RECORD_HEADER) {
        this.wanted = RECORD_HEADER;
        return false;
      }
    }
    this.commit(this.claimed & this.memory.mask, kind, 0);
    return true;
  }

  /**
   * Makes every record written so far visible to the consumers: one store,
   * and one notify at most per position a consumer went to sleep at
   * (DATA_SEEN). Why no sleeper is missed (JS Atomics are sequentially
   * consistent): a consumer counts itself in DATA_WAITERS, reads PUBLISHED
   * (seen), stores seen in DATA_SEEN, re-checks, then waits on PUBLISHED
   * while it still holds seen. If it sleeps, every publish of another
   * position came after its wait began (else the wait would have found
   * PUBLISHED changed), so these loads see its count and its DATA_SEEN (or
   * a later sleeper's), and the notify reaches it. A sleeper whose seen is
   * the position just published needs none: it has seen this store. And
   * once notified for a seen value, a sleeper is woken, so the publishes
   * until a consumer sleeps at another position skip it.
   */
  publish(): void {
    if (this.claimed === this.published) return;
    const at = (this.published = this.claimed);
    const { header } = this.memory;
    Atomics.store(header, PUBLISHED, at);
    if (Atomics.load(header, DATA_WAITERS) === 0) return;
    const seen = Atomics.load(header, DATA_SEEN);
    if (seen === at || seen === this.notified) return;
    this.notified = seen;
    Atomics.notify(header, PUBLISHED);
  }

  /** Drops every record written since the last publish (the reader refused them). */
  discard(): void {
    this.claimed = this.published;
  }

  /** Has room for `wanted` bytes appeared since the last refusal? */
  hasRoom(): boolean {
    this.gate = this.slowest();
    return this.memory.capacity - ((this.claimed - this.gate) | 0) >= this.wanted;
  }

  /**
   * Where to sleep while the ring is full: on the slowest consumer's cursor.
   * Also stores SPACE_WANTED (layout.ts), the cursor position at which a
   * consumer wakes this producer: once a quarter of the ring is free (or
   * the `wanted` bytes, if more), never past what is published (a consumer
   * cannot release beyond that). Call it before counting in SPACE_WAITERS.
   */
  spaceCell(): WaitCell {
    this.slowest();
    const { header, capacity } = this.memory;
    const need = Math.min(capacity, Math.max(this.wanted, capacity >> WAKE_SHIFT));
    let at = (this.claimed + need - capacity) | 0;
    if (((at - this.published) | 0) > 0) at = this.published;
    Atomics.store(header, SPACE_WANTED, at);
    return { index: consumerBase(this.slowestK) + CURSOR, waiters: SPACE_WAITERS };
  }

  /** The slowest consumer has released up to SPACE_WANTED: a writer asleep for room is owed its notify. */
  wakeOwed(): boolean {
    return ((this.slowest() - Atomics.load(this.memory.header, SPACE_WANTED)) | 0) >= 0;
  }

  /** Bytes published and not yet released by the slowest consumer. */
  used(): number {
    return (this.claimed - this.slowest()) | 0;
  }

  /** The state word each consumer keeps (ReaderState). */
  readerState(k = 0): number {
    return Atomics.load(this.memory.header, consumerBase(k) + READER_STATE);
  }

  private commit(offset: number, kind: RecordKind, body: number): void {
    // The header goes in with a plain store: PUBLISHED, stored later, orders it.
    this.memory.words[offset >> 2] = (body << 4) | kind;
    this.claimed = (this.claimed + align(RECORD_HEADER + body)) | 0;
  }

  private pad(offset: number, toEnd: number): void {
    this.memory.words[offset >> 2] = ((toEnd - RECORD_HEADER) << 4) | RecordKind.PAD;
    this.claimed = (this.claimed + toEnd) | 0;
  }

  /**
   * A view of the data region that ends at `end`, so avsc cannot write past
   * free space. Kept while `end` stays the same: in a ring kept full by a
   * slower reader nearly every write needs one, and `end` (the free space's
   * end) moves only when the reader releases, not with each write.
   */
  private bounded(end: number): Buffer {
    if (end !== this.boundedEnd) {
      const { data } = this.memory;
      this.boundedView = Buffer.from(data.buffer, data.byteOffset, end);
      this.boundedEnd = end;
    }
    return this.boundedView;
  }

  /**
   * The position of the slowest consumer (and its index in `slowestK`). One
   * load per cursor, and the minimum of those same values: loading the
   * slowest one again could see it pass another consumer, and the producer
   * would overwrite that one's data. No allocation: this runs on the hot path.
   */
  private slowest(): number {
    const { header, consumers } = this.memory;
    let position = this.claimed;
    let lag = -1;
    for (let k = 0; k < consumers; k++) {
      const cursor = Atomics.load(header, consumerBase(k) + CURSOR);
      const behind = (this.claimed - cursor) | 0;
      if (behind > lag) {
        lag = behind;
        this.slowestK = k;
        position = cursor;
      }
    }
    return position;
  }
}
