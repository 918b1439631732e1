/**
 * Wait strategies: how an end of a ring waits for data (a reader) or for room
 * (a writer). Chosen per end with `options.wait`.
 *
 * - `auto` (default): spin-then-wait. After activity it keeps polling, first
 *   in a short busy loop, then once per event-loop turn (so microtasks, timers
 *   and I/O still run), for `spinMicros`; then it sleeps with `Atomics.waitAsync`,
 *   and the other side, seeing a sleeper, notifies. A busy link never pays a
 *   wake-up; an idle end uses no CPU. The window adapts ({@link SpinBudget}): it grows (up to
 *   1 ms) while sleeps end soon after they began, none on 1 core, none while the thread keeps waiting
 *   for a core (`Contention`, ./spin-budget.ts), at most 0.2 ms while the load average says there are
 *   more runnable threads than cores, 10 ms while the thread loses a time slice now and then (one CPU
 *   hog: a peer off its core is waited for, not slept through). A sleep lasts until the peer's notify
 *   (no timeout: see `sleep`; ./watchdog.ts ends one whose notify never came).
 * - `spin`: polls without sleeping, in busy slices of about a millisecond
 *   with an event-loop turn between slices. Lowest latency, a core per end.
 * - `yield`: polls once per event-loop turn.
 * - `block`: sleeps in `Atomics.wait`: the thread does nothing else while it
 *   waits (timers in it do not fire then). Refused on the main thread.
 * - `async`: sleeps in `Atomics.waitAsync` at once: never blocks an event loop,
 *   costs a wake-up (tens of µs) per wait.
 */
import { performance } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
import { enterSleep, type WaitCell } from './ring';
import { holdThread } from '../../core/thread-hold';
import { SpinBudget } from './spin-budget';
import { unwatchSleep, watchSleep, type Sleeper } from './watchdog';
import { microtask, rethrowLater } from '../../core/microtask';

export type WaitStrategy = 'auto' | 'spin' | 'yield' | 'block' | 'async';

const STRATEGIES: readonly WaitStrategy[] = ['auto', 'spin', 'yield', 'block', 'async'];

/**
 * Checks a strategy at the door, and returns our own literal: one given through a port or `workerData` is a copy
 * that the pump's `===` compared character by character at every idle poll (`StringEqual`, ~4 % of a spinning worker).
 */
export function checkStrategy(strategy: unknown, name = 'options.wait'): WaitStrategy {
  const at = STRATEGIES.indexOf(strategy as WaitStrategy);
  if (at < 0) throw new TypeError(`${name} must be one of ${STRATEGIES.join(', ')}`);
  if (strategy === 'block' && isMainThread) {
    throw new TypeError(`${name} 'block' would freeze the main thread's event loop: use 'auto' or 'async' there`);
  }
  return STRATEGIES[at];
}

/** What one step of a pump did. */
export type Step = 'progress' | 'idle' | 'done';

export interface PumpOptions {
  strategy: WaitStrategy;
  /** How long `auto` keeps polling after the last progress before it sleeps. */
  spinMicros: number;
  /**
   * The longest single sleep of `block`, and of a pump that keeps its thread
   * alive (`keepAlive`); flags are re-checked after it even with no notify.
   * Other sleeps last until a notify (the peer's, or `start`/`stop`'s own).
   */
  sliceMs: number;
  /** Keep the thread alive while asleep (a pending `waitAsync` does not). Default true; a channel that holds its own handle passes false. */
  keepAlive?: boolean;
}

/** How long one macrotask may keep a pump busy before it lets the event loop run. */
const TURN_MS = 1;
/**
 * Nested microtask ticks a pump lets pass after delivering, before it polls on (see `hop`), at most. 16 since
 * shm runs the session: an `await` on a reply then resumes a few ticks later than it did, and with 8 the request
 * sent from it waited for the end of the turn (request round trip p50, await form, `--quick --runs 5`: 7.3 µs
 * before the move, 13.4 µs with 8, 8.9 µs with 16).
 */
const HOPS = 16;
/** The fewest hops after a delivery. */
const MIN_HOPS = 2;
/**
 * Every this many deliveries (a power of two) the pump makes all HOPS and sets its depth for the next ones to
 * twice the deepest hop at which anything was published since the last such probe: a subscriber that answers
 * from inside `next` publishes at the first hop and gets 2 hops, a reply sent after an `await` gets as many as
 * it needs. Each hop makes garbage (~90 B), and on a round trip the scavenges it causes are the p99.
 */
