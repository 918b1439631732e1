/** The rings of a node's direct path (./direct.ts): one per ordered pair of its threads, made by `startNode`. */
import { createRing } from '../transports/shm/layout';

/** The ring from thread `from` to thread `to` in a node of `count` threads (the node's own included). */
export function ringIndex(from: number, to: number, count: number): number {
  return from * count + to;
}

/**
 * The rings of a node of `count` threads (the node's own included): one per ordered pair, null on the diagonal.
 * Not prefaulted: all are made here, on the calling thread, and on a large machine they are many (a node of
 * 64 workers has 4,160); each page is mapped by the first write into it instead.
 */
export function directRings(count: number, bytes: number): (SharedArrayBuffer | null)[] {
  const rings: (SharedArrayBuffer | null)[] = [];
  for (let from = 0; from < count; from++) for (let to = 0; to < count; to++) rings.push(from === to ? null : createRing({ bytes, prefault: false }));
  return rings;
}
