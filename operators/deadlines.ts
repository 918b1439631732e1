/**
 * The deadline list of one client handle: its pending requests under the
 * handle's default timeout, under one timer.
 *
 * Every deadline is `performance.now()` at subscription plus the same
 * timeout, so subscription order is deadline order: the first entry is
 * always the next to expire. The list is intrusive (through the entries'
 * `prev` and `next`), so adding and removing one is a few field writes: an
 * insertion-ordered Set would do, but costs ~0.1 µs more a request (it
 * hashes each new entry).
 */
import { performance } from 'node:perf_hooks';

/**
 * How early the timer may fire: Node's timers run on the event loop's
 * millisecond clock, read once a turn, so one can fire up to a millisecond
 * before `performance.now()` says it is due. A deadline that near counts as
 * passed, as it would for a per-request setTimeout.
 */
const TIMER_SLACK = 1;

/** What an entry of a {@link Deadlines} list carries. */
export interface DeadlineEntry<E> {
  /** When it expires (`performance.now()` ms); meaningful while it is in a list. */
  deadline: number;
  /** Its neighbours in the list. */
  prev: E | undefined;
  next: E | undefined;
}

/** The entries under one timeout, the next to expire first, and the one timer that fails them. */
export class Deadlines<E extends DeadlineEntry<E>> {
  private first: E | undefined;
  private last: E | undefined;
  /**
   * The one timer, due at or before the first deadline whenever the list is
   * not empty. When the list empties the timer is unref'd, not cleared (a
   * process never waits on it; it fires once more at most, and then goes),
   * and the next entry refs it again: ~25 ns, where a setTimeout and
   * clearTimeout per request would cost ~360 ns, a sixth of a round trip
   * over shm. Cleared by `close`.
   */
  private timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param timeout milliseconds from `track` to expiry (finite)
   * @param expired called with the entries past their deadline, in order, after they have left the list
   */
  constructor(
    private readonly timeout: number,
    private readonly expired: (entries: E[]) => void,
  ) {}

  /** Adds `entry`, due `timeout` ms from now, and makes sure the timer will fire for it. */
  track(entry: E): void {
    entry.deadline = performance.now() + this.timeout;
    if (!this.push(entry)) return; // the timer is due at or before an earlier deadline
    if (this.timer === undefined) this.timer = setTimeout(this.fire, this.timeout);
    else this.timer.ref(); // left from earlier entries, due at one of their deadlines: earlier than this one
  }

  /** Removes `entry` if it is in the list; the timer is unref'd when that left the list empty. */
  remove(entry: E): void {
    const { prev, next } = entry;
    if (prev === undefined && this.first !== entry) return; // not in the list
    if (prev === undefined) this.first = next;
    else prev.next = next;
    if (next === undefined) this.last = prev;
    else next.prev = prev;
    entry.prev = entry.next = undefined;
    if (this.first === undefined) this.timer?.unref();
  }

  /** Clears the timer for good: the handle takes no more requests. */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Adds `entry` at the end; true when it is the only one. */
  private push(entry: E): boolean {
    const { last } = this;
    this.last = entry;
    if (last === undefined) {
      this.first = entry;
      return true;
    }
    entry.prev = last;
    last.next = entry;
    return false;
  }

  /** The timer fired: hands over every entry past its deadline, then waits for the next one. */
  private readonly fire = (): void => {
    this.timer = undefined;
    const due = performance.now() + TIMER_SLACK;
    // Collected first: failing one runs the subscriber's code, which may make or end requests.
    const expired: E[] = [];
    for (let entry = this.first; entry !== undefined && entry.deadline <= due; entry = entry.next) expired.push(entry);
    for (const entry of expired) this.remove(entry);
    this.expired(expired);
    this.arm();
  };

  /** Arms the timer for the first deadline, unless it is armed or nothing waits. */
  private arm(): void {
    if (this.timer !== undefined) return;
    const { first } = this;
    if (first === undefined) return;
    this.timer = setTimeout(this.fire, Math.max(1, Math.ceil(first.deadline - performance.now())));
  }
}