const PROBE_EVERY = 64;
/**
 * Idle polls between two reads of the clock while `auto` or `spin` polls (see `run`); `block` and `async` sleep
 * at the first idle poll, `yield` yields. An idle poll is ~15 ns, a clock read ~50 ns and a 16 B heap number:
 * at 16 a spinning pump made ~45 MB/s of garbage reading the clock (a thread waiting for a process ring's token).
 */
const IDLE_POLLS = 128;
/** How long `auto` busy-polls inside one turn before polling across turns. */
const SYNC_SPIN_MS = 0.005;

/**
 * Runs `step` until it reports `done`, waiting between idle steps as the strategy says. `ready` must be cheap
 * and true when a step would progress; `cell` names where to sleep. Steps always run from a macrotask of the
 * pump, never inside `start()`.
 */
export class Pump implements Sleeper {
  private scheduled: ReturnType<typeof setImmediate> | undefined;
  private sleeping = false;
  /** A microtask hop is pending (see run). */
  private hopping = false;
  /** Hops still to make, hops made, the end of the turn they belong to (see `hop`); depth, probes (PROBE_EVERY). */
  private hopsLeft = 0;
  private hopsMade = 0;
  private hopTurnEnd = 0;
  private hopDepth = HOPS;
  private deepestPublish = 0;
  private deliveries = 0;
  private stopped = true;
  /** When the pump last progressed; 0 right after progress, read at the next idle poll, not per delivery (a clock read: ~50 ns and a 16 B heap number). */
  private lastProgress = 0;
  /** `auto`'s spin window: how long it polls after progress before it sleeps. */
  private readonly budget: SpinBudget;
  /** When the current sleep began, and the header slot it waits on. */
  private sleptAt = 0;
  private sleepIndex = 0;

  constructor(
    private readonly header: Int32Array,
    private readonly options: PumpOptions,
    private readonly step: () => Step,
    private readonly ready: () => boolean,
    private readonly cell: () => WaitCell,
    /** At each microtask hop after a delivery (see `hop`): the reading half publishes what a continuation wrote; true if it did. */
    private readonly hopped?: () => boolean,
    /** For the watchdog: a notify is owed now (default `ready`; a writer is woken at SPACE_WANTED, not at its first free byte). */
    private readonly due?: () => boolean,
  ) {
    this.budget = new SpinBudget(options.spinMicros / 1000);
  }

  start(): void {
    this.stopped = false;
    this.lastProgress = performance.now();
    if (this.sleeping) this.wake();
    else if (!this.scheduled && !this.hopping) this.schedule();
  }

  /** Stops pumping (a sleeping waitAsync is woken, and then does nothing); start() resumes. */
  stop(): void {
    this.stopped = true;
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    if (this.sleeping) this.wake();
  }

  get running(): boolean {
    return !this.stopped;
  }

  private schedule(): void {
    this.scheduled = setImmediate(this.run);
  }

  /** Polls; in a new turn, or (`sameTurn`, from a hop) in the hop's (a boolean, not the double: see below). */
  private readonly run = (sameTurn?: boolean): void => {
    const turnEnd = sameTurn === true ? this.hopTurnEnd : performance.now() + TURN_MS;
    this.scheduled = undefined;
    if (this.stopped) return;
    // While idle, the clock is read once every IDLE_POLLS polls, and `auto`
    // asks its budget once per turn while idle: a double passed to a call that
    // is not inlined is boxed, and a spin loop that allocates at every poll
    // fills the young generation while it waits (a scavenge is a stall).
    let idleSince = 0;
    let sleepAt = 0;
    let polls = 0;
    for (;;) {
      const result = this.step();
      if (result === 'done') {
        this.stopped = true;
        return;
      }
      if (this.stopped) return;
      if (result === 'progress') {
        this.lastProgress = 0;
        // Hop through the microtask queue before polling on: promise
        // continuations of what was just delivered (a reply sent after an
        // `await`) run first, and their records are published at the next
        // hop. Then on within this turn's budget, or in the next turn.
        this.hopping = true;
        this.hop(turnEnd);
        return;
      }
      if (++polls < IDLE_POLLS && (this.options.strategy === 'auto' || this.options.strategy === 'spin')) continue;
      polls = 0;
      const now = performance.now();
      if (idleSince === 0) {
        idleSince = now;
        if (this.lastProgress === 0) this.lastProgress = now;
        if (this.options.strategy === 'auto') sleepAt = this.lastProgress + this.budget.window(now);
      }
      switch (this.options.strategy) {
        case 'spin':
          if (now > turnEnd) return this.schedule();
          continue;
        case 'yield':
          return this.schedule();
        case 'block':
          this.block();
          return this.schedule();
        case 'async':
          return this.sleep();
        case 'auto':
          if (now > sleepAt) return this.sleep();
          if (now - idleSince < SYNC_SPIN_MS) continue;
          return this.schedule();
      }
    }
  };

