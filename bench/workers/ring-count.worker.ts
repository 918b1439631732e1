/**
 * Shm suite worker for the bare ring: reads a ring (`shm.ring()`) as one
 * consumer with a `RingReader`: everything published so far is visited in one
 * `read()` and given back in one `release()`. Checks each record's first byte
 * (its sequence number `& mask`), reports `warm` once it has `warmup` records
 * and `done` once it has `count`, then exits.
 *
 * Waiting: this thread has nothing else to do, so it reads in a plain loop;
 * after `SPIN_MS` with nothing new it sleeps in `Atomics.wait` on the ring's
 * data cell, counted in its waiters slot, so the writer's `publish()` wakes it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RecordKind, RingReader, enterSleep, mapRing, type RecordKind as Kind } from '../../transports/shm';
import type { RingWorkerData, WorkerReport } from './protocol';

/** Busy polling after the last record before sleeping. */
const SPIN_MS = 0.05;
/** The longest single sleep. */
const SLEEP_MS = 100;
/** Nothing new for this long: the main side is gone or stuck; give up. */
const GIVE_UP_MS = 10_000;

const { ring, consumer, count, warmup, mask } = workerData as RingWorkerData;
const report = (r: WorkerReport) => parentPort!.postMessage(r);
const memory = mapRing(ring);
const reader = new RingReader(memory, consumer);
const { header } = memory;

let received = 0;
let outOfOrder = 0;
let completed = false;
const visit = (kind: Kind, data: Buffer, start: number): void => {
  if (kind !== RecordKind.NEXT) {
    if (kind === RecordKind.COMPLETE) completed = true;
    return;
  }
  if (data[start] !== (received & mask)) outOfOrder++;
  received++;
};

report({ kind: 'ready' });
let idleSince = 0;
while (received < count && !completed) {
  if (reader.available() > 0) {
    const before = received;
    reader.read(visit);
    reader.release();
    if (before < warmup && received >= warmup) report({ kind: 'warm', received });
    idleSince = 0;
    continue;
  }
  const now = performance.now();
  if (idleSince === 0) idleSince = now;
  if (now - idleSince < SPIN_MS) continue;
  if (now - idleSince > GIVE_UP_MS) break;
  const cell = reader.dataCell();
  const { index, waiters } = cell;
  // Stores what it saw in DATA_SEEN too: the writer keys its notifies on it (without, it wakes one sleep and never the next).
  const seen = enterSleep(header, cell);
  if (reader.available() === 0) Atomics.wait(header, index, seen, SLEEP_MS);
  Atomics.sub(header, waiters, 1);
}
if (received === count) report({ kind: 'done', received, outOfOrder });
else report({ kind: 'failed', message: `ring-count: ${received} of ${count} records, then ${completed ? 'COMPLETE' : 'nothing for 10 s'}` });
