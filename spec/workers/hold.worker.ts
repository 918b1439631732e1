/**
 * A worker whose only pending work is an `Atomics.waitAsync`, for
 * spec/core/thread-hold.spec.ts. It arms the wait, then keeps its thread
 * busy for `busyMs` in the same turn (as a long turn, or a thread kept off
 * its core, does), and posts 'settled' when the wait settles. The thread
 * must stay alive until then.
 *
 * `how`: 'credits' waits through pool/credits.ts `Credits.wait`, 'held'
 * through a bare waitAsync kept alive with core/thread-hold.ts; 'margin'
 * keeps it alive with a timer that ends long before the wait does (10 ms
 * against the spec's 500 ms wait): the control that shows a pending
 * waitAsync alone keeps no worker alive.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createCredits, Credits } from '../../pool/credits';
import { holdThread } from '../../core/thread-hold';
import { noop } from '../../core/ending';

const { how, sliceMs, busyMs } = workerData as { how: 'credits' | 'held' | 'margin'; sliceMs: number; busyMs: number };

function bareWait(keepAlive: () => ReturnType<typeof setTimeout>): Promise<void> {
  const cells = new Int32Array(new SharedArrayBuffer(4));
  const result = Atomics.waitAsync(cells, 0, 0, sliceMs);
  if (!result.async) throw new Error('the wait settled at once');
  const timer = keepAlive();
  return result.value.then(() => clearTimeout(timer));
}

const waited =
  how === 'credits'
    ? new Credits(createCredits(0)).wait(sliceMs)
    : bareWait(how === 'held' ? holdThread : () => setTimeout(noop, 10));
waited.then(() => parentPort!.postMessage('settled'));
const until = Date.now() + busyMs;
while (Date.now() < until);
