/**
 * Word count across worker threads with `exchange`: every worker reads its
 * share of the lines, each word travels (over a shared-memory ring) to the one
 * worker that owns it, and that worker counts it.
 *
 *   npx ts-node examples/word-count.ts -w 4         # from the TypeScript source
 *   npm run build && node dist/examples/word-count.js --workers 4
 *
 * `-w 1` (the default) runs the single worker in this thread. The result is
 * checked against a count made here in one loop.
 */
import { extname, join } from 'node:path';
import { Config, initialize } from '../lib'; // in your app: from 'rxwire'
import { DEFAULT_CORPUS, countInPlace } from './corpus';

async function main(): Promise<void> {
  const config = Config.fromArgs();
  const corpus = DEFAULT_CORPUS;
  const workers = config.kind === 'thread' ? 1 : config.workers;
  // The worker module next to this file, as .ts under ts-node or .js once built.
  const module = join(__dirname, `word-count.worker${extname(__filename)}`);

  const started = performance.now();
  const perWorker = await initialize<[string, number][]>(config, module, corpus).join();
  const elapsed = performance.now() - started;

  const counts = new Map<string, number>();
  let owners = 0;
  for (const pairs of perWorker) {
    for (const [word, count] of pairs) {
      if (counts.has(word)) owners++; // a word counted by two workers: exchange failed
      counts.set(word, (counts.get(word) ?? 0) + count);
    }
  }
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 5);

  const expected = countInPlace(corpus);
  const same = owners === 0 && expected.size === counts.size && [...expected].every(([w, c]) => counts.get(w) === c);

  console.log(`${total.toLocaleString('en-US')} words, ${counts.size} distinct, on ${workers} worker(s) in ${elapsed.toFixed(0)} ms (worker start included)`);
  console.log(`words per worker: ${perWorker.map((p) => p.length).join(' / ')} distinct`);
  console.log(`top: ${top.map(([w, c]) => `${w} ${c}`).join(', ')}`);
  console.log(same ? 'check: OK, equal to a single-threaded count' : 'check: FAILED, differs from a single-threaded count');
  if (!same) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
