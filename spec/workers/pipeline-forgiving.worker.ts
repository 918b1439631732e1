/** A pipeline step that echoes its input and ends quietly when its input fails (`catchError`): a common shape. */
import { EMPTY, catchError, type Observable } from 'rxjs';

export default <T>(in$: Observable<T>) => in$.pipe(catchError(() => EMPTY));
