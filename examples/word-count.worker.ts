/**
 * The worker of the word count (`word-count.ts`): reads its share of the
 * corpus, routes every word to the worker that owns it with `exchange`, and
 * counts the words it owns. Run by `initialize` on every worker.
 */
import { from, map, mergeMap, reduce } from 'rxjs';
import { codec, type WorkerContext } from '../index'; // in your app: from 'rxwire'
import { exchange } from '../operators'; // in your app: from 'rxwire/operators'
import { corpusLine, type CorpusOptions } from './corpus';

const Word = codec({ type: 'record', name: 'Word', fields: [{ name: 'text', type: 'string' }] } as const);

export default function countWords(worker: WorkerContext, corpus: CorpusOptions) {
  // Worker i reads lines i, i + peers, i + 2 peers, ...: its share of the input.
  const mine = function* () {
    for (let line = worker.index; line < corpus.lines; line += worker.peers) yield corpusLine(line, corpus);
  };
  return from(mine()).pipe(
    mergeMap((line) => line.split(' ')),
    map((text) => ({ text })),
    exchange({ worker, channel: 'words', codec: Word, key: (word) => word.text }), // equal words meet at one worker
    reduce((counts, word) => counts.set(word.text, (counts.get(word.text) ?? 0) + 1), new Map<string, number>()),
    map((counts) => [...counts]), // the result crosses back to the main thread
  );
}
