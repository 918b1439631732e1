/**
 * Live application state for a bench worker: small objects that stay alive
 * for the whole run, as any real program's caches, sessions and module data
 * do. Used by the tcp suite's 64 KiB case, in the rxwire worker and the
 * floor's alike, because of how V8 (Node 20) schedules full collections: an
 * isolate whose old generation is under 8 MB never starts incremental
 * marking, and one a little over it, receiving ~1 GB/s into fresh 64 KiB
 * buffers, starts a mark-compact after almost every young collection (the
 * external bytes allocated since the last one exceed the small heap's
 * headroom). The bare floor's worker sits at ~7.9 MB, rxwire's at ~8.4 MB
 * (rxjs and the library's modules): measured, 7 against 50–90
 * mark-compacts per run, and the floor itself fell from 1.3–1.9 GB/s to
 * ~0.85 GB/s with 0.7 MB of such state added (bench/README.md, session 34).
 * With a few MiB held by both, neither sits in that band and the ratio
 * measures the work per value, not which side of V8's threshold a heap
 * happens to fall on.
 */
import { getHeapStatistics } from 'node:v8';

/** What is held: reachable from here until the thread exits. */
const held: unknown[][] = [];

/**
 * Allocates small objects until this isolate's used heap has grown by
 * `bytes` (0: nothing), and keeps them alive.
 */
export function holdAppState(bytes: number): void {
  const start = getHeapStatistics().used_heap_size;
  for (let n = 0; getHeapStatistics().used_heap_size - start < bytes; n++) {
    const block: unknown[] = [];
    for (let i = 0; i < 4096; i++) block.push({ id: n * 4096 + i, name: `entry ${n}.${i}` });
    held.push(block);
  }
}
