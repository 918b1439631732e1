/**
 * A disruptor-style ring in shared memory: one producer, one or more
 * consumers, sequence counters instead of locks (layout in ./layout.ts).
 *
 * Contract. Exactly one thread writes (a RingWriter); each consumer index is
 * read by exactly one thread (a RingReader). The producer never overtakes
 * the slowest consumer (multicast: every consumer sees every record); a
 * consumer that follows others (`after`) never overtakes them (chained
 * stages). A full ring makes `tryWrite` return false and write nothing.
 *
 * Memory ordering. The producer writes a record's bytes with plain stores,
 * then publishes with one `Atomics.store` of PUBLISHED; a consumer reads
 * PUBLISHED with `Atomics.load` and only then the bytes below it. JS atomics
 * are sequentially consistent, so the plain stores that precede the store are
 * visible to any thread whose load sees it. The same holds in reverse for a
 * consumer's CURSOR: it decodes (copies out) a record before it stores a
 * cursor past it, so the producer never reuses bytes still being read.
 * Each side caches the other's counter and reloads it only when the cached
 * value says "no room" or "nothing new", as the LMAX disruptor does.
 *
 * Sleeping. A side that sleeps first counts itself in a waiters slot, then
 * re-checks, then `Atomics.wait`s on the counter it needs to change with the
 * value it last saw. The other side stores its counter, then notifies only if
 * the waiters slot is non-zero. A store between the check and the wait makes
 * the wait return at once ("not-equal"), so no wake-up is lost.
 */
import type { Codec } from '../../core/codec';
import { FrameError } from '../../core/errors';
import {
  AFTER,
  CURSOR,
  CURSOR_WAITERS,
  DATA_WAITERS,
  MAX_BODY,
  PUBLISHED,
  READER_STATE,
  RECORD_ALIGN,
  RECORD_HEADER,
  RecordKind,
  SPACE_WAITERS,
  consumerBase,
  type RingMemory,
} from './layout';

/** Where a sleeper waits: the counter to watch and the slot that counts sleepers. */
export interface WaitCell {
  index: number;
  waiters: number;
}

