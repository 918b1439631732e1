/**
 * The consuming side of a ring; the contract and memory ordering are stated
 * in ./ring.ts.
 */
import { FrameError } from '../../core/errors';
import { AFTER, CURSOR, CURSOR_WAITERS, DATA_SEEN, DATA_WAITERS, PUBLISHED, READER_STATE, RECORD_HEADER, RecordKind, SPACE_WAITERS, SPACE_WANTED, align, consumerBase } from './layout';
import type { RingMemory, WaitCell } from './layout';

/** A consumer that follows the producer sleeps on PUBLISHED and stores what it saw in DATA_SEEN (layout.ts). */
const ON_PUBLISHED: WaitCell = { index: PUBLISHED, waiters: DATA_WAITERS, seenAt: DATA_SEEN };

/** Called for each record: its kind and where its body lies in `data`. */
export type RecordVisitor = (kind: RecordKind, data: Buffer, start: number, end: number) => void;

/** The consuming side of a ring, for consumer `index`. */
export class RingReader {
  private cursor: number;
  private limit: number;
  private readonly base: number;
  private readonly after: number[];
  /** The SPACE_WANTED this consumer last woke the producer for. */
  private woken: number | undefined;

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
   * (nothing published during the visit is included), up to `maxRecords`,
   * and no record begun once `maxBytes` of the ring are read.
   * The cursor moves locally; the producer sees the room only at `release()`.
   * Returns the number of records visited.
   * @throws FrameError when a record header is corrupt
   */
  read(visit: RecordVisitor, maxRecords = Number.POSITIVE_INFINITY, maxBytes = Number.POSITIVE_INFINITY): number {
    const { capacity, mask, data, words } = this.memory;
    const limit = this.barrier();
    const from = this.cursor;
    let cursor = from;
    let count = 0;
    while (cursor !== limit && count < maxRecords && ((cursor - from) | 0) < maxBytes) {
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

  /**
   * Gives the bytes read so far back to the producer (and to the stages that
   * follow this one). Wakes a producer asleep for room only once the cursor
   * reaches the position it asked for (SPACE_WANTED): it stored that before
   * counting itself in SPACE_WAITERS, and re-checks the cursor after, so a
   * release it did not see is one whose loads here see both (JS atomics are
   * sequentially consistent).
   */
  release(): void {
    const { header } = this.memory;
    const cursor = this.cursor;
    if (Atomics.load(header, this.base + CURSOR) === cursor) return;
    Atomics.store(header, this.base + CURSOR, cursor);
    let wake = Atomics.load(header, this.base + CURSOR_WAITERS) > 0;
    if (Atomics.load(header, SPACE_WAITERS) > 0) {
      const wanted = Atomics.load(header, SPACE_WANTED);
      // Once per position asked for: the producer counts itself out of SPACE_WAITERS only when it
      // runs again, and the releases before that would each notify it again (to no use).
      if (((cursor - wanted) | 0) >= 0 && wanted !== this.woken) {
        this.woken = wanted;
        wake = true;
      }
    }
    if (wake) Atomics.notify(header, this.base + CURSOR);
  }

  /**
   * Where to sleep while nothing is readable: on PUBLISHED (storing what it
   * saw in DATA_SEEN, which the producer keys its notifies on), or on the
   * CURSOR of the stage it follows.
   */
  dataCell(): WaitCell {
    if (this.after.length === 0) return ON_PUBLISHED;
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
