/**
 * The one batching rule every transport uses for what it writes: what is
 * written in one turn of the event loop goes out together at the end of that
 * turn (`setImmediate`, not a microtask: a loop of `await send()` would then
 * go out one value at a time), and at once when it reaches `thresholdBytes`.
 * Port posts one transferred buffer per batch, shm publishes its ring
 * cursor, TCP hands its waiting buffers to the socket in one corked writev.
 */
import { isMainThread } from 'node:worker_threads';
import { microtask, rethrowLater } from './microtask';

/** The batchers with a send queued, kept only in a thread that called {@link sendQueuedAtCrash}. */
let queued: Set<Batcher> | undefined;

/**
 * In this thread, an uncaught exception or `process.exit()` first sends what
 * every batcher holds (through `uncaughtExceptionMonitor` and `'exit'`,
 * which change nothing else): values written in the turn a thread crashed
 * or exited in reach the peer instead of dying unpublished with the thread
 * (a shared ring's are published; a socket's or a port's may still be cut
 * off by the exit). rxwire's worker threads call it (threads/worker-host.ts),
 * and so does the first batcher made in any other worker thread.
 */
export function sendQueuedAtCrash(): void {
  if (queued) return;
  queued = new Set();
  const sendAll = () => {
    for (const batcher of queued!) {
      try {
        batcher.flush();
      } catch {
        // a link that cannot send now has nothing to save
      }
    }
  };
  process.on('uncaughtExceptionMonitor', sendAll);
  process.on('exit', sendAll);
}

export class Batcher {
  private scheduled: ReturnType<typeof setImmediate> | undefined;
  /** An early send is queued as a microtask. */
  private earlyQueued = false;
  /** A turn began since the last send (or none yet): the next write may go early. */
  private quiet = true;

  /**
   * @param send takes what waits and sends it (it may find nothing to send);
   *   `atTurnEnd` is true when the turn ended (nothing of the writer's is on
   *   the stack then: a transport may wake writers that waited for room),
   *   false when the threshold, an early send or a `flush()` sent it
   * @param thresholdBytes bytes waiting past which `wrote` sends at once
   * @param early send the first write of a turn when the microtasks queued
   *   before it have run, not at the turn's end: a lone value (an echo, a
   *   reply, a request) then goes out as soon as the code that wrote it
   *   returns, without waiting for a whole turn of the event loop and without
   *   scheduling one. The writes after it in the same turn wait for the
   *   turn's end (or the threshold) as without, so a burst still goes out in
   *   batches, at the cost of one small extra send per turn. A turn begins
   *   after each turn-end send and whenever the transport calls `newTurn()`
   *   (port: a batch arrived). Port uses it: there a send is a `postMessage`,
   *   and waiting for the turn's end is latency the peer sees.
   */
  constructor(
    private readonly send: (atTurnEnd: boolean) => void,
    private readonly thresholdBytes: number,
    private readonly early = false,
  ) {
    // Any worker thread that writes with rxwire, however it was started (threads/worker-host.ts, or a plain
    // `startWorker` / `new Worker` whose module uses rxwire), publishes what it wrote before a crash or an exit.
    if (!isMainThread) sendQueuedAtCrash();
  }

  /** Something was written: `waiting` bytes wait in all. */
  wrote(waiting: number): void {
    if (waiting >= this.thresholdBytes) return this.flush();
    if (this.scheduled || this.earlyQueued) return;
    if (this.early && this.quiet) {
      this.quiet = false;
      this.earlyQueued = true;
      microtask(this.onEarly);
    } else {
      this.scheduled = setImmediate(this.onTurnEnd);
    }
    queued?.add(this);
  }

  /** A new turn of the event loop began (the transport read something): the next write may go early. */
  newTurn(): void {
    this.quiet = true;
  }

  /** Sends what waits now. */
  flush(): void {
    this.cancel();
    this.send(false);
  }

  /** Forgets the end-of-turn send (the link is closed). */
  cancel(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.earlyQueued = false;
    queued?.delete(this);
  }

  private readonly onTurnEnd = (): void => {
    this.scheduled = undefined;
    this.quiet = true;
    queued?.delete(this);
    this.send(true);
  };

  private readonly onEarly = (): void => {
    if (!this.earlyQueued) return; // flushed or cancelled meanwhile
    this.earlyQueued = false;
    queued?.delete(this);
    try {
      this.send(false);
    } catch (err) {
      rethrowLater(err);
    }
  };
}