  /**
   * Polls again after some nested microtasks (see HOPS, PROBE_EVERY): an
   * `await` on something just delivered resumes a few microtask ticks later
   * (a Promise chain, an async function returning into another), and what
   * it sends should be published before this pump spins on without
   * yielding. The hops carry their state in fields and use one bound step
   * (no closure per hop): garbage made per delivery is what the round
   * trip's p99 pays for.
   */
  private hop(turnEnd: number): void {
    let depth = this.hopDepth;
    if ((++this.deliveries & (PROBE_EVERY - 1)) === 0) {
      this.hopDepth = Math.min(HOPS, Math.max(MIN_HOPS, 2 * this.deepestPublish));
      this.deepestPublish = 0;
      depth = HOPS;
    }
    this.hopsLeft = depth;
    this.hopsMade = 0;
    this.hopTurnEnd = turnEnd;
    microtask(this.hopStep);
  }

  private readonly hopStep = (): void => {
    try {
      this.hopsMade++;
      if (this.hopped?.() && this.hopsMade > this.deepestPublish) this.deepestPublish = this.hopsMade;
      if (--this.hopsLeft > 0) return microtask(this.hopStep);
      this.hopping = false;
      if (performance.now() > this.hopTurnEnd) this.schedule();
      else this.run(true);
    } catch (err) {
      this.hopping = false;
      rethrowLater(err);
    }
  };

  private block(): void {
    const cell = this.cell();
    const { index, waiters } = cell;
    const seen = enterSleep(this.header, cell);
    if (!this.ready()) Atomics.wait(this.header, index, seen, this.options.sliceMs);
    Atomics.sub(this.header, waiters, 1);
  }

  /** Ends this pump's sleep now: a notify on its slot (another sleeper there wakes too, finds nothing, sleeps again). */
  wake(): void {
    Atomics.notify(this.header, this.sleepIndex);
  }

  /** For the watchdog: asleep, running, and a step would progress. */
  missedWakeUp(): boolean {
    return this.sleeping && !this.stopped && (this.due ?? this.ready)();
  }

  private sleep(): void {
    const cell = this.cell();
    const { index, waiters } = cell;
    const seen = enterSleep(this.header, cell);
    if (this.ready()) {
      Atomics.sub(this.header, waiters, 1);
      return this.schedule();
    }
    // No timeout unless the pump holds the thread alive: one costs a delayed task (a loop wake-up to arm a timer,
    // and the timer's own) per sleep, ~13 µs a wake-up in a round trip (bench/README.md, "Tails"). The ring's
    // protocol never loses a notify (ring-writer.ts publish), and start() and stop() wake a sleep themselves;
    // the watchdog (./watchdog.ts) ends a sleep whose notify never came all the same.
    const keepsAlive = this.options.keepAlive !== false;
    const result = keepsAlive ? Atomics.waitAsync(this.header, index, seen, this.options.sliceMs) : Atomics.waitAsync(this.header, index, seen);
    if (!result.async) {
      Atomics.sub(this.header, waiters, 1);
      return this.schedule();
    }
    this.sleeping = true;
    this.sleepIndex = index;
    this.sleptAt = performance.now();
    const keepAlive = keepsAlive ? holdThread() : undefined;
    if (!keepsAlive) watchSleep(this);
    result.value.then((outcome) => {
      if (keepAlive) clearTimeout(keepAlive);
      else unwatchSleep(this);
      if (this.options.strategy === 'auto') {
        const now = performance.now();
        this.budget.slept(outcome, now - this.sleptAt, now);
      }
      Atomics.sub(this.header, waiters, 1);
      this.sleeping = false;
      if (!this.stopped && !this.scheduled && !this.hopping) this.run();
    });
  }
}
