/**
 * A throw in a plain `subscribe` callback, inside a process: RxJS catches
 * it and reports it later, from a timer (`reportUnhandledError`), where by
 * default it is thrown again and ends the thread with every process on it.
 * Here it fails only the process whose code threw (reason `failed`, its
 * links and monitors fire) and the thread runs on.
 *
 * How: the run queue marks the process whose code it is running (its start,
 * its mailbox's deliveries); RxJS schedules the report through its
 * `timeoutProvider`, whose delegate is set once per thread to remember the
 * marked process with the report; `config.onUnhandledError` then fails it.
 * A report made while no process is marked (say from a callback of a timer
 * the process set itself, or after an `await`) goes on as RxJS does without
 * us: to the `onUnhandledError` set before, else thrown.
 */
import { config } from 'rxjs';
import { timeoutProvider } from 'rxjs/internal/scheduler/timeoutProvider';

/** What can be failed by a report: a process. */
export interface Failable {
  fail(err: unknown): void;
}

let current: Failable | null = null;
let reporting: Failable | null = null;
let installed = false;

/** Marks `proc` as the one whose code runs now; returns the mark before, for {@link leave}. */
export function enter(proc: Failable | null): Failable | null {
  const before = current;
  current = proc;
  return before;
}

/** Restores the mark `enter` returned. */
export function leave(before: Failable | null): void {
  current = before;
}

/** Routes RxJS's unhandled-error reports of marked code to its process (once per thread). */
export function catchUnhandled(): void {
  if (installed) return;
  installed = true;
  const previous = timeoutProvider.delegate;
  const later = previous?.setTimeout ?? ((handler: (...args: unknown[]) => void, timeout?: number, ...args: unknown[]) => setTimeout(() => handler(...args), timeout));
  timeoutProvider.delegate = {
    setTimeout(handler: (...args: unknown[]) => void, timeout?: number, ...args: unknown[]) {
      const proc = current;
      if (proc === null) return later(handler, timeout, ...args);
      return later(() => {
        reporting = proc;
        try {
          handler(...args);
        } finally {
          reporting = null;
        }
      }, timeout);
    },
    clearTimeout: previous?.clearTimeout ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>)),
  };
  const before = config.onUnhandledError;
  config.onUnhandledError = (err: unknown) => {
    if (reporting !== null) return reporting.fail(err);
    if (before) return before(err);
    throw err;
  };
}
