/**
 * A CPU hog for the "under load" cases: a child process that spins on a
 * core for as long as the measured repetition runs, so the tail is measured
 * with the machine busy (on 2 cores: the other side of a round trip competes
 * with it for a core), not only on a quiet machine.
 */
import { spawn } from 'node:child_process';
import type { Runner, Sample } from './harness';

/**
 * The hog's program: it spins, and every 2^24 turns (a few ms) looks whether
 * its parent is still the one that started it, and exits if not. A busy loop
 * never sees the IPC channel close: a bench killed mid-case (SIGTERM, no
 * `finally`) left a hog spinning on a core for good (seen in session 23).
 */
const HOG = 'process.send("spinning"); const parent = process.ppid; for (let i = 1; ; i++) if ((i & 0xffffff) === 0 && process.ppid !== parent) process.exit(0);';

/** `runner`, with a spinning child process alive during each of its repetitions. */
export function underHog(runner: Runner, name = `${runner.name}, CPU hog`): Runner {
  return {
    name,
    role: runner.role,
    async run(): Promise<Sample> {
      const hog = spawn(process.execPath, ['-e', HOG], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
      try {
        await new Promise<void>((resolve, reject) => {
          hog.once('message', () => resolve());
          hog.once('error', reject);
          hog.once('exit', (code) => reject(new Error(`the CPU hog exited (${code}) before spinning`)));
        });
        return await runner.run();
      } finally {
        const gone = new Promise((resolve) => hog.once('exit', resolve));
        hog.kill('SIGKILL');
        await gone;
      }
    },
  };
}
