/**
 * The worker side of the risk demo: the heavy step, as ordinary RxJS. `stage`
 * runs this operator once per worker thread over the trades sent to it.
 */
import { map, type Observable } from 'rxjs';
import { score } from './risk-model';
import type { Trade } from './trade';

export default (trades$: Observable<Trade>) => trades$.pipe(map(score));
