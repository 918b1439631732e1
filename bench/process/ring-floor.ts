/**
 * The floor of the two-thread token ring written bare: the same job as
 * rxwire's (1,000 relays, alternating between two threads, each passing a
 * count down to the next), with what any such ring must do and nothing
 * else — the token encoded with avsc into a shared-memory ring of
 * variable-length records (a length word, the bytes, 8-byte aligned), the
 * write index published with `Atomics.store`, the other thread spinning on
 * it, decoding the record with avsc and calling the relay it names from a
 * table. No session, scheduler, mailbox, microtask or Observable; both
 * threads spin all along. What rxwire's ring adds above this rate is the
 * cost of its layers (bench/README.md, `process`).
 *
 * This module is both sides: the measuring thread calls {@link ringFloor},
 * which starts this same file as the partner worker. The measuring thread
 * hosts the even relays, the partner the odd ones.
 */
import { isMainThread, parentPort, workerData, type Worker } from 'node:worker_threads';
import * as avro from 'avsc';
import { startWorker } from '../../threads/worker';
import type { RingSample } from './protocol';

/** The token: the count left and the relay it goes to. */
export const Token = avro.Type.forSchema({
  type: 'record',
  name: 'FloorToken',
  fields: [
    { name: 'k', type: 'long' },
    { name: 'to', type: 'int' },
  ],
});

export interface TokenValue {
  k: number;
  to: number;
}

/** Bytes of each direction's ring. */
const CAPACITY = 1 << 16;
/** Int32 header slots: the write index (published), the read index (released). */
const HEADER = 2;

/** One direction: a header and a data area in one SharedArrayBuffer; `written` is the writer's own index (published or not). */
export interface Lane {
  readonly header: Int32Array;
  readonly data: Buffer;
  written: number;
}

export function laneOf(buffer: SharedArrayBuffer): Lane {
  return { header: new Int32Array(buffer, 0, HEADER), data: Buffer.from(buffer, 8, CAPACITY), written: 0 };
}

/** A new pair of lanes' memory. */
function laneMemory(): SharedArrayBuffer {
  return new SharedArrayBuffer(8 + CAPACITY);
}

/** Writes one record without publishing it (see `publish`); the ring never fills with one token in flight, so a full ring is an error here. */
export function append(lane: Lane, value: TokenValue): void {
  const { header, data } = lane;
  let at = lane.written;
  // a record never wraps: one that would not fit before the end starts at 0 (a length of -1 marks the rest unused)
  if ((at & (CAPACITY - 1)) + 64 > CAPACITY) {
    data.writeInt32LE(-1, at & (CAPACITY - 1));
    at += CAPACITY - (at & (CAPACITY - 1));
  }
  if (at - Atomics.load(header, 1) + 64 > CAPACITY) throw new Error('ring floor: the ring is full');
  const start = at & (CAPACITY - 1);
  const end = Token.encode(value, data, start + 4);
  if (end < 0) throw new Error('ring floor: a token did not fit');
  data.writeInt32LE(end - start - 4, start);
  lane.written = at + ((end - start + 7) & ~7);
}

/** Makes what was appended readable. */
export function publish(lane: Lane): void {
  Atomics.store(lane.header, 0, lane.written);
}

function write(lane: Lane, value: TokenValue): void {
  append(lane, value);
  publish(lane);
}

/**
 * Reads every record published on `inbound` now, handing each token to
 * `visit` until it returns false; false if it did (the rest stays unread),
 * true when nothing is left.
 */
export function readPublished(inbound: Lane, visit: (token: TokenValue) => boolean): boolean {
  const { header, data } = inbound;
  const published = Atomics.load(header, 0);
  let read = Atomics.load(header, 1);
  while (read !== published) {
    let start = read & (CAPACITY - 1);
    let length = data.readInt32LE(start);
    if (length < 0) {
      read += CAPACITY - start;
      start = 0;
      length = data.readInt32LE(0);
    }
    const token = Token.decode(data, start + 4).value as TokenValue;
    read += (length + 4 + 7) & ~7;
    Atomics.store(header, 1, read);
    if (!visit(token)) return false;
  }
  return true;
}

