/** A pipeline step that emits its input as is, but takes half a second to load: the step before it runs first. */
import type { Observable } from 'rxjs';

const until = Date.now() + 500;
while (Date.now() < until); // a module that does slow work as it loads

export default <T>(in$: Observable<T>) => in$;
