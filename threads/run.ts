/**
 * Running a worker function to its result, the same way in a worker thread
 * and in the calling thread.
 */
import { isObservable, lastValueFrom, type Observable } from 'rxjs';

/**
 * How a worker's function failed: the thrown value, whatever it is (a
 * `throw undefined` is a failure too, not a success without a value).
 */
export interface Failure {
  readonly error: unknown;
}

/** What a worker module's default export may return. */
export type WorkerResult<R> = R | Promise<R> | Observable<R> | Promise<Observable<R>>;

/**
 * Calls `fn(...params)` and resolves with its result: the value, what the
 * Promise resolves to, or the last value of the Observable, returned or
 * resolved (undefined when it completes empty). `settle` runs once it is
 * over, with the {@link Failure} if it failed.
 */
export async function runToResult(
  fn: (...params: never[]) => unknown,
  params: unknown[],
  settle: (failure?: Failure) => void,
): Promise<unknown> {
  try {
    // An async function may resolve to an Observable: that is run too.
    const returned = await (fn as (...params: unknown[]) => unknown)(...params);
    const value = isObservable(returned) ? await lastValueFrom(returned, { defaultValue: undefined }) : returned;
    settle();
    return value;
  } catch (err) {
    settle({ error: err });
    throw err;
  }
}
