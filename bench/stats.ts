/** Order statistics for benchmark samples: median and nearest-rank percentiles. */

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The nearest-rank `p`-quantile (`p` in (0, 1]) of samples already sorted ascending. */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) throw new RangeError('quantile of no values');
  if (!(p > 0 && p <= 1)) throw new RangeError('p must be in (0, 1]');
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
}

/** p50 and p99 of round-trip times (µs), the samples in any order. */
export function tripPercentiles(micros: Float64Array): { p50: number; p99: number } {
  const sorted = micros.slice().sort();
  return { p50: quantileSorted(sorted, 0.5), p99: quantileSorted(sorted, 0.99) };
}
