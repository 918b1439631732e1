/**
 * Several `--json` runs as one set of rows (`--from` given more than once),
 * for the chart and bench/RESULTS.md: issue 15 asks for the medians of
 * three full runs.
 */
import type { Row } from './harness';
import { median } from './stats';

/**
 * For each figure (suite, case, baseline), the median over the runs of its
 * value, its baseline's value and its ratio. The ratio is the median of the
 * runs' own ratios, each formed within one run, where subject and baseline
 * shared the machine's state — not a ratio of medians taken from different
 * runs. A figure missing from some runs (its case failed there) is the
 * median of the runs that have it. Rows keep the order in which they first
 * appear.
 */
export function medianOfRuns(runs: readonly (readonly Row[])[]): Row[] {
  const figures = new Map<string, Row[]>();
  for (const rows of runs) {
    for (const row of rows) {
      const key = `${row.suite}\u0000${row.case}\u0000${row.baseline}`;
      const seen = figures.get(key);
      if (seen) seen.push(row);
      else figures.set(key, [row]);
    }
  }
  return [...figures.values()].map((rows) => ({
    ...rows[0],
    value: median(rows.map((r) => r.value)),
    baselineValue: median(rows.map((r) => r.baselineValue)),
    ratio: median(rows.map((r) => r.ratio)),
  }));
}

/**
 * How many of `runs` measured each suite, at the fewest (1 for no rows):
 * runs may come in parts, some suites in one file and the rest in another,
 * so the count of files says nothing by itself. RESULTS.md states it.
 */
export function runsOfEverySuite(runs: readonly (readonly Row[])[]): number {
  const perSuite = new Map<string, number>();
  for (const rows of runs) for (const suite of new Set(rows.map((r) => r.suite))) perSuite.set(suite, (perSuite.get(suite) ?? 0) + 1);
  return perSuite.size > 0 ? Math.min(...perSuite.values()) : 1;
}
