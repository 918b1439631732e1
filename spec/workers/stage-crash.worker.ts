/**
 * A stage module that echoes its inputs and never completes; at input 9 it
 * starts a timer that sends ten more values (100..109) and then throws
 * outside any RxJS callback: its thread dies in the turn it wrote them.
 */
import { Observable } from 'rxjs';

/** The module's operator, with `end` as how its thread ends in the timer's turn (stage-quit.worker.ts uses it too). */
export const sendsThenEnds = (end: () => void) => (in$: Observable<number>) =>
  new Observable<number>((out) =>
    in$.subscribe((n) => {
      out.next(n);
      if (n !== 9) return;
      setTimeout(() => {
        for (let i = 100; i < 110; i++) out.next(i);
        end();
      }, 20);
    }),
  );

export default sendsThenEnds(() => {
  throw new Error('crash in a timer');
});
