/**
 * A watchdog for pumps asleep without a timeout (./wait.ts, `sleep`): the
 * shm channels' pumps sleep until the peer's notify, because a timeout
 * costs a delayed task per sleep (bench/README.md, "Tails"). The ring's
 * protocol never loses a notify, as far as its tests and docs/PROTOCOL.md
 * can show; but were one lost, a stream would hang for good instead of
 * being late. So each thread keeps one interval (unref'd: it never keeps a
 * thread alive) while any pump of it sleeps, and a pump found asleep at two
 * ticks in a row of the same sleep with a step ready to progress is woken,
 * counted, and reported once per thread as a process warning
 * (`RXWIRE_LOST_WAKEUP`): a bug to report, not a state to rely on.
 *
 * Two ticks, not one: a notify that came while this thread's event loop was
 * busy resolves the sleep in a task not yet run at the first tick. The fast
 * path pays a Map store when a pump falls asleep and a delete when it wakes.
 */

/** What the watchdog needs of a pump. */
export interface Sleeper {
  /** Asleep, running, and a step would progress now. */
  missedWakeUp(): boolean;
  /** Ends the sleep (a notify on the slot it waits on). */
  wake(): void;
}

/** Between two looks at the sleepers: a lost wake-up is mended within two to three of these. */
export const WATCH_MS = 100;

/** The sleepers, each with whether the last tick found it ready and still asleep. */
const sleepers = new Map<Sleeper, boolean>();
let timer: ReturnType<typeof setInterval> | undefined;
let rescued = 0;
let warned = false;

/** A pump fell asleep with no timeout. */
export function watchSleep(sleeper: Sleeper): void {
  sleepers.set(sleeper, false);
  if (timer === undefined) {
    timer = setInterval(tick, WATCH_MS);
    timer.unref();
  }
}

/** Its sleep ended. */
export function unwatchSleep(sleeper: Sleeper): void {
  sleepers.delete(sleeper);
}

/** Sleeps this thread's watchdog has ended because their wake-up never came (for tests and diagnosis). */
export function lostWakeUps(): number {
  return rescued;
}

function tick(): void {
  if (sleepers.size === 0) {
    clearInterval(timer);
    timer = undefined;
    return;
  }
  for (const [sleeper, suspect] of sleepers) {
    const missed = sleeper.missedWakeUp();
    if (missed && suspect) {
      sleepers.set(sleeper, false);
      rescued++;
      if (!warned) {
        warned = true;
        process.emitWarning(
          `a shared-memory ring's reader or writer slept for over ${WATCH_MS} ms with work ready and no wake-up; ` +
            'woken by the watchdog. Please report this to rxwire with what the program was doing.',
          { code: 'RXWIRE_LOST_WAKEUP' },
        );
      }
      sleeper.wake();
    } else if (missed !== suspect) {
      sleepers.set(sleeper, missed);
    }
  }
}
