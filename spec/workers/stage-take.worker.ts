/** A stage module whose operator completes after 3 values, before its input does. */
import { take, type Observable } from 'rxjs';

export default (in$: Observable<number>) => in$.pipe(take(3));
