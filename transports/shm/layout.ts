/**
 * The memory of one ring: a `SharedArrayBuffer` holding a header of
 * sequence counters and a data region of variable-length records.
 *
 * Header (Int32 slots; every counter that one side writes often sits on a
 * cache line of its own, 16 slots = 64 bytes, so the two threads do not
 * fight over a line they do not share):
 *
 *   line 0   PUBLISHED      byte position up to which records are published (producer)
 *   line 1   DATA_WAITERS   consumers asleep on PUBLISHED (consumers),
 *            DATA_SEEN      the PUBLISHED a consumer read before it last went to sleep (consumers)
 *   line 2   SPACE_WAITERS  producer asleep on a consumer cursor (producer),
 *            SPACE_WANTED   the cursor position it wants to be woken at (producer)
 *   line 3   MAGIC, CAPACITY, CONSUMERS, REASON_LENGTH
 *   lines 4+2k, 5+2k  consumer k: CURSOR, CURSOR_WAITERS, AFTER (bit mask of the
 *            consumers it follows; 0 = it follows the producer); on the next
 *            line, alone, READER_STATE (see READER_STATE)
 *   then     REASON: up to 1 KiB, the RejectRecord (Avro) of a reader that refused the writer
 *   then     the data region, `capacity` bytes, a power of two
 *
 * Positions are byte counts since the ring was made, kept as wrapping 32-bit
 * integers: `(a - b) | 0` is a distance while capacity <= 2^30, and
 * `position & (capacity - 1)` is the offset in the data region.
 *
 * Records start on 8-byte boundaries: an Int32 header `(length << 4) | kind`,
 * 4 spare bytes, and `length` bytes of body, padded to a multiple of 8. A
 * record is never split: at the end of the data region a PAD record sends the
 * reader back to offset 0 (the space left there is always a multiple of 8).
 */
import { Buffer } from 'node:buffer';

export const LINE = 16; // Int32 slots per 64-byte cache line

export const PUBLISHED = 0;
export const DATA_WAITERS = LINE;
/**
 * The PUBLISHED a consumer read before it last went to sleep on PUBLISHED:
 * it stores it after counting itself in DATA_WAITERS and reading PUBLISHED,
 * before it re-checks and sleeps (WaitCell.seenAt). The producer notifies
 * once per value of it, not at every publish while DATA_WAITERS > 0 (a
 * consumer counts itself out only when it runs again, and until then each
 * publish, one per 64 KiB record, notified it again, to no use: 3.8 µs
 * each), and not when it equals the position just published (that
 * sleeper has seen it). RingWriter.publish says why this never loses a
 * wake-up. Until session 23 the slot counted sleeps (DATA_SLEEPS) and the
 * producer notified once per count: a notify could go to a sleep that had
 * not begun waiting and had already seen the publish, and the next
 * publish, for the same count, then skipped a sleeper that needed it (a
 * bench round trip hung: reader asleep, 40 bytes published and unread).
 */
export const DATA_SEEN = DATA_WAITERS + 1;
export const SPACE_WAITERS = 2 * LINE;
/**
 * Where a producer asleep for room wants to be woken: a consumer notifies
 * when its release moves its CURSOR to or past this position (wrapping
 * compare), not at every release. The producer stores it before it sleeps
 * (RingWriter.spaceCell): a quarter of the ring free, or the record it
 * waits for if larger. One wake-up per quarter ring instead of one per
 * release: with a full ring (Trade throughput, 1 MiB ring, load 7-10 on 2
 * cores) the reader notified the main thread's `waitAsync` 2,900-3,800
 * times per million Trades, each holding the reader 30 µs on average;
 * now about 50 times (bench/README.md, "Notes: shm wake-ups and per-value
 * cost").
 */
export const SPACE_WANTED = SPACE_WAITERS + 1;
/** The share of the ring a producer asleep for room waits to see free (SPACE_WANTED): capacity >> this. */
export const WAKE_SHIFT = 2;
export const MAGIC = 3 * LINE;
export const CAPACITY = MAGIC + 1;
export const CONSUMERS = MAGIC + 2;
export const REASON_LENGTH = MAGIC + 3;

/** Slot offsets within consumer k's two lines (`consumerBase(k) + ...`). */
export const CURSOR = 0;
/**
 * On a line of its own, apart from CURSOR: the producer loads it once per
 * value, and the consumer stores CURSOR at every release. On one line each
 * release took the line from the producer, and its next load took it back:
 * two cache-line transfers per message on a round trip, one on each side's
 * path. Apart, shm round trip p50 2.92–3.15 → 2.33–2.57 µs (9 runs each,
 * alternated, bench/README.md "shm round trip: the reader's state apart").
 */
export const READER_STATE = LINE;
export const CURSOR_WAITERS = 2;
export const AFTER = 3;

