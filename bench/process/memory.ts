/**
 * Memory readings for the spawn cases: a full garbage collection, then the
 * heap in use (this thread's V8 isolate) and the resident set (the whole OS
 * process). `gc` comes from V8's `--expose-gc`, turned on at run time, so
 * the bench needs no node flag.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap in use and resident set, in bytes, after a full collection. */
export interface MemoryReading {
  readonly heap: number;
  readonly rss: number;
}

/** Collects garbage and reads the heap in use and the resident set. */
export function readMemory(): MemoryReading {
  gc();
  gc();
  const { heapUsed, rss } = process.memoryUsage();
  return { heap: heapUsed, rss };
}

/** The growth from `before` to `after`, per one of `count` things, as the spawn cases' sample fields. */
export function perThing(before: MemoryReading, after: MemoryReading, count: number): { heapBytes: number; rssBytes: number } {
  return { heapBytes: (after.heap - before.heap) / count, rssBytes: (after.rss - before.rss) / count };
}
