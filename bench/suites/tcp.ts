/**
 * Suite `tcp`: rxwire's TCP transport over loopback (127.0.0.1), the main
 * thread sending to a worker thread (each end on its own thread, so each
 * has a core), against a bare `net` program doing the same work in the same
 * run:
 *   - Trade throughput, msgs/s: a WireSubject with the Trade codec vs Trades
 *     encoded with the same avsc schema into ~64 KiB length-prefixed batches
 *     on a plain socket, parsed and decoded one by one in the worker;
 *   - 64 KiB frames, MB/s: a WireSubject with the raw codec vs plain
 *     length + payload writes.
 * A ratio > 1 means rxwire is faster. Sizes in bench/README.md.
 */
import type { Case, Suite } from '../harness';
import { bareBytesThroughput, bareTradeThroughput } from '../tcp/throughput';
import { tcpBytesThroughput, tcpWireThroughput } from '../tcp/wire';

const KIB = 1024;
const MIB = 1024 * KIB;
/** Live application state each receiving worker holds in the third case (workers/app-state.ts). */
const APP_STATE_MIB = 8;

export const tcpSuite: Suite = {
  name: 'tcp',
  title: 'WireSubject over TCP loopback vs bare batched avsc over net: msgs/s, 64 KiB frames MB/s',
  cases({ quick }): Case[] {
    const trades = quick ? { n: 200_000, warmup: 20_000 } : { n: 2_000_000, warmup: 100_000 };
    const big = quick ? { n: 2_000, warmup: 200, bytes: 64 * KIB } : { n: 20_000, warmup: 2_000, bytes: 64 * KIB };
    return [
      {
        name: 'Trade throughput over loopback',
        metrics: [{ key: 'rate', label: 'Trade throughput main→worker over loopback', unit: 'msgs/s', better: 'higher' }],
        subject: tcpWireThroughput(trades),
        baselines: [{ ...bareTradeThroughput(trades), role: 'floor' }],
      },
      {
        name: '64 KiB frames over loopback',
        metrics: [{ key: 'mbps', label: '64 KiB frames main→worker over loopback', unit: 'MB/s', better: 'higher' }],
        subject: tcpBytesThroughput(big),
        baselines: [{ ...bareBytesThroughput(big), role: 'floor' }],
      },
      {
        // The same, with both receiving workers holding the same live objects
        // (workers/app-state.ts): out of the heap-size band in which V8 runs a
        // mark-compact after nearly every young collection while 64 KiB buffers
        // stream in, which the floor's tiny heap stays under and rxwire's does not.
        name: '64 KiB frames over loopback, receiver holding application state',
        metrics: [{ key: 'mbps', label: `64 KiB frames main→worker over loopback, worker holding ${APP_STATE_MIB} MiB`, unit: 'MB/s', better: 'higher' }],
        subject: tcpBytesThroughput(big, APP_STATE_MIB * MIB),
        baselines: [{ ...bareBytesThroughput(big, { appStateBytes: APP_STATE_MIB * MIB }), role: 'floor' }],
      },
    ];
  },
};
