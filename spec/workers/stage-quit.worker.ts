/**
 * A stage module that echoes its inputs and never completes; at input 9 it
 * starts a timer that sends ten more values (100..109) and then calls
 * `process.exit(0)`: its thread ends in the turn it wrote them.
 */
import { Observable } from 'rxjs';

export default (in$: Observable<number>) =>
  new Observable<number>((out) =>
    in$.subscribe((n) => {
      out.next(n);
      if (n !== 9) return;
      setTimeout(() => {
        for (let i = 100; i < 110; i++) out.next(i);
        process.exit(0);
      }, 20);
    }),
  );
