/**
 * The machine's own noise: how often a busy thread is stopped, here, by
 * something that is not the program — the hypervisor taking the virtual CPU
 * for a moment, an interrupt, the runtime's own threads. A busy loop reads
 * the clock and counts every gap of {@link STOP_MICROS} or more between two
 * reads. Measured before the suites (`npm run bench` prints it and writes it
 * into `--json` and `--results`), because it sets the tail of every round
 * trip: a trip of T µs that keeps two threads busy meets such a stop with a
 * chance of about T × 2 × the rate, and once that chance is over 1 % the
 * trip's p99 is a stop, not the code (bench/README.md, "Tails and the
 * machine's noise").
 */
import { performance } from 'node:perf_hooks';
import { median } from './stats';

/** A gap between two clock reads at least this long (µs) counts as a stop; a read is ~50 ns. */
export const STOP_MICROS = 5;

/** What the busy loop saw. */
export interface Noise {
  /** How long it ran (ms). */
  readonly ms: number;
  /** Stops of {@link STOP_MICROS} µs or more, per second. */
  readonly stopsPerSecond: number;
  /** The median stop (µs); 0 when there was none. */
  readonly medianStopMicros: number;
}

/** Runs a busy loop on this thread for `ms` and counts its stops. Blocks the thread for that long. */
export function measureNoise(ms = 1000): Noise {
  if (!(ms > 0 && ms <= 60_000)) throw new RangeError('ms must be in (0, 60 000]');
  const stops: number[] = [];
  const threshold = STOP_MICROS / 1000;
  const start = performance.now();
  const end = start + ms;
  let last = start;
  for (;;) {
    const now = performance.now();
    if (now - last >= threshold) stops.push((now - last) * 1000);
    last = now;
    if (now >= end) break;
  }
  const ran = last - start;
  return { ms: ran, stopsPerSecond: (stops.length * 1000) / ran, medianStopMicros: stops.length === 0 ? 0 : median(stops) };
}

/**
 * The noise in one sentence for a run's provenance, with the round-trip time T from which T × 2 × rate > 1 %:
 * trips that long or longer have a p99 set by the machine's stops.
 */
export function noiseLine(noise: Noise): string {
  const rate = Math.round(noise.stopsPerSecond);
  if (rate === 0) return `a busy loop was never stopped for ${STOP_MICROS} µs or more in ${Math.round(noise.ms)} ms`;
  const from = 0.01 / (2 * noise.stopsPerSecond) * 1e6;
  return (
    `a busy loop was stopped for ${STOP_MICROS} µs or more ${rate} times a second (median stop ${noise.medianStopMicros.toFixed(1)} µs): ` +
    `a round trip keeping two threads busy has its p99 set by such stops from about ${from.toFixed(1)} µs a trip`
  );
}
