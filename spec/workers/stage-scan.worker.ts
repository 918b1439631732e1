/** A stage module: the running sum of its inputs (state across the worker's whole input). */
import { scan, type Observable } from 'rxjs';

export default (in$: Observable<number>) => in$.pipe(scan((sum, n) => sum + n, 0));