export const MAX_CONSUMERS = 30;
/** Bytes of the reason area: room for a REJECT's RejectRecord body. */
export const REASON_BYTES = 1024;
/** "RXW2": the second layout (READER_STATE on its own line); an "RXW1" ring is refused, not misread. */
const MAGIC_VALUE = 0x52585732;

/**
 * A consumer's state word: the reader's answers of the session, in the ring
 * the writer writes (docs/PROTOCOL.md, "Shared memory"). READING until the
 * reader has read the writer's HELLO; then ACCEPTED (the session's ACK 0: the
 * writer may write values), or REJECTED (its REJECT: a RejectRecord in the
 * reason area). STOPPED: its STOP (the last subscriber left, or the reader
 * refuses the rest). 3 is not used (it was GONE; a vanished peer is told by
 * the liveness port).
 */
export const ReaderState = { READING: 0, STOPPED: 1, REJECTED: 2, ACCEPTED: 4 } as const;

/** Is a reader in this state still taking the writer's records (before or after acceptance)? */
export function stillReading(state: number): boolean {
  return state === ReaderState.READING || state === ReaderState.ACCEPTED;
}

/** Record kinds in the ring (4 bits). */
export const RecordKind = { NEXT: 1, COMPLETE: 2, ERROR: 3, HELLO: 4, PAD: 15 } as const;
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];
/**
 * Bytes before a record's body: the Int32 header and 4 spare bytes, so every
 * body starts 8-byte aligned (V8 copies shared memory byte by byte from or to
 * an address that is not: 64 KiB took 17 µs instead of 2 µs).
 */
export const RECORD_HEADER = 8;
export const RECORD_ALIGN = 8;
/** The longest record body: the header keeps 27 bits for the length. */
export const MAX_BODY = (1 << 27) - 1;

/** The largest NEXT body (an encoded value) a ring of `capacity` bytes carries. */
export function largestValue(capacity: number): number {
  return Math.min(capacity - RECORD_HEADER, MAX_BODY);
}

/** Where a sleeper waits: the counter to watch, the slot that counts sleepers, and where it stores the value it saw (if the waker asks). */
export interface WaitCell {
  index: number;
  waiters: number;
  seenAt?: number;
}

/**
 * A sleeper's first steps on `cell`: counts itself in the waiters slot,
 * reads the value it will wait on and, if the cell asks (`seenAt`), stores
 * it where the waker keys its notifies (DATA_SEEN). Returns that value; the
 * caller re-checks, waits on `cell.index` with it unless the re-check found
 * work, then counts itself out of `cell.waiters`.
 */
export function enterSleep(header: Int32Array, cell: WaitCell): number {
  Atomics.add(header, cell.waiters, 1);
  const seen = Atomics.load(header, cell.index);
  if (cell.seenAt !== undefined) Atomics.store(header, cell.seenAt, seen);
  return seen;
}

/** Rounds a record's size up to RECORD_ALIGN. */
export function align(n: number): number {
  return (n + RECORD_ALIGN - 1) & ~(RECORD_ALIGN - 1);
}

/** The first slot of consumer k's two lines. */
export function consumerBase(k: number): number {
  return (4 + 2 * k) * LINE;
}

function reasonOffset(consumers: number): number {
  return consumerBase(consumers) * 4;
}

function dataOffset(consumers: number): number {
  return reasonOffset(consumers) + REASON_BYTES;
}

/** The views every user of a ring needs, made once per end. */
export interface RingMemory {
  readonly sab: SharedArrayBuffer;
  readonly header: Int32Array;
  readonly data: Buffer;
  readonly words: Int32Array;
  readonly capacity: number;
  readonly mask: number;
  readonly consumers: number;
}

/** Options of a new ring. */
export interface RingOptions {
  /** Bytes of the data region: a power of two from 256 to 2^30. Default 1 MiB. */
  bytes?: number;
  /**
   * The consumers, in order; each lists the consumers it follows (chained
   * stages: it sees a record only after they all released it). Default one
   * consumer following the producer.
   */
  consumers?: readonly { after?: readonly number[] }[];
  /**
   * Map the ring's memory now (default true): one byte of every 4 KiB page
   * is written when the ring is made, so that the OS's page faults are paid
   * here and not on the link. A fresh `SharedArrayBuffer` is mapped lazily:
   * the first write into each page faults, and on this project's 2-core VMs
   * a fault takes ~15 µs (a 1 MiB ring: ~4 ms to map whole). Without it, the
   * first lap of a ring stalls one record in every 4 KiB: on a round trip of
   * 40-byte records, one round trip in ~105 took 36–40 µs instead of 4 — the
   * p99 — and a quiet link takes a long time to finish its first lap. Pass
   * false for rings that are made often and used little.
   */
  prefault?: boolean;
}

