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
import { HEAD, SKIP, TAIL, floorRing, mapFloorRing, waitChange, type FloorRing } from './sab-ring';

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
  const batch = size.batch ?? 64;
  return {
    name,
    role: 'floor',
    async run(): Promise<Sample> {
      const sab = floorRing(size.ringBytes ?? 1 << 20);
      const ring = mapFloorRing(sab);
      const total = size.warmup + size.n;
      const bench = startBenchWorker('floor-count', { ring: sab, count: total, warmup: size.warmup, form: 'avro', slot: 0, schema: Trade.schema, idMask: POOL_MASK }, []);
      let head = 0;
      const write = (from: number, to: number): void => {
        const { data, header, mask } = ring;
        const bytes = mask + 1;
        for (let i = from; i < to; ) {
          const end = Math.min(i + batch, to);
          for (; i < end; i++) {
            let at = head & mask;
            if (bytes - at < MAX_TRADE) {
              room(ring, head, bytes - at);
              data.writeUInt32LE(SKIP, at);
              head = (head + (bytes - at)) | 0;
              at = 0;
            }
            room(ring, head, MAX_TRADE);
            const next = type.encode(pool[i & POOL_MASK], data, at + 4);
            data.writeUInt32LE(next - at - 4, at);
            head = (head + (next - at)) | 0;
          }
          Atomics.store(header, HEAD, head);
          Atomics.notify(header, HEAD);
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

/** Bare fixed-slot SAB ring: `bytes`-byte records copied in, read in place. */
export function floorFixedRing(size: FloorSize & { readonly bytes: number }, name = `fixed-slot SAB ring, ${size.bytes} B`): Runner {
  const pool = bytesPool(size.bytes, 256);
  const batch = size.batch ?? 256;
  return {
    name,
    role: 'floor',
    async run(): Promise<Sample> {
      const sab = floorRing(size.ringBytes ?? 1 << 20);
      const ring = mapFloorRing(sab);
      const total = size.warmup + size.n;
      const bench = startBenchWorker('floor-count', { ring: sab, count: total, warmup: size.warmup, form: 'fixed', slot: size.bytes, schema: 'null', idMask: 255 }, []);
      let head = 0;
      const write = (from: number, to: number): void => {
        const { data, header, mask } = ring;
        for (let i = from; i < to; ) {
          const end = Math.min(i + batch, to);
          for (; i < end; i++) {
            room(ring, head, size.bytes);
            data.set(pool[i & 255], head & mask);
            head = (head + size.bytes) | 0;
          }
          Atomics.store(header, HEAD, head);
          Atomics.notify(header, HEAD);
        }
      };
      try {
        const sample = await timeSends(bench, size, write);
        return size.bytes >= 1024 ? { ...sample, mbps: (sample.rate * size.bytes) / 1e6 } : sample;
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
