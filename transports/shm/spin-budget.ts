/**
 * How long the `auto` wait strategy (./wait.ts) spins before it sleeps, and
 * how that adapts to the link and to contention for the cores.
 */
import { availableParallelism } from 'node:os';

/** The longest spin window `auto` grows to after short sleeps, with 3 cores or more. */
const MAX_SPIN_MS = 1;
/** The same with 2 cores: the two ends of a link then hold both, and any other thread preempts one. */
const MAX_SPIN_MS_2_CORES = 0.2;
/**
 * A gap this long between two idle polls of one synchronous spin (a few µs
 * apart when the pump has its core) says the OS took the core away: CFS
 * slices under contention are milliseconds. Gaps across turns of the event
 * loop do not count (the pump starts over), and 2 ms is above a young-
 * generation GC pause: with 0.5 ms and gaps across turns counted, a quiet
 * machine's bench looked contended all the time (shm round trip p50 1.65 →
 * 4.55 µs, p99 5 → 117 µs, same sitting).
 */
const PREEMPTED_MS = 2;
/** How long `auto` stops spinning after it saw itself preempted. */
const CONTENDED_MS = 200;

/**
 * `auto`'s spin window: how long a pump keeps polling after its last
 * progress before it sleeps (ms, from `performance.now()`; times are passed
 * in, so it is a plain state machine).
 *
 * - It starts at `spinMicros` and adapts to the link: a sleep that data
 *   ends soon after it began (the peer answered, but a moment too late)
 *   doubles it (not while contended, see `slept`), up to 1 ms (0.2 ms on a machine of 2 cores); a sleep that
 *   runs out its slice halves it back towards `spinMicros`. Without this, a
 *   round trip slower than the window makes both ends sleep, each wake-up
 *   makes the next round trip slower still, and a link stays in that slow
 *   state (seen: 130 µs instead of 4).
 * - With one core it is 0: spinning only keeps the peer from running.
 * - When this thread is seen preempted while polling (a gap of
 *   PREEMPTED_MS between two idle polls), the window is 0 for the next
 *   CONTENDED_MS: the machine has more runnable threads than cores, a
 *   spinning end spends its time slice and is then off its core for
 *   milliseconds (request p99 of 1–14 ms under a CPU hog on 2 cores, where a
 *   sleeper that the scheduler wakes at once answered in ~0.1 ms), and
 *   the peer may be the thread it keeps waiting. A sleep then costs a
 *   wake-up, tens of µs.
 */
export class SpinBudget {
  private windowMs: number;
  private readonly maxMs: number;
  private contendedUntil = 0;

  /**
   * @param baseMs the window after activity, `spinMicros` / 1000 (0: never spin, never adapt)
   * @param cores the machine's parallelism
   */
  constructor(
    private readonly baseMs: number,
    cores = availableParallelism(),
  ) {
    this.maxMs = baseMs === 0 || cores <= 1 ? 0 : cores === 2 ? Math.max(baseMs, MAX_SPIN_MS_2_CORES) : Math.max(baseMs, MAX_SPIN_MS);
    this.windowMs = Math.min(baseMs, this.maxMs);
  }

  /** The window now: 0 while contended. */
  window(now: number): number {
    return now < this.contendedUntil ? 0 : this.windowMs;
  }

  /** An idle poll came `gapMs` after the previous one. */
  polled(gapMs: number, now: number): void {
    if (gapMs >= PREEMPTED_MS) {
      this.contendedUntil = now + CONTENDED_MS;
      this.windowMs = Math.min(this.baseMs, this.maxMs);
    }
  }

  /**
   * A sleep of `sleptMs` ended with `outcome` (Atomics.waitAsync's) at `now`.
   * While contended a short sleep does not grow the window: data then comes
   * soon after a sleep because sleeping gave the peer the core, and a
   * window grown on that would spin the peer off it again once the
   * contention seems over.
   */
  slept(outcome: 'ok' | 'not-equal' | 'timed-out', sleptMs: number, now: number): void {
    if (this.maxMs === 0) return; // the user asked for no spinning at all, or one core
    if (now < this.contendedUntil && outcome !== 'timed-out') return;
    if (outcome === 'timed-out') this.windowMs = Math.max(Math.min(this.baseMs, this.maxMs), this.windowMs / 2);
    else if (sleptMs < 4 * Math.max(this.windowMs, 0.05)) this.windowMs = Math.min(this.maxMs, Math.max(this.windowMs * 2, 0.01));
  }
}

