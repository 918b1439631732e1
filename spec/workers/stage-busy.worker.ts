/** A stage module: random busy work per item (up to ~2 ms), then doubles it, tagged with its thread. */
import { threadId } from 'node:worker_threads';
import { map, type Observable } from 'rxjs';
import type { Tagged } from './stage-map.worker';

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

export default (in$: Observable<number>) =>
  in$.pipe(
    map((n): Tagged => {
      busy(Math.random() * 2);
      return { n, value: n * 2, thread: threadId };
    }),
  );
