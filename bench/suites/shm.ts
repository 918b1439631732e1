/**
 * Suite `shm`: rxwire's shared-memory transport (rings in SharedArrayBuffers)
 * between the main thread and a worker, against raw `postMessage`:
 *   - Trade throughput main→worker over a WireSubject, msgs/s;
 *   - Trade round trip (default wait strategy), p50 and p99 in µs, driven
 *     from the handler, and (its own case) with an `await` per round trip;
 *   - 64 KiB raw payloads over a WireSubject, MB/s;
 *   - the bare ring: 32-byte records, one publish per batch, records/s.
 * A ratio > 1 means rxwire is faster. Sizes in bench/README.md.
 */
import { roundTrips, type Case, type Suite } from '../harness';
import { rawThroughput, wireThroughput } from '../port/throughput';
import { rawBytesThroughput, shmBytesThroughput } from '../shm/bytes';
import { ringBatchThroughput } from '../shm/ring';
import { rawPingPong, shmRoundTrip } from '../shm/round-trip';
import { shmWireThroughput } from '../shm/throughput';
import { floorPingPong } from '../floor/ping-pong';
import { underHog } from '../hog';
import { floorFixedRing, floorTradeRing } from '../floor/throughput';

const KIB = 1024;

export const shmSuite: Suite = {
  name: 'shm',
  title: 'WireSubject and bare ring over shared memory vs raw postMessage: msgs/s, round trip (µs), MB/s, records/s',
  cases({ quick }): Case[] {
    // A fresh worker's reader keeps speeding up over its first ~500k Trades: its TurboFan compiles wait for a core
    // both threads keep busy (the bare ring's two small loops are warm by 50k). The clock starts after them, so the
    // row measures the per-value cost it is about (bench/README.md, "Notes: a fresh reader's first 500k Trades").
    const trades = quick ? { n: 200_000, warmup: 20_000 } : { n: 1_000_000, warmup: 500_000 };
    const rtt = roundTrips(quick);
    // 64 KiB values are few calls for the JIT: every receiver here (copying, borrowing, postMessage) still speeds up
    // over its first ~10k values (bench/README.md, "64 KiB: the warm-up"), so that many go before the clock.
    const big = quick ? { n: 2_000, warmup: 1_000, bytes: 64 * KIB } : { n: 20_000, warmup: 10_000, bytes: 64 * KIB };
    const small = { bytes: 32 };
    const ring = quick
      ? { ...small, n: 2_000_000, warmup: 200_000, batch: 256, ringBytes: 1 << 20 }
      : { ...small, n: 10_000_000, warmup: 500_000, batch: 256, ringBytes: 1 << 20 };
    const smallPosts = quick ? { ...small, n: 200_000, warmup: 20_000 } : { ...small, n: 1_000_000, warmup: 50_000 };
    const smallWire = quick ? { ...small, n: 1_000_000, warmup: 100_000 } : { ...small, n: 4_000_000, warmup: 200_000 };
    return [
      {
        name: 'Trade throughput main→worker',
        metrics: [{ key: 'rate', label: 'Trade throughput main→worker (trySend)', unit: 'msgs/s', better: 'higher' }],
        subject: shmWireThroughput(trades),
        baselines: [rawThroughput(trades), { ...wireThroughput(trades, 'trySend'), name: 'WireSubject over port', role: 'reference' }, floorTradeRing(trades)],
      },
      {
        name: 'Trade round trip',
        metrics: [
          { key: 'p50', label: 'Trade round trip p50', unit: 'µs', better: 'lower' },
          { key: 'p99', label: 'Trade round trip p99', unit: 'µs', better: 'lower' },
        ],
        subject: shmRoundTrip(rtt, 'callback'),
        baselines: [rawPingPong(rtt, 'callback'), floorPingPong(rtt)],
      },
      {
        name: 'Trade round trip, await per trip',
        metrics: [
          { key: 'p50', label: 'Trade round trip p50 (await)', unit: 'µs', better: 'lower' },
          { key: 'p99', label: 'Trade round trip p99 (await)', unit: 'µs', better: 'lower' },
        ],
        subject: shmRoundTrip(rtt, 'await'),
        baselines: [rawPingPong(rtt, 'await'), floorPingPong(rtt)],
      },
      {
        name: 'Trade round trip, CPU hog on the other core',
        metrics: [
          { key: 'p50', label: 'Trade round trip p50 (CPU hog)', unit: 'µs', better: 'lower' },
          { key: 'p99', label: 'Trade round trip p99 (CPU hog)', unit: 'µs', better: 'lower' },
        ],
        subject: underHog(shmRoundTrip(rtt, 'callback')),
        baselines: [underHog(rawPingPong(rtt, 'callback')), underHog(floorPingPong(rtt))],
      },
      {
        name: '64 KiB raw throughput main→worker',
        metrics: [{ key: 'mbps', label: '64 KiB raw throughput main→worker', unit: 'MB/s', better: 'higher' }],
        subject: shmBytesThroughput(big, 1 << 22),
        baselines: [rawBytesThroughput(big), floorFixedRing({ ...big, batch: 1, ringBytes: 1 << 22 })],
      },
      {
        name: '64 KiB raw throughput main→worker, borrowed',
        metrics: [{ key: 'mbps', label: '64 KiB raw throughput main→worker (borrow)', unit: 'MB/s', better: 'higher' }],
        subject: shmBytesThroughput(big, 1 << 22, 'WireSubject raw over shm, borrow', { borrow: true }),
        baselines: [rawBytesThroughput(big), floorFixedRing({ ...big, batch: 1, ringBytes: 1 << 22 })],
      },
      {
        name: '32 B records, bare ring, batch publish',
        metrics: [{ key: 'rate', label: '32 B records, ring batch 256', unit: 'records/s', better: 'higher' }],
        subject: ringBatchThroughput(ring),
        baselines: [
          rawBytesThroughput(smallPosts, 'postMessage(32 B Uint8Array)'),
          { ...shmBytesThroughput(smallWire, 1 << 20, 'WireSubject raw 32 B, shm'), role: 'reference' },
          floorFixedRing({ ...ring, batch: ring.batch, ringBytes: ring.ringBytes }),
        ],
      },
    ];
  },
};
