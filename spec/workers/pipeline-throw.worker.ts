/** A pipeline step (Parsed → Kept) whose operator throws at n = 7. */
import { map, type Observable } from 'rxjs';
import type { Kept, Parsed } from './pipeline-parse.worker';

export class BadStep extends Error {
  override name = 'BadStep';
}

export default (in$: Observable<Parsed>) =>
  in$.pipe(
    map((p): Kept => {
      if (p.n === 7) throw new BadStep(`bad step at ${p.n}`);
      return { k: p.n };
    }),
  );
