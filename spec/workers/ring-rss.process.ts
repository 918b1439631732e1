/**
 * Prints, as one JSON line, how much this process's RSS grew while each of
 * the shm rings below was made (each of `argv[2]` bytes). Run alone, with `--expose-gc`: a collection
 * is forced before each measurement, so no garbage collected during the
 * measurement can hand pages back and hide the ring's (a GC set off by a
 * 64 MiB external allocation inside a busy jest worker once did: +29 MB).
 */
import { shm } from '../../transports';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

const kept: unknown[] = [];
async function rssGrowth(make: () => unknown): Promise<number> {
  // Twice, with a pause between: V8 hands freed pages back on helper threads a little after a collection.
  gc!();
  await new Promise((resolve) => setTimeout(resolve, 50));
  gc!();
  const before = process.memoryUsage().rss;
  kept.push(make());
  return process.memoryUsage().rss - before;
}

async function main(): Promise<void> {
  const bytes = Number(process.argv[2]);
  const growth = {
    ringLazy: await rssGrowth(() => shm.ring({ bytes, prefault: false })),
    ringMapped: await rssGrowth(() => shm.ring({ bytes })),
    pairLazy: await rssGrowth(() => shm.pair({ bytes, prefault: false })),
    pairMapped: await rssGrowth(() => shm.pair({ bytes, prefault: true })),
  };
  process.stdout.write(`${JSON.stringify(growth)}\n`);
}

void main();
