/**
 * A stage module for the stage spec: doubles each input, tagged with its
 * thread. Also exports the codecs the other stage-*.worker.ts modules and the
 * spec share.
 */
import { threadId } from 'node:worker_threads';
import { map, type Observable } from 'rxjs';
import { codec, type ValueOf } from '../../core/codec';

export const N = codec('long');

/** An output: the input `n`, the result `value`, and the thread that made it. */
export const Tagged = codec({
  type: 'record',
  name: 'Tagged',
  fields: [
    { name: 'n', type: 'long' },
    { name: 'value', type: 'long' },
    { name: 'thread', type: 'int' },
  ],
} as const);
export type Tagged = ValueOf<typeof Tagged>;

export default (in$: Observable<number>) => in$.pipe(map((n): Tagged => ({ n, value: n * 2, thread: threadId })));
