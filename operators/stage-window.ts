/**
 * How many inputs `stage` keeps in flight (sent to a worker, not yet finished
 * there): `StageOptions.inFlight`, fixed when given; otherwise this window.
 *
 * Adaptive by default: every {@link SAMPLE} finished inputs it is set to what
 * the workers finish in {@link TARGET_MS} at the pace just measured, rounded
 * up to a power of two, from {@link START} to {@link MOST} (down by half at
 * most per sample); it grows only if, at that moment, no worker's way down
 * holds values its ring has no room for. Why: on the stage bench (a trivial
 * map, 2 workers on 2 cores, so three threads on two cores) a fixed 1024
 * left the workers dry whenever this thread waited for a core: ~1.0M
 * records/s, against ~1.45M with 4096 (bench/README.md, "stage"). Inputs
 * that take long keep 1024, which balances them across the workers as
 * before; inputs of some KiB fill the rings before the window grows and
 * mostly keep it too. What the window does not bound: inputs queued behind
 * a full ring once it has grown (small inputs: a few MB at 16384), and,
 * ordered, outputs held behind a slow input, 16 × the window (262,144
 * inputs' outputs at 16384; 16,384 at 1024).
 */
import { performance } from 'node:perf_hooks';
import { HELD_PER_IN_FLIGHT } from './stage-internals';

/** The adaptive window's first and smallest size: the former fixed default. */
export const START = 1024;
/** The adaptive window's largest size. */
export const MOST = 16384;
/**
 * Finished inputs between two measures of the pace (a power of two). At 1024 (~1 ms of a trivial map) a
 * sample that held one of this thread's own dispatch bursts read 10–40× slower than the next, and the window
 * swung between its ends about one sample in three.
 */
const SAMPLE = 4096;
/** The work the window should hold, in ms at the measured pace: several scheduler slices of a busy 2-core machine. */
const TARGET_MS = 4;

export class InFlightWindow {
  /** Inputs that may be in flight now. */
  limit: number;
  /** Inputs in flight now: sent to a worker and not yet finished there. */
  now = 0;
  private finishedCount = 0;
  private sampledAt = 0;

  /**
   * @param fixed `options.inFlight` when given: the window stays there
   * @param clock ms, for the pace (a test passes its own)
   */
  constructor(
    private readonly fixed: number | undefined,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.limit = fixed ?? START;
  }

  /** Ordered: how many inputs' outputs may wait for their turn. */
  get held(): number {
    return this.limit * HELD_PER_IN_FLIGHT;
  }

  /** An input has finished at its worker; `workers`' ways down say whether their rings hold what was sent. */
  finished(workers: readonly { readonly down: { stats(): { readonly queued: number } } }[]): void {
    this.now--;
    if ((++this.finishedCount & (SAMPLE - 1)) !== 0 || this.fixed !== undefined) return;
    const at = this.clock();
    const elapsed = at - this.sampledAt;
    this.sampledAt = at;
    if (this.finishedCount === SAMPLE || !(elapsed > 0)) return; // the first sample starts the clock
    let size = START;
    while (size < MOST && size < (SAMPLE / elapsed) * TARGET_MS) size *= 2;
    if (size > this.limit && workers.some((w) => w.down.stats().queued > 0)) return;
    // Down by half at most per sample: one slow sample (this thread off its core) does not empty the pipeline.
    this.limit = Math.max(size, this.limit / 2);
  }
}