/** Whether a record is published and unread on `inbound`. */
export function readable(inbound: Lane): boolean {
  return Atomics.load(inbound.header, 0) !== Atomics.load(inbound.header, 1);
}

/**
 * Plays one side until a token with a negative count arrives: reads every
 * published record and hands each token to its relay, which sends it on.
 * `relay` returns false when the ring is done on this side.
 */
function play(inbound: Lane, relay: (token: TokenValue) => boolean): void {
  for (;;) {
    if (readable(inbound) && !readPublished(inbound, relay)) return;
  }
}

/** The relays of one side: relay `i` sends to `i - 1` (0 to `size - 1`), a count one less; at 0 the ring stops. */
function relays(size: number, first: number, outbound: Lane, done: (k: number) => boolean): (token: TokenValue) => boolean {
  const table: ((k: number) => boolean)[] = [];
  for (let i = first; i < size; i += 2) {
    const next = (i + size - 1) % size;
    table[i] = (k) => {
      if (k <= 0) return done(k);
      write(outbound, { k: k - 1, to: next });
      return true;
    };
  }
  return (token) => table[token.to](token.k);
}

/** What a ring's partner worker is given (under its program's key in `workerData`). */
export interface PartnerSetup {
  readonly toPartner: SharedArrayBuffer;
  readonly toMe: SharedArrayBuffer;
  readonly size: number;
}

/**
 * Checks a ring's sizes, makes its two lanes and starts `file` as the partner
 * worker (its setup under `key` in `workerData`); resolves once it says it is
 * ready. Both ring programs (./ring-floor.ts, ./ring-layered.ts) start so.
 */
export async function startPartner(file: string, key: string, size: number, hops: number, warm: number): Promise<PartnerSetup & { worker: Worker }> {
  if (size % 2 !== 0 || hops % size !== 0 || warm % size !== 0) throw new RangeError(`${key}: an even ring size that divides the hops`);
  const setup: PartnerSetup = { toPartner: laneMemory(), toMe: laneMemory(), size };
  const worker = startWorker(file, { workerData: { [key]: setup } });
  try {
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  return { ...setup, worker };
}

/**
 * Passes a token `hops` times round a ring of `size` relays (even: every hop
 * crosses), half on this thread and half on a fresh worker; hops per second
 * of the timed stretch, after one untimed stretch of `warm` hops.
 */
export async function ringFloor(size: number, hops: number, warm = 100 * size): Promise<RingSample> {
  const { toPartner, toMe, worker } = await startPartner(__filename, 'ringFloor', size, hops, warm);
  try {
    const [outbound, inbound] = [laneOf(toPartner), laneOf(toMe)];
    const mine = relays(size, 0, outbound, () => false);
    // Relay 0 starts a stretch (as the first relay's request does in rxwire's ring) and ends it when the count comes back to it at 0.
    const stretch = (k: number) => {
      mine({ k, to: 0 });
      play(inbound, mine);
    };
    stretch(warm);
    const t0 = performance.now();
    stretch(hops);
    const seconds = (performance.now() - t0) / 1000;
    write(outbound, { k: -1, to: size - 1 });
    return { rate: hops / seconds };
  } finally {
    await worker.terminate();
  }
}

// The partner: started by ringFloor with its workerData.
const partner = !isMainThread && (workerData as { ringFloor?: PartnerSetup } | null)?.ringFloor;
if (partner) {
  const outbound = laneOf(partner.toMe);
  parentPort?.postMessage('ready');
  // A negative count is the end; a count of 0 never reaches an odd relay (relay 0 is the measuring thread's).
  play(laneOf(partner.toPartner), relays(partner.size, 1, outbound, (k) => k >= 0));
}
