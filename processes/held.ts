/**
 * Envelopes held for processes whose SPAWN has not arrived yet (see
 * ./dispatch.ts, "Order"), bounded in count and in time, so that a ref
 * that names no process that will ever come here — made up, or pointing at
 * the wrong thread — costs its sender a `noproc` answer, not memory held
 * for ever and calls (`isAlive`, `link`) that never settle:
 *
 * - at most HELD_LIMIT envelopes in all; past it, each is answered at once;
 * - an id still held after MAX_AGE sweeps (SWEEP_MS apart, 10–15 s) is let
 *   go. A sweep that comes late — this thread was busy (a process that does
 *   not yield) and may not have read the SPAWN that sits in its ring — ages
 *   nothing: the ids' clocks start again;
 * - `dropWhere` lets go of ids that can no longer come (their maker thread
 *   died, or spawned a later id here: SPAWNs from one thread arrive in the
 *   order of their ids).
 *
 * The sweep's interval is unref'd and runs only while something is held.
 */
import { performance } from 'node:perf_hooks';
import type { Envelope } from './envelope';

/** The most envelopes a thread holds for processes not yet spawned. */
export const HELD_LIMIT = 65_536;
/** Between two sweeps of what is held. */
export const SWEEP_MS = 5_000;
/** Sweeps an id survives before what is held for it is answered `noproc`. */
const MAX_AGE = 3;

interface Entry {
  readonly list: [from: number, envelope: Envelope][];
  age: number;
}

/** See the module's comment. */
export class Held {
  private readonly byId = new Map<number, Entry>();
  private count = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastSweep = 0;

  /** @param drop answers one envelope let go (its process will not come). */
  constructor(private readonly drop: (from: number, envelope: Envelope) => void) {}

  /** Holds `envelope` for process `id`; false (not held) past HELD_LIMIT. */
  hold(id: number, from: number, envelope: Envelope): boolean {
    if (this.count >= HELD_LIMIT) return false;
    this.count++;
    const entry = this.byId.get(id);
    if (entry) entry.list.push([from, envelope]);
    else this.byId.set(id, { list: [[from, envelope]], age: 0 });
    if (this.timer === undefined) {
      this.lastSweep = performance.now();
      this.timer = setInterval(this.sweep, SWEEP_MS);
      this.timer.unref();
    }
    return true;
  }

  /** What is held for `id` (its SPAWN came), no longer held. */
  take(id: number): [number, Envelope][] {
    const entry = this.byId.get(id);
    if (!entry) return [];
    this.byId.delete(id);
    this.count -= entry.list.length;
    return entry.list;
  }

  /** Lets go of (and answers) every id `gone` says will not come. */
  dropWhere(gone: (id: number) => boolean): void {
    if (this.byId.size === 0) return;
    for (const id of [...this.byId.keys()]) if (gone(id)) for (const [from, e] of this.take(id)) this.drop(from, e);
  }

  /** Stops the sweep; what is held is dropped unanswered (the thread is closing). */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.byId.clear();
    this.count = 0;
  }

  private readonly sweep = (): void => {
    const now = performance.now();
    const late = now - this.lastSweep > 1.5 * SWEEP_MS;
    this.lastSweep = now;
    for (const entry of this.byId.values()) entry.age = late ? 0 : entry.age + 1;
    this.dropWhere((id) => this.byId.get(id)!.age >= MAX_AGE);
    if (this.byId.size === 0) this.close();
  };
}
