/**
 * The heart of a thread's scheduler: its table of processes, the ready
 * queue that starts processes and drains their mailboxes, and the one way a
 * process ends. Cooperative: everything runs on the thread's event loop; a
 * drain delivers at most BUDGET messages and starts (together), then
 * yields to the event loop (setImmediate) so rings, timers and I/O keep
 * their turn.
 */
import { isObservable, type Observable } from 'rxjs';
import { reportUnhandledError } from 'rxjs/internal/util/reportUnhandledError';
import { ProcessExitedError, ProcessKilledError, toErrorData, type ErrorData } from '../core/errors';
import { State, type Host, type Proc } from './proc';
import type { Asker } from './mailbox';
import type { Exit, ExitReason, Self } from './types';
import { ProcTable } from './table';
import { enter, leave } from './uncaught';
import { microtask, rethrowLater } from '../core/microtask';
import { Chained } from '../core/chained';

/** Messages one drain delivers, and processes it starts, before it yields to the event loop. */
const BUDGET = 50_000;

/** The table and the run queue of one thread. */
export abstract class RunQueue implements Host {
  /** The live processes hosted here, by id. */
  readonly procs = new ProcTable();
  /**
   * The ready queue: a list through the processes (`Proc.nextReady`), first
   * to last. No array to grow: at 100k spawns the ring this replaced spent a
   * tenth of a spawn doubling (fresh large arrays fault in page by page).
   */
  private readyFirst: Proc | null = null;
  private readyLast: Proc | null = null;
  private scheduled = false;
  /** A drain is running (drainNow does not nest one). */
  private draining = false;
  /** A read is under way whose drainNow follows: `ready` queues no microtask drain meanwhile. */
  private reading = false;
  private readonly dying: [Proc, Exit][] = [];
  private exiting = false;
  /** The node is closing: ends are not told to other threads. */
  protected closing = false;

  constructor(
    /** The node's id. */
    readonly node: string,
    /** This thread's index. */
    readonly thread: number,
    /** Live processes per thread, shared by every thread of the node (Atomics). */
    protected readonly counts: Int32Array,
  ) {}

  /** Puts `proc` on the ready queue (once), to start it or drain its mailbox. */
  ready(proc: Proc): void {
    if (proc.nextReady !== undefined || proc.state === State.DEAD) return;
    proc.nextReady = null;
    if (this.readyLast === null) this.readyFirst = proc;
    else this.readyLast.nextReady = proc;
    this.readyLast = proc;
    if (!this.scheduled && !this.reading) {
      this.scheduled = true;
      // core/microtask: Node's queueMicrotask wraps each task in an AsyncResource (~250 B), once per delivery here
      microtask(this.drainQueued);
    }
  }

  /**
   * Runs the ready queue now, unless a drain is running: the direct path calls it right after a read
   * (processes/direct.ts), so that what arrived runs — and what it sends goes out — before the pump polls
   * on, not a microtask later. The drain queued by `ready` then finds nothing, or what came since.
   */
  drainNow(): void {
    this.reading = false;
    if (this.readyFirst === null) return;
    if (!this.draining) return this.drainQueued();
    // Inside a drain (a read from a process's code): that drain goes on while anything is ready.
  }

  /** A read begins whose {@link drainNow} follows at once. */
  willDrain(): void {
    this.reading = true;
  }

  abstract answer(proc: Proc, asker: Asker, answer: unknown): void;

  abstract room(proc: Proc): void;

  failed(proc: Proc, err: unknown): void {
    if (proc.state !== State.DEAD) this.exit(proc, 'failed', toErrorData(err));
  }

  /** The handle a process gets to itself. */
  protected abstract selfOf(proc: Proc): Self<unknown, unknown>;

  /** Tells whoever must know that `proc` ended (links, monitors, names, askers). */
  protected abstract ended(proc: Proc, exit: Exit): void;

  /** Adds a new process to the table; it starts at its turn. */
  protected admit(proc: Proc): void {
    this.procs.set(proc.id, proc);
    Atomics.add(this.counts, this.thread, 1);
    this.ready(proc);
  }

  /**
   * Ends `proc` now, for `reason`: it is dead at once (not in the table,
   * messages to it dropped); its mailbox closes and its entry's Observable is
   * unsubscribed; then `ended` tells the rest. Ends caused by this one (its
   * links) are handled in turn, not recursively, so a long chain of links
   * does not grow the stack.
   */
  exit(proc: Proc, reason: ExitReason, error: ErrorData | null): void {
    if (proc.state === State.DEAD) return;
    proc.state = State.DEAD;
    this.procs.delete(proc.id);
    Atomics.sub(this.counts, this.thread, 1);
    this.dying.push([proc, { reason, error }]);
    if (this.exiting) return;
    this.exiting = true;
    try {
      for (let next = this.dying.shift(); next; next = this.dying.shift()) this.finish(next[0], next[1]);
    } finally {
      this.exiting = false;
    }
  }

