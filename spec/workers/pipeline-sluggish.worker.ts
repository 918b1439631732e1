/** A pipeline step that emits its input as is after 2 ms of work on each: slower than the steps before it. */
import { map, type Observable } from 'rxjs';

export default <T>(in$: Observable<T>) =>
  in$.pipe(
    map((v) => {
      const until = Date.now() + 2;
      while (Date.now() < until);
      return v;
    }),
  );
