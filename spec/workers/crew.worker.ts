/**
 * The user's side for spec/threads/start.spec.ts. `value`: every worker
 * returns index × 10. `forever`: none returns. `exit` / `throw`: worker
 * `failing` exits with code 3 / throws, the others never return. `post`:
 * every worker posts messages of its own on `parentPort` (one shaped like
 * a report) before it returns index × 10. `throw-null` / `throw-text`:
 * worker `failing` throws `null` / `'boom'` from a timer (uncaught).
 */
import { parentPort } from 'node:worker_threads';

type Mode = 'value' | 'forever' | 'exit' | 'throw' | 'post' | 'throw-null' | 'throw-text';

export default function crew(setup: { mode: Mode; failing?: number }, index: number) {
  if (setup.mode === 'value') return index * 10;
  if (setup.mode === 'post') {
    for (const message of [{ progress: 50 }, null, 'text', { type: 'result', value: 99 }, { type: 'error' }]) parentPort!.postMessage(message);
    return index * 10;
  }
  // A pending promise alone would let the thread's event loop run dry and exit: a timer keeps it alive.
  if (setup.mode === 'forever' || index !== setup.failing) return new Promise(() => setInterval(() => {}, 60_000));
  if (setup.mode === 'exit') process.exit(3);
  if (setup.mode === 'throw-null' || setup.mode === 'throw-text') {
    const thrown = setup.mode === 'throw-null' ? null : 'boom';
    setTimeout(() => {
      throw thrown;
    });
    return new Promise(() => {});
  }
  throw new RangeError(`worker ${index} refuses`);
}
