/**
 * As stage-never.worker.ts (its output never completes, it holds nothing open), but the worker given input 1 is
 * held 1.5 s first, busy, as a thread that a loaded machine has not run yet: the other worker runs out of work and
 * exits long before this one answers what it was sent.
 */
import { map, merge, NEVER, type Observable } from 'rxjs';

export default (in$: Observable<number>) =>
  merge(
    in$.pipe(
      map((n) => {
        if (n === 1) {
          const end = performance.now() + 1500;
          while (performance.now() < end);
        }
        return n;
      }),
    ),
    NEVER,
  );
