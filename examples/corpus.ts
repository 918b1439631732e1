/**
 * A deterministic corpus for the word count: line n is always the same words,
 * drawn from a small vocabulary with a Zipf-like skew (a few words are very
 * common, most are rare), so every worker can make its lines on its own.
 */

export interface CorpusOptions {
  /** How many lines. */
  lines: number;
  /** Words per line. */
  wordsPerLine: number;
  /** Distinct words. */
  vocabulary: number;
}

export const DEFAULT_CORPUS: CorpusOptions = { lines: 100_000, wordsPerLine: 12, vocabulary: 5_000 };

const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'ze', 'pa', 'qui', 'dor'];

/** The word of rank `rank` (0 is the most common). */
export function wordOf(rank: number): string {
  let text = '';
  let n = rank + 1;
  while (n > 0) {
    text += SYLLABLES[n % SYLLABLES.length];
    n = Math.floor(n / SYLLABLES.length);
  }
  return text;
}

/** Line `n` of the corpus. */
export function corpusLine(n: number, { wordsPerLine, vocabulary }: CorpusOptions): string {
  const words: string[] = [];
  let state = (n * 0x9e3779b1 + 0x7f4a7c15) >>> 0;
  for (let i = 0; i < wordsPerLine; i++) {
    // xorshift32, then a skew toward small ranks (u² puts more mass near 0).
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    const u = state / 0x100000000;
    words.push(wordOf(Math.floor(u * u * vocabulary)));
  }
  return words.join(' ');
}

/** The counts computed in one thread, to check a distributed run against. */
export function countInPlace(corpus: CorpusOptions): Map<string, number> {
  const counts = new Map<string, number>();
  for (let line = 0; line < corpus.lines; line++) {
    for (const word of corpusLine(line, corpus).split(' ')) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return counts;
}
