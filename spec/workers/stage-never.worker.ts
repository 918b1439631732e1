/** A stage module whose output never completes and that holds nothing open: its thread runs out of work. */
import { merge, NEVER, type Observable } from 'rxjs';

export default <T>(in$: Observable<T>) => merge(in$, NEVER);
