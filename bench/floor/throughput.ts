/**
 * Floor runners for throughput: the same job as rxwire's shm cases, written
 * bare over bench/floor/sab-ring.ts, so a row can say how far rxwire is from
 * what this machine allows.
 *   - {@link floorTradeRing}: Trades encoded in place with plain avsc
 *     (`type.encode(value, buf, pos)`, no validation), decoded out in the
 *     worker with `type.decode`;
 *   - {@link floorFixedRing}: fixed slots of `bytes` (32 B or 64 KiB),
 *     copied in with `buf.set`, read in place (not copied) by the worker.
 * Publishes every `batch` records (one atomic store and a notify).
 */
import * as avro from 'avsc';
import type { Runner, Sample } from '../harness';
import { timeSends } from '../port/throughput';
import { bytesPool } from '../shm/bytes';
import { POOL_MASK, Trade, tradePool } from '../trade';
import { startBenchWorker } from '../worker-host';
import { HEAD, TAIL, floorRing, mapFloorRing, waitChange, writeRecord, type FloorRing } from './sab-ring';

/** Sizes of one repetition. */
export interface FloorSize {
  readonly n: number;
  readonly warmup: number;
  /** Records per publish. */
  readonly batch?: number;
  /** Data bytes of the ring (a power of two). */
  readonly ringBytes?: number;
}

/** The largest encoded Trade we leave room for before wrapping. */
const MAX_TRADE = 256;

/** Bare SAB ring + avsc in place, main → worker (decode out). */
export function floorTradeRing(size: FloorSize, name = 'bare SAB ring + avsc'): Runner {
  const pool = tradePool();
  const type = avro.Type.forSchema(Trade.schema as avro.Schema);
  const reader = { form: 'avro', slot: 0, schema: Trade.schema, idMask: POOL_MASK };
  return floorRunner(name, size, size.batch ?? 64, reader, (ring, head, i) => writeRecord(ring, head, type, pool[i & POOL_MASK], MAX_TRADE, room));
}

/** Bare fixed-slot SAB ring: `bytes`-byte records copied in, read in place. */
export function floorFixedRing(size: FloorSize & { readonly bytes: number }, name = `fixed-slot SAB ring, ${size.bytes} B`): Runner {
  const pool = bytesPool(size.bytes, 256);
  const reader = { form: 'fixed', slot: size.bytes, schema: 'null', idMask: 255 };
  const runner = floorRunner(name, size, size.batch ?? 256, reader, (ring, head, i) => {
    room(ring, head, size.bytes);
    ring.data.set(pool[i & 255], head & ring.mask);
    return (head + size.bytes) | 0;
  });
  if (size.bytes < 1024) return runner;
  return {
    ...runner,
    async run(): Promise<Sample> {
      const sample = await runner.run();
      return { ...sample, mbps: (sample.rate * size.bytes) / 1e6 };
    },
  };
}

/**
 * Writes record `i` at cursor `head` (waiting for room with {@link room}),
 * returns the cursor after it.
 */
type WriteRecord = (ring: FloorRing, head: number, i: number) => number;

/**
 * The floor runner both forms share: a fresh ring and `floor-count` worker
 * (told how to read by `reader`) per repetition, records written by `write`,
 * published every `batch` records with one store and one notify, timed by
 * `timeSends`.
 */
function floorRunner(name: string, size: FloorSize, batch: number, reader: object, write: WriteRecord): Runner {
  return {
    name,
    role: 'floor',
    async run(): Promise<Sample> {
      const sab = floorRing(size.ringBytes ?? 1 << 20);
      const ring = mapFloorRing(sab);
      const total = size.warmup + size.n;
      const bench = startBenchWorker('floor-count', { ring: sab, count: total, warmup: size.warmup, ...reader }, []);
      let head = 0;
      const writeRange = (from: number, to: number): void => {
        for (let i = from; i < to; ) {
          const end = Math.min(i + batch, to);
          for (; i < end; i++) head = write(ring, head, i);
          Atomics.store(ring.header, HEAD, head);
          Atomics.notify(ring.header, HEAD);
        }
      };
      try {
        return await timeSends(bench, size, writeRange);
      } finally {
        await bench.stop();
      }
    },
  };
}

/** Waits until `need` bytes are free after `head` (publishing first, so the reader can free them). */
function room(ring: FloorRing, head: number, need: number): void {
  const { header, mask } = ring;
  for (;;) {
    const tail = Atomics.load(header, TAIL);
    if (((head - tail) | 0) + need <= mask + 1) return;
    Atomics.store(header, HEAD, head);
    Atomics.notify(header, HEAD);
    if (!waitChange(header, TAIL, tail)) throw new Error('floor ring: no room for 10 s (the reader is gone or stuck)');
  }
}
