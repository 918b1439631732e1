/** A stage module whose operator throws at input 3. */
import { map, type Observable } from 'rxjs';

export class BadInput extends Error {
  override name = 'BadInput';
}

export default (in$: Observable<number>) =>
  in$.pipe(
    map((n) => {
      if (n === 3) throw new BadInput(`bad input ${n}`);
      return n;
    }),
  );
