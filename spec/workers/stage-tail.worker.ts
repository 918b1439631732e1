/** A stage module with outputs outside any push: one before the first input and the count at the end. */
import { count, merge, of, type Observable } from 'rxjs';

export default (in$: Observable<number>) => merge(of(-1), in$, in$.pipe(count()));
