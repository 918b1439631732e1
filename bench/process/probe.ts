/**
 * A probe of the process suite's rxwire programs, for the engineer who
 * makes them faster: runs one program a few times, each in a fresh
 * measuring worker as the suite does, and prints every field of its
 * sample — for the rings, besides the rate, where the timed stretch's wall
 * time went (bench/process/clock.ts: the measuring thread's CPU share and
 * run-queue wait, the other threads' CPU, hops per second of the thread's
 * own CPU) — with the machine's load average.
 *
 *   npm run build && node dist/bench/process/probe.js ring-one [hops] [runs] [wait] [spinMicros]
 *   node dist/bench/process/probe.js ring-two [hops] [runs] [wait] [spinMicros]
 *   node dist/bench/process/probe.js spawn [n] [runs]
 *   node dist/bench/process/probe.js floor-spin|floor-wait|floor-ring|floor-layered [hops] [runs]
 *
 * `wait` and `spinMicros` are the node's (NodeOptions); the floors are a
 * bare two-thread ping-pong through shared memory (bench/process/pingpong.ts)
 * and the ring of 1,000 written bare (bench/process/ring-floor.ts); `floor-layered`
 * is that ring with a scheduler's shape on top (bench/process/ring-layered.ts).
 */
import { loadavg } from 'node:os';
import { measureInWorker } from './measure';
import type { MeasureData } from './protocol';

function dataOf(what: string, count: number, wait: string | undefined, spin: string | undefined): MeasureData {
  const node = { ...(wait && { wait: wait as MeasureData['wait'] }), ...(spin !== undefined && { spinMicros: Number(spin) }) };
  switch (what) {
    case 'ring-one':
      return { program: 'rxwire-ring-one-thread', size: 1000, hops: count, ...node };
    case 'ring-two':
      return { program: 'rxwire-ring-two-threads', size: 1000, hops: count, ...node };
    case 'spawn':
      return { program: 'rxwire-spawn', n: count };
    case 'floor-spin':
      return { program: 'floor-ping-pong-spin', hops: count };
    case 'floor-wait':
      return { program: 'floor-ping-pong-wait', hops: count };
    case 'floor-ring':
      return { program: 'floor-ring-codec', size: 1000, hops: count };
    case 'floor-layered':
      return { program: 'floor-ring-layered', size: 1000, hops: count };
  }
  throw new TypeError(`probe: ${JSON.stringify(what)} is not ring-one, ring-two, spawn, floor-spin, floor-wait, floor-ring or floor-layered`);
}

function format(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3);
}

async function main(argv: readonly string[]): Promise<void> {
  const [what = 'ring-one', count = what === 'spawn' ? '100000' : '1000000', runs = '3', wait, spin] = argv;
  const data = dataOf(what, Number(count), wait, spin);
  for (let run = 0; run < Number(runs); run++) {
    const load = loadavg()[0].toFixed(2);
    const sample = await measureInWorker(data);
    const fields = Object.entries(sample).map(([key, value]) => `${key}=${format(value)}`);
    process.stdout.write(`${data.program} load=${load} ${fields.join(' ')}\n`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
