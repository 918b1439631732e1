/**
 * The bare ring, no WireSubject: the main thread writes `n` records of
 * `bytes` bytes with a `RingWriter` and the `raw` codec, `batch` records then
 * one `publish()` (one atomic store for the batch); the `ring-count` worker
 * reads with a `RingReader` (everything published in one `read()`, one
 * `release()`) and counts. Reports records/s as `rate`.
 *
 * When the ring is full, the writer publishes what it has and waits for room
 * on the main thread (spin, then `Atomics.wait`, see `awaitRoom`); the worker
 * waits for data the same way.
 */
import { raw } from '../../core/codec';
import { shm } from '../../transports';
import type { Runner, Sample } from '../harness';
import { timeSends } from '../port/throughput';
import { startBenchWorker } from '../worker-host';
import { bytesPool } from './bytes';

/** Sizes of one repetition. */
export interface RingSize {
  /** Records timed. */
  readonly n: number;
  /** Records written (and counted) before the clock starts. */
  readonly warmup: number;
  /** Bytes per record body (the ring adds a 4-byte header). */
  readonly bytes: number;
  /** Records per `publish()`. */
  readonly batch: number;
  /** The ring's data region. */
  readonly ringBytes: number;
}

/** Distinct records cycled through: record i carries `i & MASK` in its first byte. */
const POOL = 256;
const MASK = POOL - 1;
/** Busy polling for room before sleeping. */
const SPIN_MS = 0.05;
/** The longest single sleep. */
const SLEEP_MS = 100;
/** A writer that finds no room for this long gives up (the reader is gone or stuck). */
const STUCK_MS = 10_000;

/** rxwire low level: `RingWriter.tryWrite` × `batch`, then one `publish()`. */
export function ringBatchThroughput(size: RingSize): Runner {
  const pool = bytesPool(size.bytes, POOL);
  return {
    name: `RingWriter, publish per ${size.batch}`,
    async run(): Promise<Sample> {
      const sab = shm.ring({ bytes: size.ringBytes });
      const writer = new shm.RingWriter(shm.mapRing(sab));
      const total = size.warmup + size.n;
      const bench = startBenchWorker('ring-count', { ring: sab, consumer: 0, count: total, warmup: size.warmup, mask: MASK }, []);
      const write = (from: number, to: number): void => {
        for (let i = from; i < to; ) {
          const end = Math.min(i + size.batch, to);
          for (; i < end; i++) {
            const record = pool[i & MASK];
            while (!writer.tryWrite(shm.RecordKind.NEXT, raw, record)) {
              writer.publish();
              awaitRoom(writer);
            }
          }
          writer.publish();
        }
      };
      try {
        return await timeSends(bench, size, write);
      } finally {
        await bench.stop();
      }
    },
  };
}

/**
 * Waits until the ring has room for the record `tryWrite` refused: busy-polls
 * `hasRoom()` for `SPIN_MS`, then sleeps in `Atomics.wait` on the slowest
 * reader's cursor, counted in the ring's space-waiters slot, so the reader's
 * `release()` wakes it. Blocking is fine here: during the timed writes this
 * thread has nothing else to do, and the reader needs nothing from it.
 */
function awaitRoom(writer: shm.RingWriter): void {
  const since = performance.now();
  const { header } = writer.memory;
  for (;;) {
    if (writer.hasRoom()) return;
    const waited = performance.now() - since;
    if (waited < SPIN_MS) continue;
    if (waited > STUCK_MS) throw new Error(`the ring has had no room for ${STUCK_MS} ms: the reader is gone or stuck`);
    const cell = writer.spaceCell();
    const { index, waiters } = cell;
    const seen = shm.enterSleep(header, cell);
    if (!writer.hasRoom()) Atomics.wait(header, index, seen, SLEEP_MS);
    Atomics.sub(header, waiters, 1);
  }
}
