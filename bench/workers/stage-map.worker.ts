/**
 * Stage suite worker for rxwire: the module `stage` runs on each of its
 * worker threads (operators/stage-worker.ts applies the default export to
 * the Observable of the inputs sent to that thread). Also exports the codecs
 * and the map itself, which the suite and the piscina worker
 * (`piscina-map.worker.ts`) share, so both run the very same function.
 */
import { map, type Observable } from 'rxjs';
import { codec, type Infer } from '../../index';

const itemSchema = {
  type: 'record',
  name: 'StageItem',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'x', type: 'double' },
  ],
} as const;

const resultSchema = {
  type: 'record',
  name: 'StageResult',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'y', type: 'double' },
  ],
} as const;

/** An input: `{ id: long, x: double }`. */
export const Item = codec(itemSchema);
export type Item = Infer<typeof itemSchema>;
/** An output: `{ id: long, y: double }`. */
export const Result = codec(resultSchema);
export type Result = Infer<typeof resultSchema>;

/** The work: trivial on purpose, so the figure is the cost of getting items through. */
export function mapItem(item: Item): Result {
  return { id: item.id, y: item.x * 2 + 1 };
}

export default (in$: Observable<Item>): Observable<Result> => in$.pipe(map(mapItem));
