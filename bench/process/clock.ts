/**
 * Where a thread's wall time goes, read from Linux's scheduler statistics
 * (`/proc/thread-self/schedstat`, `/proc/self/task/<tid>/schedstat`): time
 * on a CPU and time runnable but waiting for one, in nanoseconds. Unlike a
 * wall-clock rate these separate the program's own cost from what a loaded
 * machine takes away: a thread that is on-CPU 30 % of a run and waiting
 * 70 % was slowed by the load, not by its code. Elsewhere than Linux every
 * reading is `undefined` and the probes report nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** A thread's scheduler times, ns. */
export interface ThreadTimes {
  /** On a CPU. */
  readonly run: number;
  /** Runnable, waiting for a CPU. */
  readonly wait: number;
}

function parse(text: string): ThreadTimes {
  const [run, wait] = text.split(' ').map(Number);
  return { run, wait };
}

/** The calling thread's times (sync fs calls run on the calling thread, so `thread-self` is it). */
export function threadTimes(): ThreadTimes | undefined {
  try {
    return parse(readFileSync('/proc/thread-self/schedstat', 'utf8'));
  } catch {
    return undefined; // not Linux, or no schedstat: the probe reports nothing
  }
}

/** On-CPU ns of every thread of this OS process, by tid. */
export function processThreads(): Map<string, number> {
  const times = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return times;
  }
  for (const tid of tids) {
    try {
      times.set(tid, parse(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8')).run);
    } catch {
      // the thread ended between the listing and the read: it ran nothing more here
    }
  }
  return times;
}

/** What a probe of one timed stretch reports, each as a share of its wall time. */
export interface Shares {
  /** The measuring thread on a CPU. */
  readonly cpuShare: number;
  /** The measuring thread runnable, waiting for a CPU. */
  readonly waitShare: number;
  /** Every other thread of the OS process on a CPU (worker threads, V8's GC helpers, libuv). */
  readonly othersShare: number;
  /** The measuring thread's own rate: the stretch's count per second of its CPU time. */
  readonly cpuRate: number;
}

/** Starts a probe of the calling thread; `stop(count)` gives its shares of the wall time since, and `count` per CPU-second. */
export function probe(): { stop(count: number): Shares | undefined } {
  const t0 = performance.now();
  const self0 = threadTimes();
  const all0 = processThreads();
  return {
    stop(count: number): Shares | undefined {
      const wallNs = (performance.now() - t0) * 1e6;
      const self1 = threadTimes();
      const all1 = processThreads();
      if (!self0 || !self1 || wallNs <= 0) return undefined;
      const run = self1.run - self0.run;
      let total = 0;
      for (const [tid, ns] of all1) total += ns - (all0.get(tid) ?? 0);
      return { cpuShare: run / wallNs, waitShare: (self1.wait - self0.wait) / wallNs, othersShare: (total - run) / wallNs, cpuRate: run > 0 ? count / (run / 1e9) : 0 };
    },
  };
}