/** The page size the prefault steps by (4 KiB: the smallest page on the platforms Node runs on). */
const PAGE_BYTES = 4096;

/**
 * Checks a ring's data size: a power of two from 256 to 2^30 (every place
 * that takes `bytes` for rings — shm.pair, stage, pipeline, WorkerPool — asks here).
 * @throws TypeError naming `name` when it is not a number; RangeError when it is out of range
 */
export function checkRingBytes(bytes: number, name = 'options.bytes'): void {
  if (typeof bytes !== 'number') throw new TypeError(`${name} must be a number (a power of two from 256 to 2^30)`);
  if (!Number.isInteger(bytes) || bytes < 256 || bytes > 2 ** 30 || (bytes & (bytes - 1)) !== 0) {
    throw new RangeError(`${name} must be a power of two from 256 to 2^30`);
  }
}

/** Allocates and formats a ring. */
export function createRing(options: RingOptions = {}): SharedArrayBuffer {
  const { bytes = 1 << 20, consumers = [{}], prefault = true } = options;
  checkRingBytes(bytes);
  if (typeof prefault !== 'boolean') throw new TypeError('options.prefault must be a boolean');
  if (consumers.length < 1 || consumers.length > MAX_CONSUMERS) {
    throw new RangeError(`options.consumers must list 1 to ${MAX_CONSUMERS} consumers`);
  }
  const sab = new SharedArrayBuffer(dataOffset(consumers.length) + bytes);
  if (prefault) touchPages(sab);
  const header = new Int32Array(sab, 0, reasonOffset(consumers.length) / 4);
  header[CAPACITY] = bytes;
  header[CONSUMERS] = consumers.length;
  consumers.forEach((consumer, k) => {
    let mask = 0;
    for (const before of consumer.after ?? []) {
      if (!Number.isInteger(before) || before < 0 || before >= k) {
        throw new RangeError(`options.consumers[${k}].after may name only earlier consumers (0..${k - 1})`);
      }
      mask |= 1 << before;
    }
    header[consumerBase(k) + AFTER] = mask;
  });
  // Published last: a ring whose magic is set is fully formatted.
  Atomics.store(header, MAGIC, MAGIC_VALUE);
  return sab;
}

/** Writes a zero into every page of `sab` (already zero): the OS maps each page now. */
function touchPages(sab: SharedArrayBuffer): void {
  const bytes = new Uint8Array(sab);
  for (let i = 0; i < bytes.length; i += PAGE_BYTES) bytes[i] = 0;
}

/** Maps the views of a ring made by {@link createRing}. */
export function mapRing(sab: SharedArrayBuffer): RingMemory {
  // Not `instanceof`: a buffer that came through a port may belong to another realm (a vm context).
  if (Object.prototype.toString.call(sab) !== '[object SharedArrayBuffer]') throw new TypeError('a ring is a SharedArrayBuffer');
  const probe = new Int32Array(sab, 0, LINE * 4);
  if (Atomics.load(probe, MAGIC) !== MAGIC_VALUE) throw new TypeError('this SharedArrayBuffer is not an rxwire ring');
  const consumers = probe[CONSUMERS];
  const capacity = probe[CAPACITY];
  const start = dataOffset(consumers);
  return {
    sab,
    header: new Int32Array(sab, 0, reasonOffset(consumers) / 4),
    data: Buffer.from(sab, start, capacity),
    words: new Int32Array(sab, start, capacity / 4),
    capacity,
    mask: capacity - 1,
    consumers,
  };
}

/**
 * A reader refuses the writer: writes the RejectRecord body `reason` (at
 * most REASON_BYTES), then flips consumer `consumer`'s state to REJECTED
 * (the order matters: see readReason).
 */
export function writeReason(memory: RingMemory, consumer: number, reason: Uint8Array): void {
  if (reason.length > REASON_BYTES) throw new RangeError(`a reason of ${reason.length} bytes exceeds ${REASON_BYTES}`);
  Buffer.from(memory.sab, reasonOffset(memory.consumers), REASON_BYTES).set(reason);
  Atomics.store(memory.header, REASON_LENGTH, reason.length);
  // The plain writes above happen before this store; a reader that loads
  // this state with Atomics.load sees them (JS atomics are sequentially consistent).
  Atomics.store(memory.header, consumerBase(consumer) + READER_STATE, ReaderState.REJECTED);
  Atomics.notify(memory.header, PUBLISHED);
  Atomics.notify(memory.header, consumerBase(consumer) + CURSOR);
}

/** The RejectRecord body a refusing reader left (a copy: call it after loading REJECTED). */
export function readReason(memory: RingMemory): Buffer {
  const length = Math.min(Atomics.load(memory.header, REASON_LENGTH), REASON_BYTES);
  return Buffer.from(Buffer.from(memory.sab, reasonOffset(memory.consumers), length));
}
