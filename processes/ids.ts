/**
 * How a process id is made (the one place that says it): the thread that
 * made it times ID_SPAN, plus that thread's count (processes/bonds.ts
 * `nextId`). Counts from REMOTE_IDS up are other nodes' spawns, given out
 * in blocks (processes/remote-frame.ts SPAWN_BLOCK, docs/PROTOCOL.md).
 */
import { SPAWN_BLOCK } from './remote-frame';

/** Ids per making thread. */
export const ID_SPAN = 2 ** 32;

/** The first count of another node's spawn in a thread's span. */
export const REMOTE_IDS = SPAWN_BLOCK.base;

/** The thread that made process `id`. */
export function makerOf(id: number): number {
  return Math.floor(id / ID_SPAN);
}

/** Process `id`'s count within its maker's span. */
export function countOf(id: number): number {
  return id % ID_SPAN;
}
