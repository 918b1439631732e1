/**
 * The calls a thread waits on: requests to processes (answered by REPLY)
 * and questions to other threads (register, lookup, alive: answered by
 * ANSWER). One table, by call id (operators/id-table.ts); each call settles once — by its answer, its
 * timeout, the death of the thread it waits on, or the node's close.
 */
import { TimeoutError } from '../core/errors';
import { IdTable, byId } from '../operators/id-table';

interface Pending {
  /** The call id. */
  readonly id: number;
  readonly thread: number;
  resolve(value: unknown): void;
  reject(err: Error): void;
  /** What the call settles with when its thread dies (a value, or an Error to reject with). */
  readonly gone: () => unknown;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** The open calls of one thread. */
export class Calls {
  private last = 0;
  private readonly open = new IdTable<Pending>();

  /**
   * Opens a call waiting on `thread`.
   * @param timeout milliseconds, or undefined for none
   * @param gone what the call settles with if `thread` dies first
   * @returns the call id, and the Promise its answer settles
   */
  start<T>(thread: number, timeout: number | undefined, what: string, gone: () => unknown, timedOut?: () => void): [number, Promise<T>] {
    const call = ++this.last;
    // Made now, so that a timeout shows the caller's stack.
    const late = timeout === undefined ? undefined : new TimeoutError(`${what}: no answer within ${timeout} ms`);
    const promise = new Promise<T>((resolve, reject) => {
      const pending: Pending = { id: call, thread, resolve: resolve as (value: unknown) => void, reject, gone, timer: undefined };
      if (late) {
        pending.timer = setTimeout(() => {
          this.open.delete(call);
          reject(late);
          timedOut?.();
        }, timeout);
      }
      this.open.add(pending);
    });
    return [call, promise];
  }

  /** Resolves `call` with `value` (ignored when the call is over). */
  resolve(call: number, value: unknown): void {
    this.take(call)?.resolve(value);
  }

  /** Rejects `call` with `err` (ignored when the call is over). */
  reject(call: number, err: Error): void {
    this.take(call)?.reject(err);
  }

  /** Thread `thread` died: every call waiting on it settles as its `gone` says. */
  threadGone(thread: number): void {
    for (const pending of this.open.values().sort(byId)) {
      if (pending.thread !== thread) continue;
      this.take(pending.id);
      const outcome = pending.gone();
      if (outcome instanceof Error) pending.reject(outcome);
      else pending.resolve(outcome);
    }
  }

  /** Rejects every open call with `err`. */
  closeAll(err: Error): void {
    for (const pending of this.open.values().sort(byId)) this.take(pending.id)?.reject(err);
  }

  private take(call: number): Pending | undefined {
    const pending = this.open.get(call);
    if (!pending) return undefined;
    this.open.delete(call);
    if (pending.timer) clearTimeout(pending.timer);
    return pending;
  }
}
