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
 *
 * As one process of a cluster (timely's flags: `-n` processes, `-p` this
 * one's index, `-h` a hostfile of `host:port` lines), words also travel over
 * TCP to the workers of the other processes; each process checks the words
 * its own workers own, and examples/word-count-cluster.ts starts a whole
 * cluster on this machine and checks the union:
 *
 *   npx ts-node examples/word-count.ts -n 2 -p 1 -w 2 &   # listens on 127.0.0.1:2103 and :2104
 *   npx ts-node examples/word-count.ts -n 2 -p 0 -w 2     # connects to them (either may start first)
 *
 * `--lines N` counts the first N lines of the corpus (default 100 000).
 */
import { extname, join } from 'node:path';
import { Config, initialize, route } from '../index'; // in your app: from 'rxwire'
import { DEFAULT_CORPUS, countInPlace, type CorpusOptions } from './corpus';

/** What a cluster process sends its launcher (when it has one: `process.send`). */
export interface ClusterCounts {
  type: 'word-counts';
  process: number;
  /** Per worker of this process, in order: [word, count] pairs. */
  perWorker: [string, number][][];
}

async function main(): Promise<void> {
  const config = Config.fromArgs();
  const corpus = corpusOf(process.argv.slice(2));
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

  // In a cluster this process owns the words `exchange` routes to its workers.
  let expected = countInPlace(corpus);
  let where = `on ${workers} worker(s)`;
  let against = 'a single-threaded count';
  if (config.kind === 'cluster') {
    const peers = config.hosts.length * workers;
    const first = config.process * workers;
    const mine = (word: string) => Math.floor(route(word, peers) / workers) === config.process;
    expected = new Map([...expected].filter(([word]) => mine(word)));
    where = `on ${workers} worker(s) of process ${config.process} of ${config.hosts.length} (workers ${first} to ${first + workers - 1})`;
    against = "this process's share of a single-threaded count";
    const message: ClusterCounts = { type: 'word-counts', process: config.process, perWorker };
    process.send?.(message);
  }
  const same = owners === 0 && expected.size === counts.size && [...expected].every(([w, c]) => counts.get(w) === c);

  console.log(`${total.toLocaleString('en-US')} words, ${counts.size} distinct, ${where} in ${elapsed.toFixed(0)} ms (worker start included)`);
  console.log(`words per worker: ${perWorker.map((p) => p.length).join(' / ')} distinct`);
  console.log(`top: ${top.map(([w, c]) => `${w} ${c}`).join(', ')}`);
  console.log(same ? `check: OK, equal to ${against}` : `check: FAILED, differs from ${against}`);
  if (!same) {
    const differ = [...expected].filter(([word, count]) => counts.get(word) !== count).slice(0, 5);
    console.log(`differing (up to 5; ${owners} word(s) counted by two workers): ${differ.map(([w, c]) => `${w} ${counts.get(w) ?? 0} (expected ${c})`).join(', ')}`);
    process.exitCode = 1;
  }
}

/** The corpus, with `--lines N` if given. */
function corpusOf(argv: readonly string[]): CorpusOptions {
  const at = argv.findIndex((arg) => arg === '--lines' || arg.startsWith('--lines='));
  if (at < 0) return DEFAULT_CORPUS;
  const text = argv[at].includes('=') ? argv[at].slice('--lines='.length) : argv[at + 1];
  const lines = Number(text);
  if (!Number.isInteger(lines) || lines < 1) throw new RangeError('--lines must be a positive integer');
  return { ...DEFAULT_CORPUS, lines };
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
