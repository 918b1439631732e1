/** A stage module with asynchronous outputs: each input comes back after a timer. */
import { delay, mergeMap, of, type Observable } from 'rxjs';

export default (in$: Observable<number>) => in$.pipe(mergeMap((n) => of(n).pipe(delay(n % 3))));
