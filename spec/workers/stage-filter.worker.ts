/** A stage module: keeps multiples of 3, and emits each twice (fewer and more outputs than inputs). */
import { filter, mergeMap, of, type Observable } from 'rxjs';

export default (in$: Observable<number>) =>
  in$.pipe(
    filter((n) => n % 3 === 0),
    mergeMap((n) => of(n, 1000 + n)),
  );
