/** A stage module that turns each input n into the n values 0 … n − 1: a fan-out whose outputs of one input outgrow a ring. */
import { mergeMap, range, type Observable } from 'rxjs';

export default (in$: Observable<number>) => in$.pipe(mergeMap((n) => range(0, n)));
