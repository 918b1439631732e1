/** A stage module whose thread exits (a crash, not a throw) at input 2. */
import { map, type Observable } from 'rxjs';

export default (in$: Observable<number>) =>
  in$.pipe(
    map((n) => {
      if (n === 2) process.exit(3);
      return n;
    }),
  );
