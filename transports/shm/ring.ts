/**
 * A disruptor-style ring in shared memory: one producer, one or more
 * consumers, sequence counters instead of locks (layout in ./layout.ts).
 *
 * Contract. Exactly one thread writes (a RingWriter); each consumer index is
 * read by exactly one thread (a RingReader). The producer never overtakes
 * the slowest consumer (multicast: every consumer sees every record); a
 * consumer that follows others (`after`) never overtakes them (chained
 * stages). A full ring makes `tryWrite` return false and write nothing —
 * but a record that must wrap first pads the rest of the region as soon as
 * that is free, and publishes (with whatever the batch had written before).
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
 * Sleeping. A side that sleeps first counts itself in a waiters slot and
 * reads the counter it needs to change (a reader also stores what it read in
 * DATA_SEEN: `enterSleep` does these steps for a `dataCell` or `spaceCell`),
 * then re-checks, then `Atomics.wait`s on that counter with the value it read. The other side stores its counter, then notifies only if
 * the waiters slot is non-zero. A store between the check and the wait makes
 * the wait return at once ("not-equal"), so no wake-up is lost.
 */
export { RingWriter } from './ring-writer';
export { RingReader, type RecordVisitor } from './ring-reader';
export { enterSleep, type WaitCell } from './layout';