/** The producing side of a ring. */
export class RingWriter {
  private claimed: number;
  private published: number;
  private gate: number;
  /** The consumer that was slowest at the last `slowest()`. */
  private slowestK = 0;
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
   * Encodes `value` as one record, in place in the ring. Returns false, having
   * written nothing visible, when the ring has no room for it now.
   * @throws FrameError when the record could never fit this ring
   * @throws EncodeError (from the codec) when the value does not fit its schema
   */
  tryWrite<T>(kind: RecordKind, codec: Codec<T>, value: T): boolean {
    const { capacity, mask, data } = this.memory;
    let refreshed = false;
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
        if (room === toEnd && free >= toEnd + size) {
          // It fits after the end of the data region: pad to the end and wrap.
          this.pad(offset, toEnd);
          continue;
        }
        this.wanted = room === toEnd ? toEnd + size : size;
      } else {
        this.wanted = RECORD_HEADER;
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

  /** Makes every record written so far visible to the consumers: one store, one notify at most. */
  publish(): void {
    if (this.claimed === this.published) return;
    this.published = this.claimed;
    Atomics.store(this.memory.header, PUBLISHED, this.claimed);
    if (Atomics.load(this.memory.header, DATA_WAITERS) > 0) Atomics.notify(this.memory.header, PUBLISHED);
  }

  /** Has room for `wanted` bytes appeared since the last refusal? */
  hasRoom(): boolean {
    this.gate = this.slowest();
    return this.memory.capacity - ((this.claimed - this.gate) | 0) >= this.wanted;
  }

  /** Where to sleep while the ring is full: on the slowest consumer's cursor. */
  spaceCell(): WaitCell {
    this.slowest();
    return { index: consumerBase(this.slowestK) + CURSOR, waiters: SPACE_WAITERS };
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

  /** A view of the data region that ends at `end`, so avsc cannot write past free space. */
  private bounded(end: number): Buffer {
    const { data } = this.memory;
    return Buffer.from(data.buffer, data.byteOffset, end);
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

/** Called for each record: its kind and where its body lies in `data`. */
export type RecordVisitor = (kind: RecordKind, data: Buffer, start: number, end: number) => void;

/** The consuming side of a ring, for consumer `index`. */
export class RingReader {
  private cursor: number;
  private limit: number;
  private readonly base: number;
  private readonly after: number[];

  constructor(
    readonly memory: RingMemory,
    readonly index = 0,
  ) {
    if (!Number.isInteger(index) || index < 0 || index >= memory.consumers) {
      throw new RangeError(`consumer index must be from 0 to ${memory.consumers - 1}`);
    }
    this.base = consumerBase(index);
    this.cursor = this.limit = Atomics.load(memory.header, this.base + CURSOR);
    const mask = memory.header[this.base + AFTER];
    this.after = [...Array(memory.consumers).keys()].filter((k) => mask & (1 << k));
  }

  /** The position this reader has read up to (released or not). */
  get position(): number {
    return this.cursor;
  }

  /** Bytes readable now (reloads the barrier: the producer, or the stages this one follows). */
  available(): number {
    this.limit = this.barrier();
    return (this.limit - this.cursor) | 0;
  }

  /**
   * Visits the records between the cursor and the barrier as loaded now
   * (nothing published during the visit is included), up to `maxRecords`.
   * The cursor moves locally; the producer sees the room only at `release()`.
   * Returns the number of records visited.
   * @throws FrameError when a record header is corrupt
   */
  read(visit: RecordVisitor, maxRecords = Number.POSITIVE_INFINITY): number {
    const { capacity, mask, data, words } = this.memory;
    const limit = this.barrier();
    let cursor = this.cursor;
    let count = 0;
    while (cursor !== limit && count < maxRecords) {
      const offset = cursor & mask;
      const word = words[offset >> 2];
      const kind = (word & 15) as RecordKind;
      const body = word >>> 4;
      const size = align(RECORD_HEADER + body);
      if (size > ((limit - cursor) | 0) || offset + size > capacity) {
        this.cursor = cursor;
        throw new FrameError(`corrupt record header 0x${(word >>> 0).toString(16)} at offset ${offset}`);
      }
      cursor = (cursor + size) | 0;
      if (kind === RecordKind.PAD) continue;
      count++;
      visit(kind, data, offset + RECORD_HEADER, offset + RECORD_HEADER + body);
    }
    this.cursor = cursor;
    return count;
  }

  /** Gives the bytes read so far back to the producer (and to the stages that follow this one). */
  release(): void {
    const { header } = this.memory;
    if (Atomics.load(header, this.base + CURSOR) === this.cursor) return;
    Atomics.store(header, this.base + CURSOR, this.cursor);
    if (Atomics.load(header, SPACE_WAITERS) > 0 || Atomics.load(header, this.base + CURSOR_WAITERS) > 0) {
      Atomics.notify(header, this.base + CURSOR);
    }
  }

  /** Where to sleep while nothing is readable. */
  dataCell(): WaitCell {
    if (this.after.length === 0) return { index: PUBLISHED, waiters: DATA_WAITERS };
    const k = this.laggard();
    return { index: consumerBase(k) + CURSOR, waiters: consumerBase(k) + CURSOR_WAITERS };
  }

  /** Sets this consumer's state word (ReaderState), waking a producer that sleeps. */
  setState(state: number): void {
    Atomics.store(this.memory.header, this.base + READER_STATE, state);
    Atomics.notify(this.memory.header, this.base + CURSOR);
  }

  /** This consumer's state word (ReaderState). */
  state(): number {
    return Atomics.load(this.memory.header, this.base + READER_STATE);
  }

  private barrier(): number {
    const { header } = this.memory;
    if (this.after.length === 0) return Atomics.load(header, PUBLISHED);
    return Atomics.load(header, consumerBase(this.laggard()) + CURSOR);
  }

  /** The stage this one follows that is furthest behind. */
  private laggard(): number {
    const { header } = this.memory;
    let slowest = this.after[0];
    let lead = Number.POSITIVE_INFINITY;
    for (const k of this.after) {
      const ahead = (Atomics.load(header, consumerBase(k) + CURSOR) - this.cursor) | 0;
      if (ahead < lead) {
        lead = ahead;
        slowest = k;
      }
    }
    return slowest;
  }
}

function align(n: number): number {
  return (n + RECORD_ALIGN - 1) & ~(RECORD_ALIGN - 1);
}
