/** A stage module that emits its input as is. */
import type { Observable } from 'rxjs';

export default <T>(in$: Observable<T>) => in$;
