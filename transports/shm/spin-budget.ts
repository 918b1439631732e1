/**
 * How long the `auto` wait strategy (./wait.ts) spins before it sleeps, and
 * how that adapts to the link and to the load on the machine.
 */
import { Buffer } from 'node:buffer';
import { closeSync, openSync, readSync } from 'node:fs';
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
/**
 * The window while this thread loses a time slice now and then ({@link
 * Contention.pressed}): longer than a slice, so an end whose peer the
 * scheduler took off its core for one goes on polling until it is back
 * instead of sleeping. A sleeping end woken by the peer's notify does not
 * preempt the thread on its core (it has run as much as that one, so the
 * scheduler gives it no wake-up bonus) and waits out a slice of ~2 ms: the
 * p99 under one CPU hog on 2 cores was 2.05–2.1 ms in one run in two. With
 * the window at 5 ms: 8.7–13.7 µs; at 20 ms: 6.8–10.7 µs; raw MessagePort in
 * the same runs: 42–76 µs (Trade round trip, 20k after 3k, bench/README.md,
 * "Notes: one CPU hog").
 */
const PRESSED_SPIN_MS = 10;
/** A sleep this long (ms) means the link went idle: the window halves back, as after a timeout. */
const IDLE_SLEEP_MS = 100;
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
 * - While this thread is contended ({@link Contention}: it keeps waiting for
 *   a core) it is 0, and short sleeps do not grow it.
 * - While it is pressed (it lost a time slice in the last second, and is
 *   neither contended nor on a loaded machine: one CPU hog beside a busy
 *   link on 2 cores) it is 10 ms: longer than the slice its peer may be
 *   waiting out (see PRESSED_SPIN_MS).
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
   * @param contention this thread's {@link Contention} (one per thread; null: none is measured)
   */
  constructor(
    private readonly baseMs: number,
    private readonly cores = availableParallelism(),
    private readonly load: () => number = () => loadavg()[0],
    private readonly contention: Contention | null = threadContention(),
  ) {
    this.maxMs = baseMs === 0 || cores <= 1 ? 0 : Math.max(baseMs, MAX_SPIN_MS);
    this.windowMs = Math.min(baseMs, this.maxMs);
  }

  /**
   * The window now: 0 while this thread is contended (unless the user's own
   * window is above the 1 ms cap), at most 0.2 ms while the machine is
   * loaded, else 10 ms while this thread is pressed (the same exception).
   */
  window(now: number): number {
    const adapts = this.maxMs > 0 && this.baseMs <= MAX_SPIN_MS;
    if (adapts && this.contention?.contended(now)) return 0;
    if (this.isLoaded(now)) return Math.min(this.windowMs, Math.max(this.baseMs, LOADED_SPIN_MS));
    return adapts && this.contention?.pressed(now) ? PRESSED_SPIN_MS : this.windowMs;
  }

  /**
   * A sleep of `sleptMs` ended with `outcome` (Atomics.waitAsync's) at `now`.
   * A sleep of 100 ms or more counts as timed out whatever ended it: the
   * channels' sleeps have no timeout (./wait.ts), and an idle link should
   * still shrink its window back. While loaded a short sleep does not grow the window: data then comes
   * soon after a sleep because sleeping gave the peer the core, and a
   * window grown on that would spin the peer off it again once the load
   * is gone.
   */
  slept(outcome: 'ok' | 'not-equal' | 'timed-out', sleptMs: number, now: number): void {
    if (this.maxMs === 0) return; // the user asked for no spinning at all, or one core
    if (outcome === 'timed-out' || sleptMs >= IDLE_SLEEP_MS) this.windowMs = Math.max(Math.min(this.baseMs, this.maxMs), this.windowMs / 2);
    else if (this.contention?.contended(now) || this.isLoaded(now)) return;
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

/** How often a thread's scheduler delay is read (while a pump polls). */
const CHECK_MS = 5;
/**
 * Share of a check period spent runnable but off a core that counts as
 * contended: 0.7, over four periods. A fifth over two (the first setting)
 * fired on a quiet 2-core machine — a fresh link's first ~100 ms share the
 * cores with V8's compiler threads — and a quiet shm round trip's p50 went
 * 4.5 → 16–28 µs in one run in two, p99 ~60 → 120–170 µs (lead,
 * /tmp/s20/hic2.js alternated); 0.3 over 2 or 3, and 0.25 over 3, still
 * fired (p99 70–130 µs); a half over four never did. But a half fired under
 * one CPU hog on 2 cores: the request round trip's ends wait a third of their
 * time on average, over a half in bursts, and the rule then put both to
 * sleep for 100 ms at a time, each trip a wake-up (up to ~2,300 sleeps a
 * side in a run of 23k trips, p99 8–69 µs; before `pressed`, ~2 ms). At 0.7
 * that case spins (3–7 sleeps a run, p99 9–30 µs; raw MessagePort ~41 µs),
 * and ten hogs (each end waits ~5/6 of its time) still stop the spinning,
 * as does the load average soon after. Two hogs (each end waits about half
 * its time) now spin too, until the load average passes the cores plus
 * two: p99 7–23 µs in two runs, 8 ms in one (bench/README.md, "Notes: one
 * CPU hog").
 */
const CONTENDED_SHARE = 0.7;
/** Contended periods in a row before spinning stops: one stall (a GC helper, a kernel thread) is ridden out. */
const CONTENDED_PERIODS = 4;
/** How long spinning stays off once contended; then it is tried again. */
const HOLD_MS = 100;
/** Scheduler delay in one check period that means a time slice went to another thread (ms)... */
const PREEMPTED_MS = 1;
/** ...when it is also over this share of the period (a thread that slept for seconds gathers a little at each wake-up). */
const PREEMPTED_SHARE = 0.1;
/** How long a thread that lost a slice counts as pressed (renewed at each slice lost). */
const PRESSED_HOLD_MS = 1000;

/**
 * Is this thread short of a core? Read from the scheduler itself: the time
 * the thread spent runnable but waiting for a CPU (Linux's schedstat
 * `run_delay`), every 5 ms while a pump polls. Two answers:
 *
 * - `contended`: over 0.7 of four periods in a row, many more runnable
 *   threads than cores right now (ten CPU hogs, other programs), not a
 *   passing helper thread: spinning then stops for 100 ms, after which it
 *   is tried again. An end that spins there spends its slice waiting for a
 *   peer that has no core.
 * - `pressed`: a time slice (1 ms or more of a period) lost in the last
 *   second, as one CPU hog beside a busy link on 2 cores does every few ms:
 *   three runnable threads on two cores, so now and then the scheduler takes
 *   a core from one end for a slice. The other end then does best to go on
 *   polling until the peer is back: had it slept, the peer's notify would
 *   not get it a core before the hog's slice ended (it has run about as much
 *   as the hog, so the scheduler gives it no wake-up bonus: ~2 ms a trip,
 *   where spinning costs one slice per preemption, and only one trip).
 *
 * `pressed` reads this thread's own lost slices, while the long spin helps
 * when the peer is the one off its core: beside one hog both ends lose
 * slices within a second; a scheduler that kept taking the core from the
 * same end only would leave the other end sleeping as before.
 *
 * The load average (SpinBudget's other rule) sees a hog only tens of
 * seconds later, and not one hog on 2 cores at all. Elsewhere than Linux
 * nothing is measured.
 */
export class Contention {
  private checkedAt = -Infinity;
  private delayAt = 0;
  private periods = 0;
  private until = -Infinity;
  private pressedUntil = -Infinity;

  /** @param delay this thread's total scheduler delay so far, in ms (read every 5 ms at most) */
  constructor(private readonly delay: () => number) {}

  /** Is this thread contended at `now` (ms, `performance.now()`)? */
  contended(now: number): boolean {
    const elapsed = now - this.checkedAt;
    if (elapsed >= CHECK_MS) {
      const delay = this.delay();
      const waited = delay - this.delayAt;
      this.periods = waited > CONTENDED_SHARE * elapsed ? this.periods + 1 : 0;
      if (this.periods >= CONTENDED_PERIODS) this.until = now + HOLD_MS;
      if (waited >= PREEMPTED_MS && waited > PREEMPTED_SHARE * elapsed) this.pressedUntil = now + PRESSED_HOLD_MS;
      this.checkedAt = now;
      this.delayAt = delay;
    }
    return now < this.until;
  }

  /**
   * Has this thread lost a time slice (1 ms or more of scheduler delay in a
   * check period) in the last second? Read at the last `contended` call.
   * On a quiet machine it may fire too (V8's compile threads beside a fresh
   * link): that costs CPU (a longer spin, which other runnable threads then
   * lack), never a wake-up.
   */
  pressed(now: number): boolean {
    return now < this.pressedUntil;
  }
}

let perThread: Contention | null | undefined;

/**
 * This thread's Contention (one per thread: a module instance is per
 * thread), reading `/proc/thread-self/schedstat` through one descriptor
 * opened by this thread and closed when it exits; null where there is
 * no such file.
 */
function threadContention(): Contention | null {
  if (perThread !== undefined) return perThread;
  perThread = null;
  let fd: number;
  try {
    fd = openSync('/proc/thread-self/schedstat', 'r');
  } catch {
    return null; // not Linux, or no schedstat: no contention is measured
  }
  process.once('exit', () => closeSync(fd));
  const buf = Buffer.alloc(96);
  perThread = new Contention(() => {
    // "<ns on cpu> <ns runnable, waiting> <timeslices>"
    const text = buf.toString('latin1', 0, readSync(fd, buf, 0, buf.length, 0));
    const from = text.indexOf(' ') + 1;
    return Number(text.slice(from, text.indexOf(' ', from))) / 1e6;
  });
  return perThread;
}
