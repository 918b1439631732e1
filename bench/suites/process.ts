/**
 * Suite `process`: rxwire's lightweight processes against nact 7.6.2 (the
 * peer: actors on one thread) and, when `erl` is installed, the same
 * programs in Erlang/OTP (the anchor), all in the same run:
 *   - spawn of 100k idle processes: µs per spawn, heap and RSS bytes per
 *     live process (growth divided by the count);
 *   - a ring of 1,000 processes passing a token (a hop is one message):
 *     within one thread, and across two threads (every hop crosses),
 *     which nact cannot do (its row there is its one-thread figure).
 * Targets (issue 13): spawn ≤ 2 µs, ≤ 1 KB a process, ≥ 4M hops/s in one
 * thread and ≥ 2× nact's rate; ≥ 1M hops/s across two threads. The
 * two-thread ring is also held against its floors on this machine: a bare
 * ping-pong of one shared Int32 between two threads, and the same ring of
 * 1,000 written bare (avsc records in a SAB ring, a table of relays).
 * A ratio > 1 means rxwire did better. Sizes in bench/README.md.
 */
import type { Case, Runner, Suite } from '../harness';
import { erlangRelease, erlangRing, erlangSpawn } from '../process/erlang';
import { workerRunner } from '../process/measure';

/** Erlang's runners, or none (with a note on stderr) when `erl` is not there. */
function erlang(make: () => Runner): Runner[] {
  return erlangFound() ? [make()] : [];
}

let found: boolean | undefined;
function erlangFound(): boolean {
  if (found === undefined) {
    const release = erlangRelease();
    found = release !== undefined;
    if (!found) process.stderr.write('bench process: erl not found (Debian: apt-get install erlang-base; or set ERL): the Erlang rows are left out\n');
  }
  return found;
}

export const processSuite: Suite = {
  name: 'process',
  title: 'lightweight processes: spawn µs and bytes per idle process, token ring hops/s in one thread and across two, vs nact and Erlang',
  cases({ quick }): Case[] {
    const n = quick ? 20_000 : 100_000;
    const size = 1_000;
    const hops = quick ? 100_000 : 1_000_000;
    const nactHops = quick ? 20_000 : 200_000;
    // Every hop of the two-thread ring wakes the other thread: latency-bound, so far fewer
    // hops (quick) keep a loaded machine's run short; each reports a rate.
    const crossHops = quick ? 10_000 : 1_000_000;
    return [
      {
        name: `spawn ${n / 1000}k idle processes`,
        metrics: [
          { key: 'spawnUs', label: `spawn, ${n / 1000}k idle processes`, unit: 'µs', better: 'lower' },
          { key: 'heapBytes', label: 'heap per idle process', unit: 'B', better: 'lower' },
          { key: 'rssBytes', label: 'RSS per idle process', unit: 'B', better: 'lower' },
        ],
        subject: workerRunner('rxwire', { program: 'rxwire-spawn', n }),
        baselines: [workerRunner('nact', { program: 'nact-spawn', n }), ...erlang(() => erlangSpawn(n))],
      },
      {
        name: 'ring of 1,000, one thread',
        metrics: [{ key: 'rate', label: 'token ring of 1,000, one thread (hops)', unit: 'msgs/s', better: 'higher' }],
        subject: workerRunner('rxwire', { program: 'rxwire-ring-one-thread', size, hops }),
        baselines: [workerRunner('nact', { program: 'nact-ring', size, hops: nactHops }), ...erlang(() => erlangRing(size, hops, 1))],
      },
      {
        name: 'ring of 1,000, across two threads',
        metrics: [{ key: 'rate', label: 'token ring of 1,000, two threads (hops)', unit: 'msgs/s', better: 'higher' }],
        subject: workerRunner('rxwire', { program: 'rxwire-ring-two-threads', size, hops: crossHops }),
        baselines: [
          workerRunner('nact (one thread)', { program: 'nact-ring', size, hops: nactHops }),
          ...erlang(() => erlangRing(size, crossHops, 2)),
          // this machine's limit for a token crossing threads: one shared Int32 passed back and forth (bench/process/pingpong.ts)
          { ...workerRunner('bare SAB ping-pong, wake-up per hop', { program: 'floor-ping-pong-wait', hops: crossHops }), role: 'floor' },
          { ...workerRunner('bare SAB ping-pong, both spinning', { program: 'floor-ping-pong-spin', hops: crossHops }), role: 'floor' },
          // the same ring written bare: avsc into a SAB ring, a table of relays, both threads spinning (bench/process/ring-floor.ts)
          { ...workerRunner('bare SAB ring of 1,000 + avsc', { program: 'floor-ring-codec', size, hops: crossHops }), role: 'floor' },
        ],
      },
    ];
  },
};
