/**
 * Where a spawn on another node runs, chosen by the spawner (the handle's
 * ProcessRef names the thread, and `spawn` returns it at once): the
 * other node's loads as its gateway last reported them (LOAD frames, every
 * LOAD_INTERVAL ms while they change; docs/PROTOCOL.md, "Remote processes").
 */
import type { Placement } from './types';

/** How often (ms) a cluster node tells its linked nodes how many processes each of its threads hosts, when that changed. */
export const LOAD_INTERVAL = 200;

/** A LOAD's text as {@link loadText} writes it: decimal numbers, no sign, no leading zero, joined by ','. */
const LOAD_TEXT = /^(0|[1-9][0-9]*)(,(0|[1-9][0-9]*))*$/;

/** The text of a LOAD frame: the live processes of each thread of the node, its own thread last, as decimal numbers joined by ','. */
export function loadText(counts: ArrayLike<number>): string {
  return Array.from(counts).join(',');
}

/** Another node's loads, as this side knows them. */
export class Loads {
  /** Per thread of the other node (its own last): processes, as its last LOAD said. */
  private reported: number[] = [];
  /** Per thread: spawns this side placed there since that LOAD. */
  private sent: number[] = [];

  /** A LOAD frame came: `text` as {@link loadText} writes it (anything else is ignored). */
  update(text: string): void {
    if (!LOAD_TEXT.test(text)) return; // '' or ' 3' or '1e3' read as numbers by Number(): not what loadText writes
    const counts = text.split(',').map(Number);
    if (counts.some((n) => !Number.isSafeInteger(n))) return;
    this.reported = counts;
    this.sent = [];
  }

  /** A spawn was sent to `thread`. */
  placed(thread: number): void {
    this.sent[thread] = (this.sent[thread] ?? 0) + 1;
  }

  /**
   * The thread of the other node (whose own thread is `home`, the number of
   * its workers) a spawn with `placement` goes to: its own thread when
   * left out or 'same' (a parent on another node shares no thread with
   * it); `{ thread }` as given; 'least-loaded': the worker with the fewest
   * processes as last reported plus those placed since (its own thread
   * when it has no workers).
   * @throws RangeError for a placement that is none of these, or a thread the node does not have
   */
  place(placement: Placement | undefined, home: number): number {
    if (placement === undefined || placement === 'same') return home;
    if (placement === 'least-loaded') {
      let best = home;
      let fewest = Infinity;
      for (let t = 0; t < home; t++) {
        const n = (this.reported[t] ?? 0) + (this.sent[t] ?? 0);
        if (n < fewest) [best, fewest] = [t, n];
      }
      return best;
    }
    const thread = (placement as { thread?: unknown } | null)?.thread;
    if (typeof thread !== 'number' || !Number.isInteger(thread) || thread < 0 || thread > home) {
      throw new RangeError(`spawn: options.placement must be 'same', 'least-loaded' or { thread } with 0 <= thread <= ${home} (the threads of that node)`);
    }
    return thread;
  }
}

/** The next of 0..size-1 after `last`, in turn, that `used` does not hold (a new link's spawn-id block and counter); -1 when it holds them all. */
export function nextFree(used: ReadonlySet<number>, last: number, size: number): number {
  for (let i = 1; i <= size; i++) {
    const next = (last + i) % size;
    if (!used.has(next)) return next;
  }
  return -1;
}
