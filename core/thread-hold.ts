/**
 * Keeping a thread alive through an `Atomics.waitAsync`: a pending waitAsync
 * holds nothing on the event loop, so a worker with nothing else to do would
 * exit (code 0) in the middle of the wait. The caller holds a ref'd timer
 * from the wait until it settles (transports/shm/wait.ts, pool/credits.ts).
 *
 * The timer never fires on its own: the caller clears it when the wait
 * settles. It used to last the wait's timeout plus 10 ms, and that lost the
 * thread: V8 arms a waitAsync's timeout as a delayed task, which Node starts
 * on the event loop only when the loop next turns, while a `setTimeout`
 * counts from the loop's time of the turn that made it. A turn that ran on,
 * or a thread kept off its core, for over 10 ms let the timer fire first,
 * the loop find no handle, and the worker exit mid-wait (the pool tests'
 * "the worker exited with code 0" on a loaded machine; reproduced by busy
 * code for 30 ms after a 50 ms wait with a 60 ms timer).
 */
import { noop } from './ending';

/** The longest delay Node's timers take, 2^31 − 1 ms (about 24.8 days): a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 0x7fffffff;

/** A ref'd timer that keeps this thread alive until the caller clears it (`clearTimeout`). */
export function holdThread(): ReturnType<typeof setTimeout> {
  return setTimeout(noop, MAX_TIMER_MS);
}
