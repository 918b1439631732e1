/**
 * The benchmark model and the loop that measures a case: a case is measured
 * by a subject runner (rxwire) and one or more baseline runners, several
 * repetitions each, interleaved, and each metric reports the MEDIAN of its
 * repetitions. Nothing here prints; the runner (run.ts) does.
 *
 * Ratio convention: a ratio > 1 always means rxwire did better.
 * For a `higher`-is-better metric (msgs/s) ratio = value / baseline;
 * for a `lower`-is-better metric (µs) ratio = baseline / value.
 */
import { median } from './stats';

/** One repetition's measurements, by metric key. */
export type Sample = Readonly<Record<string, number>>;

/** Something measured: it does its own setup, timing and teardown. */
export interface Runner {
  /** Shown as the baseline's name in a row (`JSON.stringify+parse`). */
  readonly name: string;
  /**
   * What the baseline stands for (ignored on a case's subject):
   *  - `'peer'` (the default): what an rxwire user would use instead
   *    (postMessage, piscina, bare net, the raw NATS client, nact);
   *  - `'floor'`: the same job written bare in the bench, without the
   *    library: the limit of this machine for it;
   *  - `'reference'`: another rxwire figure the case is held against (the
   *    request round trip against the shm WireSubject round trip).
   */
  readonly role?: Role;
  /** Runs one repetition; setup and teardown stay outside its timed part. */
  run(): Promise<Sample>;
}

/** See {@link Runner.role}. */
export type Role = 'peer' | 'floor' | 'reference';

/** A quantity a case reports; it becomes one row per baseline. */
export interface Metric {
  /** The key in each `Sample`. */
  readonly key: string;
  /** The row's case name (`round trip p50`). */
  readonly label: string;
  readonly unit: string;
  /** Whether a higher value is better (throughput) or a lower one (latency). */
  readonly better: 'higher' | 'lower';
}

/** A scenario: rxwire's runner, its baselines, what they report. */
export interface Case {
  readonly name: string;
  readonly metrics: readonly Metric[];
  readonly subject: Runner;
  readonly baselines: readonly Runner[];
}

/** What every suite receives. */
export interface SuiteOptions {
  /** The short version: smaller sizes, fewer repetitions. */
  readonly quick: boolean;
}

/**
 * How many round trips a round-trip case times, and how many it makes first,
 * untimed (port, shm and request suites; `n` is the timed count of the full
 * run, `quickN` of `--quick`).
 *
 * The warm-up is 60,000 round trips (10,000 quick), not the 2,000 it was,
 * so that the timed ones run in the steady state the figures claim. Each
 * case starts a fresh worker, whose V8 grows its young generation to
 * 8–16 MiB a semi-space within its first milliseconds; every 4 KiB page of
 * it faults the first time the allocator reaches it (~10 µs a fault on the
 * 2-core VMs these figures come from), and a round trip leaves well under
 * 1 KB of garbage on each thread, so the first lap over both semi-spaces
 * takes some 60,000 round trips. With 2,000 the timed part sat inside it:
 * the worker took a fault about every 5th round trip, and the p99 measured
 * that, not the link (1,500–3,700 round trips in 20,000 over 15 µs against
 * 170–300 after a long warm-up; 6cb6550, whose worker's young generation
 * grew to 8 MiB, not 16, was hit less). The first lap is real and is
 * written down as such in bench/README.md ("A fresh worker's first lap").
 */
export function roundTrips(quick: boolean, n = 20_000, quickN = 5_000): { n: number; warmup: number } {
  return quick ? { n: quickN, warmup: 10_000 } : { n, warmup: 60_000 };
}

/** A named group of cases; `cases` builds them for the chosen size. */
export interface Suite {
  readonly name: string;
  /** One line for `--help`. */
  readonly title: string;
  cases(options: SuiteOptions): Case[];
}

/** One reported figure, as `--json` writes it. */
export interface Row {
  suite: string;
  case: string;
  unit: string;
  value: number;
  baseline: string;
  baselineValue: number;
  ratio: number;
  /** The baseline's role: peer, floor or reference. */
  role: Role;
  /** Not in the JSON: how the ratio was formed, for the printed row. */
  better: 'higher' | 'lower';
}

/** Where a measurement stands, for the progress line. */
export interface Progress {
  /** Repetitions done so far (warm-up is 0) out of `of`. */
  (done: number, of: number, phase: 'warm-up' | 'runs'): void;
}

/** Options of {@link measureCase}. */
export interface MeasureOptions {
  /** Measured repetitions per runner (after one warm-up repetition each). */
  readonly repetitions: number;
  readonly progress?: Progress;
}

/**
 * Measures `kase`: one warm-up repetition of every runner, then
 * `repetitions` rounds that each run every runner once, in an order that
 * alternates (subject first, then last), so drift and noise hit all alike.
 */
export async function measureCase(suite: string, kase: Case, options: MeasureOptions): Promise<Row[]> {
  const { repetitions, progress = () => {} } = options;
  if (!Number.isInteger(repetitions) || repetitions < 1) {
    throw new RangeError('options.repetitions must be a positive integer');
  }
  const runners = [kase.subject, ...kase.baselines];
  const samples: Sample[][] = runners.map(() => []);
  progress(0, repetitions, 'warm-up');
  for (const runner of runners) await runner.run();
  for (let rep = 0; rep < repetitions; rep++) {
    progress(rep, repetitions, 'runs');
    const order = runners.map((_, i) => i);
    if (rep % 2 === 1) order.reverse();
    for (const i of order) samples[i].push(await runners[i].run());
  }
  progress(repetitions, repetitions, 'runs');

  const rows: Row[] = [];
  for (const metric of kase.metrics) {
    const value = medianOf(samples[0], metric.key, kase.subject.name);
    kase.baselines.forEach((baseline, b) => {
      const baselineValue = medianOf(samples[b + 1], metric.key, baseline.name);
      rows.push({
        suite,
        case: metric.label,
        unit: metric.unit,
        value,
        baseline: baseline.name,
        baselineValue,
        ratio: metric.better === 'higher' ? value / baselineValue : baselineValue / value,
        role: baseline.role ?? 'peer',
        better: metric.better,
      });
    });
  }
  return rows;
}

function medianOf(samples: readonly Sample[], key: string, runner: string): number {
  const values = samples.map((s) => s[key]);
  if (values.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
    throw new TypeError(`runner "${runner}" gave no finite value for metric "${key}"`);
  }
  return median(values);
}
