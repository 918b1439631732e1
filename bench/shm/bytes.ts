/**
 * Byte-payload throughput runners: `n` Uint8Arrays of `bytes` bytes each,
 * main → worker, after `warmup` untimed ones; the worker checks each one's
 * first byte (its sequence number `& mask`) and reports when it has them
 * all. Each repetition reports `rate` (values/s) and `mbps` (payload MB/s,
 * 1 MB = 10^6 bytes).
 */
import { MessageChannel } from 'node:worker_threads';
import { raw } from '../../core/codec';
import { open } from '../../transports/open';
import { shm, transferList } from '../../transports';
import type { Runner, Sample } from '../harness';
import { timeSends, trySendRange, type SendRange } from '../port/throughput';
import { startBenchWorker } from '../worker-host';

/** Sizes of one repetition. */
export interface BytesSize {
  /** Values timed. */
  readonly n: number;
  /** Values sent (and counted) before the clock starts. */
  readonly warmup: number;
  /** Bytes per value. */
  readonly bytes: number;
}

/** Options of {@link shmBytesThroughput}. */
export interface ShmBytesOptions {
  /** Borrowed delivery in the worker (`open(end, raw, { borrow: true })`): views into the ring, not copies. */
  readonly borrow?: boolean;
}

/** Distinct payloads cycled through; a power of two. */
const POOL = 16;
const MASK = POOL - 1;

/** `POOL` payloads of `bytes` bytes; the k-th has k in its first byte, the rest is filler. */
export function bytesPool(bytes: number, pool = POOL): Uint8Array[] {
  return Array.from({ length: pool }, (_, k) => {
    const b = new Uint8Array(bytes);
    for (let j = 1; j < bytes; j++) b[j] = (j * 31 + k) & 255;
    b[0] = k;
    return b;
  });
}

/**
 * rxwire: a WireSubject with the `raw` codec over `shm.pair({ bytes: ringBytes })`
 * to `wire-bytes-count`: `trySend`, and `await send` when the ring is full;
 * with `borrow`, the worker reads each value as a view into the ring.
 */
export function shmBytesThroughput(size: BytesSize, ringBytes: number, name = 'WireSubject raw over shm', options: ShmBytesOptions = {}): Runner {
  const pool = bytesPool(size.bytes);
  return {
    name,
    async run(): Promise<Sample> {
      const [here, there] = shm.pair({ bytes: ringBytes });
      const total = size.warmup + size.n;
      const bench = startBenchWorker(
        'wire-bytes-count',
        { end: there, count: total, warmup: size.warmup, mask: MASK, borrow: options.borrow },
        transferList(there),
      );
      const wire = open(here, raw, { worker: bench.worker });
      const send: SendRange = (from, to) => trySendRange(wire, pool, MASK, from, to);
      try {
        return withMbps(await timeSends(bench, size, send), size.bytes);
      } finally {
        wire.close();
        await bench.stop();
      }
    },
  };
}

/** Baseline: one `postMessage(u8)` per payload, structured clone (copied, not transferred), to `raw-bytes-count`. */
export function rawBytesThroughput(size: BytesSize, name = 'postMessage(Uint8Array) copy'): Runner {
  const pool = bytesPool(size.bytes);
  return {
    name,
    async run(): Promise<Sample> {
      const { port1, port2 } = new MessageChannel();
      const total = size.warmup + size.n;
      const bench = startBenchWorker('raw-bytes-count', { port: port2, count: total, warmup: size.warmup, mask: MASK }, [port2]);
      try {
        const sample = await timeSends(bench, size, (from, to) => {
          for (let i = from; i < to; i++) port1.postMessage(pool[i & MASK]);
        });
        return withMbps(sample, size.bytes);
      } finally {
        port1.close();
        await bench.stop();
      }
    },
  };
}

function withMbps(sample: Sample, bytes: number): Sample {
  return { rate: sample.rate, mbps: (sample.rate * bytes) / 1e6 };
}
