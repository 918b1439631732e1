/**
 * A pipeline step for the pipeline spec: parses a line into a `Parsed`
 * record. Also exports the codecs of the pipeline-*.worker.ts steps and the
 * spec, and the operators each step runs, so the spec can run the same ones
 * here.
 */
import { filter, map, scan, type Observable } from 'rxjs';
import { codec, type ValueOf } from '../../core/codec';

export const Line = codec('string');

/** Step 0's output: a parsed line. */
export const Parsed = codec({
  type: 'record',
  name: 'Parsed',
  fields: [
    { name: 'n', type: 'long' },
    { name: 'text', type: 'string' },
  ],
} as const);
export type Parsed = ValueOf<typeof Parsed>;

/** Step 1's output: a schema of its own, seen only by step 2. */
export const Kept = codec({ type: 'record', name: 'Kept', fields: [{ name: 'k', type: 'long' }] } as const);
export type Kept = ValueOf<typeof Kept>;

/** Step 2's output, the pipeline's. */
export const Total = codec({
  type: 'record',
  name: 'Total',
  fields: [
    { name: 'n', type: 'long' },
    { name: 'total', type: 'long' },
  ],
} as const);
export type Total = ValueOf<typeof Total>;

export const parse = (in$: Observable<string>) => in$.pipe(map((line): Parsed => ({ n: Number(line.slice(5)), text: line })));
export const keep = (in$: Observable<Parsed>) =>
  in$.pipe(
    filter((p) => p.n % 3 !== 0),
    map((p): Kept => ({ k: p.n })),
  );
export const total = (in$: Observable<Kept>) => in$.pipe(scan((acc: Total, { k }) => ({ n: k, total: acc.total + k }), { n: -1, total: 0 }));

export default parse;
