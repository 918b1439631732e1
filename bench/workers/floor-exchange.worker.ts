/**
 * The exchange suite's floor (bench/floor/exchange.ts): the job of
 * bench/workers/exchange.worker.ts written bare, one of two of these workers.
 * Each produces `n` keyed records (bench/keyed.ts), routes each by
 * `route`'s hash (`keyHash(key) % 2`, as `exchange` does), and
 *   - a record for the other worker: encoded with plain avsc in place into
 *     the bare ring to it (bench/floor/sab-ring.ts: a u32 length, then the
 *     body), published every 1024 records;
 *   - a record for itself: encoded into a scratch buffer and decoded back
 *     (a bare program has no link to itself, but every record is still
 *     encoded and decoded once, as over rxwire's self link);
 * and between batches (and while the ring to the other is full) it reads
 * its own incoming ring, decoding each record with plain avsc and checking
 * it (bench/keyed.ts, the same check as the rxwire worker). It never sleeps:
 * both workers are busy throughout, and a spin is the floor's best case.
 *
 * Two rounds, warm-up then timed, as the rxwire worker; a round ends when
 * this worker has produced its records and received all it is owed. A round
 * reads no more of the other's records than that round owes it: the rest
 * are the next round's. Reports `exchanged` with the timed round's time and
 * both rounds' checks, or `failed` after 10 s without progress.
 */
import * as avro from 'avsc';
import { parentPort, workerData } from 'node:worker_threads';
import { keyHash } from '../../core/hash';
import { HEAD, SKIP, TAIL, mapFloorRing, writeRecord, type FloorRing } from '../floor/sab-ring';
import { EXCHANGE_PEERS, KEY_MASK, keyTable, keyedChecker, keyedSchema, type Keyed, type RoundCheck } from '../keyed';
import type { FloorExchangeData, WorkerReport } from './protocol';

const { me, out: outSab, in: inSab, n, warmup } = workerData as FloorExchangeData;
const PEERS = EXCHANGE_PEERS;
/**
 * Records between two publishes of the outgoing ring (and two reads of the incoming one): as many as the rxwire
 * program's source emits per turn. The floor's best: 4M records a worker read 6.7–7.1M/s at 64, 7.3–7.7M at 256,
 * 7.7–7.9M at 512, 7.6–8.2M at 2048 (a 4 MiB ring instead of 256 KiB, at 64: 7.1–7.4M).
 */
const BATCH = 1024;
/** Room left for one record before the end of the ring (a Keyed record is ~16 bytes). */
const MAX_RECORD = 64;
/** Without progress for this long, the round has failed (the other worker is gone). */
const GIVE_UP_MS = 10_000;

const report = (r: WorkerReport) => parentPort!.postMessage(r);
const type = avro.Type.forSchema(keyedSchema as unknown as avro.Schema);
const out = mapFloorRing(outSab);
const inbound = mapFloorRing(inSab);
const scratch = Buffer.alloc(MAX_RECORD * 4);
const { keys, owner } = keyTable(PEERS);

let head = 0; // the outgoing ring's write cursor (published at HEAD)
let tail = 0; // the incoming ring's read cursor (published at TAIL)

/** Reads at most `most` records from the incoming ring into `check`; the count read. */
function readIn(check: (r: Keyed) => void, most: number): number {
  const { header, data, mask } = inbound;
  const published = Atomics.load(header, HEAD);
  let read = 0;
  while (tail !== published && read < most) {
    const at = tail & mask;
    const length = data.readUInt32LE(at);
    if (length === SKIP) {
      tail = (tail + (mask + 1 - at)) | 0;
      continue;
    }
    check(type.decode(data, at + 4).value as Keyed);
    tail = (tail + 4 + length) | 0;
    read++;
  }
  if (read > 0) Atomics.store(header, TAIL, tail);
  return read;
}

/** One round of `count` records per worker; its check and its time in ms. */
function round(count: number): { check: RoundCheck; ms: number } {
  const started = performance.now();
  const checker = keyedChecker(me, PEERS, count, keys, owner);
  let owed = checker.fromEach; // records the other worker sends this one in this round
  const { header, mask } = out;
  const bytes = mask + 1;

  /**
   * Reads the incoming ring until `done()`, failing after GIVE_UP_MS in which neither a record came in nor the
   * other worker freed room in the ring to it (`why` says what was waited for).
   */
  const waitUntil = (done: () => boolean, why: string): void => {
    let since = performance.now();
    let seenTail = Atomics.load(header, TAIL);
    while (!done()) {
      const got = readIn(checker.check, owed);
      owed -= got;
      const tailNow = Atomics.load(header, TAIL);
      const now = performance.now();
      if (got > 0 || tailNow !== seenTail) since = now;
      else if (now - since > GIVE_UP_MS) throw new Error(`${why}: nothing moved for ${GIVE_UP_MS / 1000} s`);
      seenTail = tailNow;
    }
  };
  /** Room for `need` bytes after `at` in the ring out, reading the incoming one meanwhile (else both could wait for good). */
  const hasRoom = (at: number, need: number) => bytes - ((at - Atomics.load(header, TAIL)) | 0) >= need;
  const room = (_ring: FloorRing, at: number, need: number): void => {
    if (hasRoom(at, need)) return;
    Atomics.store(header, HEAD, at); // the other worker can free only what it sees
    waitUntil(() => hasRoom(at, need), `no room in the ring to worker ${1 - me}`);
  };

  for (let i = 0; i < count; i++) {
    const value: Keyed = { key: keys[i & KEY_MASK], value: i * PEERS + me };
    if (keyHash(value.key) % PEERS === me) {
      type.encode(value, scratch, 0);
      checker.check(type.decode(scratch, 0).value as Keyed);
    } else {
      head = writeRecord(out, head, type, value, MAX_RECORD, room);
    }
    if ((i & (BATCH - 1)) === BATCH - 1) {
      Atomics.store(header, HEAD, head);
      owed -= readIn(checker.check, owed);
    }
  }
  Atomics.store(header, HEAD, head);
  waitUntil(() => owed === 0, `records from worker ${1 - me} still owed`);
  return { check: checker.result(), ms: performance.now() - started };
}

try {
  const warm = round(warmup);
  const timed = round(n);
  report({ kind: 'exchanged', elapsedMs: timed.ms, warmup: warm.check, timed: timed.check });
} catch (err) {
  report({ kind: 'failed', message: (err as Error).message });
}
