/**
 * How long the `auto` wait strategy (./wait.ts) spins before it sleeps, and
 * how that adapts to the link and to the load on the machine.
 */
import { availableParallelism, loadavg } from 'node:os';

/** The longest spin window `auto` grows to after short sleeps. */
const MAX_SPIN_MS = 1;
/**
 * The longest while the machine is loaded: a spinning end then spends its
 * time slice waiting for a peer that may have no core, and sleeping soon
 * hands the core back. Measured on 2 cores, request round trip with ten CPU
 * hogs: p50 4–8 ms with 1 ms, ~0.5 ms with 0.2 ms.
 */
const LOADED_SPIN_MS = 0.2;
/** How often the load average is read (the kernel updates it every 5 s). */
const LOAD_EVERY_MS = 1000;

/**
 * `auto`'s spin window: how long a pump keeps polling after its last
 * progress before it sleeps (ms, from `performance.now()`; times are passed
 * in, so it is a plain state machine).
 *
 * - It starts at `spinMicros` and adapts to the link: a sleep that data
 *   ends soon after it began (the peer answered, but a moment too late)
 *   doubles it, up to 1 ms; a sleep that runs out its slice halves it back
 *   towards `spinMicros`. Without this, a round trip slower than the window
 *   makes both ends sleep, each wake-up makes the next round trip slower
 *   still, and a link stays in that slow state (seen: 130 µs instead of 4).
 * - With one core it is 0: spinning only keeps the peer from running.
 * - While the machine is loaded — the 1-minute load average above the
 *   cores plus two (a link's own two spinning ends count in it: a quiet
 *   2-core machine running one link sits at 2–3) — it is
 *   at most 0.2 ms, and short sleeps do not grow it: there are more
 *   runnable threads than cores, and a spinning end keeps the peer, or the
 *   thread the peer waits on, off a core.
 *
 * Why the load average and not the thread's own view: a rule that took a
 * 2 ms gap between two polls as a sign of contention (the OS took the core)
 * fired about once a second on a quiet 2-core machine (kernel threads, GC
 * helpers), and each firing stopped the spinning for 200 ms: shm round-trip
 * p99 46 → 80–260 µs, and p50 under one CPU hog 4 → 265 µs. A fixed 0.2 ms
 * cap on 2 cores cost the quiet p99 too (46 → 54–82 µs). The load average
 * lags by tens of seconds: a short burst of load is ridden out spinning,
 * as before.
 */
export class SpinBudget {
  private windowMs: number;
  private readonly maxMs: number;
  private loaded = false;
  private loadReadAt = -Infinity;

  /**
   * @param baseMs the window after activity, `spinMicros` / 1000 (0: never spin, never adapt)
   * @param cores the machine's parallelism
   * @param load the machine's 1-minute load average (read at most once a second)
   */
  constructor(
    private readonly baseMs: number,
    private readonly cores = availableParallelism(),
    private readonly load: () => number = () => loadavg()[0],
  ) {
    this.maxMs = baseMs === 0 || cores <= 1 ? 0 : Math.max(baseMs, MAX_SPIN_MS);
    this.windowMs = Math.min(baseMs, this.maxMs);
  }

  /** The window now: at most 0.2 ms while the machine is loaded. */
  window(now: number): number {
    return this.isLoaded(now) ? Math.min(this.windowMs, Math.max(this.baseMs, LOADED_SPIN_MS)) : this.windowMs;
  }

  /**
   * A sleep of `sleptMs` ended with `outcome` (Atomics.waitAsync's) at `now`.
   * While loaded a short sleep does not grow the window: data then comes
   * soon after a sleep because sleeping gave the peer the core, and a
   * window grown on that would spin the peer off it again once the load
   * is gone.
   */
  slept(outcome: 'ok' | 'not-equal' | 'timed-out', sleptMs: number, now: number): void {
    if (this.maxMs === 0) return; // the user asked for no spinning at all, or one core
    if (outcome === 'timed-out') this.windowMs = Math.max(Math.min(this.baseMs, this.maxMs), this.windowMs / 2);
    else if (this.isLoaded(now)) return;
    else if (sleptMs < 4 * Math.max(this.windowMs, 0.05)) this.windowMs = Math.min(this.maxMs, Math.max(this.windowMs * 2, 0.01));
  }

  private isLoaded(now: number): boolean {
    if (this.maxMs === 0) return false;
    if (now - this.loadReadAt >= LOAD_EVERY_MS || now < this.loadReadAt) {
      this.loadReadAt = now;
      this.loaded = this.load() > this.cores + 2;
    }
    return this.loaded;
  }
}
