/**
 * Suite `port`: rxwire's WireSubject over the port transport against raw
 * `postMessage` between the main thread and a worker.
 *   - throughput main→worker, msgs/s (ratio = value / baseline);
 *   - round trip of one Trade, p50 and p99 in µs (ratio = baseline / value).
 * Either way a ratio > 1 means rxwire is faster.
 */
import { roundTrips, type Case, type Suite } from '../harness';
import { rawRoundTrip, wireRoundTrip } from '../port/round-trip';
import { rawThroughput, wireThroughput } from '../port/throughput';

export const portSuite: Suite = {
  name: 'port',
  title: 'WireSubject over MessagePort vs raw postMessage: throughput (msgs/s), round trip (µs)',
  cases({ quick }): Case[] {
    const size = quick ? { n: 200_000, warmup: 20_000 } : { n: 1_000_000, warmup: 50_000 };
    const rtt = roundTrips(quick);
    return [
      {
        name: 'Trade throughput main→worker (await send)',
        metrics: [{ key: 'rate', label: 'Trade throughput main→worker (await send)', unit: 'msgs/s', better: 'higher' }],
        subject: wireThroughput(size, 'send'),
        baselines: [rawThroughput(size)],
      },
      {
        name: 'Trade throughput main→worker (trySend)',
        metrics: [{ key: 'rate', label: 'Trade throughput main→worker (trySend)', unit: 'msgs/s', better: 'higher' }],
        subject: wireThroughput(size, 'trySend'),
        baselines: [rawThroughput(size)],
      },
      {
        name: 'Trade round trip',
        metrics: [
          { key: 'p50', label: 'Trade round trip p50', unit: 'µs', better: 'lower' },
          { key: 'p99', label: 'Trade round trip p99', unit: 'µs', better: 'lower' },
        ],
        subject: wireRoundTrip(rtt),
        baselines: [rawRoundTrip(rtt)],
      },
    ];
  },
};