  private finish(proc: Proc, exit: Exit): void {
    const { reason } = exit;
    const killed = reason === 'killed' || reason === 'linked';
    const message = () => `process ${proc.id} ${reason === 'normal' ? 'has ended' : `ended (${reason})`}`;
    // The process's own teardown (a `finalize` that throws) cannot stop its end: links, monitors, names
    // and open requests are told all the same, and the error is reported as RxJS reports one it cannot
    // deliver (`config.onUnhandledError`, else thrown from a timer), not against whoever ended it.
    let teardown: { error: unknown } | undefined;
    try {
      proc.mailbox.close(killed ? () => new ProcessKilledError(message()) : () => new ProcessExitedError(message(), reason));
    } catch (error) {
      teardown = { error };
    }
    const sub = proc.sub;
    proc.sub = null;
    try {
      sub?.unsubscribe();
    } catch (error) {
      teardown ??= { error };
    }
    this.ended(proc, exit);
    if (teardown) {
      const before = enter(null);
      reportUnhandledError(teardown.error);
      leave(before);
    }
  }

  /** The drain as a microtask: an error out of it is thrown as uncaught, as `queueMicrotask` did. */
  private readonly drainQueued = (): void => {
    try {
      this.drain();
    } catch (err) {
      rethrowLater(err);
    }
  };

  private readonly drain = (): void => {
    if (this.draining) return; // a drain from inside one (a setImmediate's cannot be): the outer one goes on
    this.draining = true;
    try {
      this.drainReady();
    } finally {
      this.draining = false;
    }
  };

  private drainReady(): void {
    let used = 0;
    while (this.readyFirst !== null && used < BUDGET) {
      const proc = this.readyFirst;
      this.readyFirst = proc.nextReady!;
      if (this.readyFirst === null) this.readyLast = null;
      proc.nextReady = undefined;
      if (proc.state === State.NEW) {
        // A start counts as a delivery: a chain of processes each spawning the next as it starts (or one that
        // spawns itself) held the thread for good, nothing counted against the budget.
        this.start(proc);
        used++;
      } else if (proc.state === State.RUNNING) {
        const before = enter(proc);
        try {
          used += proc.mailbox.drain(BUDGET - used);
        } finally {
          leave(before);
        }
        // Out of budget with more to deliver: its turn comes again. Otherwise
        // what it could not deliver waits for a consumer, and wakes it then.
        if (used >= BUDGET && proc.mailbox.deliverable) this.ready(proc);
      }
    }
    if (this.readyFirst !== null) setImmediate(this.drain);
    else this.scheduled = false;
  }

  private start(proc: Proc): void {
    proc.state = State.RUNNING;
    const capture = proc.capture;
    proc.capture = undefined;
    let result: unknown;
    const before = enter(proc);
    try {
      result = proc.entry.run(capture, proc.mailbox, this.selfOf(proc));
    } catch (err) {
      this.exit(proc, 'failed', toErrorData(err));
      return;
    } finally {
      leave(before);
    }
    this.follow(proc, result);
  }

  /**
   * Runs what `proc`'s entry gave: an Observable is subscribed, and the
   * process ends with it; a thenable is followed, and what it resolves to is
   * run the same way (`async` code that returns an Observable after an
   * `await` runs it, as if it had returned it: it was ignored, the process
   * ending at once); anything else ends the process (`normal`).
   */
  private follow(proc: Proc, result: unknown): void {
    if (isObservable(result)) {
      // Chained: a kill during a synchronous source's own subscribe call (finish unsubscribes proc.sub) stops it there.
      const sub = new Chained<unknown>({
        error: (err: unknown) => this.failed(proc, err),
        complete: () => this.exit(proc, 'normal', null),
      });
      // Dead already (killed, or linked to a process gone, in its entry or while it awaited): the source is let go at once.
      if ((proc.state as State) === State.DEAD) sub.unsubscribe();
      else proc.sub = sub;
      try {
        (result as Observable<unknown>).subscribe(sub);
      } catch (err) {
        this.failed(proc, err); // a look-alike's subscribe that throws (RxJS's own delivers it as an error)
      }
    } else if (!this.awaited(proc, result)) {
      this.exit(proc, 'normal', null);
    }
    if ((proc.state as State) === State.RUNNING && proc.mailbox.deliverable) this.ready(proc);
  }

  /**
   * Follows the thenable `proc`'s entry returned; false if it is none. A
   * `then` (or its getter) that throws fails the process, as a throw in its
   * entry does (out of here, it killed the worker thread, or stalled the
   * drain of the node's own thread for good).
   */
  private awaited(proc: Proc, result: unknown): boolean {
    try {
      const then = (result as PromiseLike<unknown> | undefined)?.then;
      if (typeof then !== 'function') return false;
      then.call(
        result,
        (value: unknown) => this.follow(proc, value),
        (err: unknown) => this.failed(proc, err),
      );
    } catch (err) {
      this.failed(proc, err);
    }
    return true;
  }

  /**
   * Request `call` of thread `thread` to process `id` timed out: it owes nothing more (kept until it ended, a
   * deaf process's askers grew for ever). Told in place by this thread, by FORGET from another.
   */
  forgetAsker(id: number, thread: number, call: number): void {
    const asked = this.procs.get(id)?.asked;
    if (!asked) return;
    // The oldest first: askers time out in about the order they asked, so this ends at once as a rule.
    for (const asker of asked) {
      if (asker.call === call && asker.thread === thread) {
        asked.delete(asker);
        return;
      }
    }
  }

  /** Ends every process here (reason `shutdown`), telling no other thread. */
  protected endAll(): void {
    this.closing = true;
    // The errors that waiting receives reject with here all come from this call: their stacks would say nothing
    // and cost most of the time of ending many processes.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      for (const proc of this.procs.values()) this.exit(proc, 'shutdown', null);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }
}
