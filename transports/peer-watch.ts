/**
 * Watches the peer of a link: the transport says when its link closed, and
 * the watch decides when the peer counts as gone. With the worker on the
 * other side known, a throw or exit there reaches this side as `WorkerError`
 * (its message and stack) rather than a bare "transport closed". Transports
 * share it.
 */
import type { Worker } from 'node:worker_threads';
import { asWorkerError, exitedText, TransportClosedError, WorkerError } from '../core/errors';

/**
 * How long to wait, after a link closed, for the worker's own error and exit.
 * The exit event follows the port's close by a few ms on a quiet machine but
 * by over a second on a loaded 2-core one (seen in CI-like runs: the pool's
 * "exits with code 3" case got a bare "the other end is gone"). Only a worker
 * that closes its end on purpose and lives on waits this long, so it is
 * generous.
 */
export const EXIT_GRACE_MS = 5000;

export class PeerWatch {
  private workerFailure: WorkerError | undefined;
  private exited = false;
  private closed = false;
  private reported = false;
  private grace: ReturnType<typeof setTimeout> | undefined;
  private readonly hasWorker: boolean;
  private readonly dispose: () => void = () => {};

  /**
   * @param worker the worker on the other side, if known
   * @param gone called once, when the peer is gone (see `failure` for why)
   */
  constructor(
    worker: Worker | undefined,
    private readonly gone: () => void,
  ) {
    this.hasWorker = worker !== undefined;
    if (!worker) return;
    const onError = (err: unknown) => {
      this.workerFailure ??= asWorkerError(err, undefined); // a worker's `throw null` comes here as null
    };
    const onExit = (code: number) => {
      this.exited = true;
      worker.off('error', onError);
      // An exit with code 0 still fails a link that was not finished: the
      // worker is gone (terminate() before it ran also exits with 0).
      this.workerFailure ??= new WorkerError(exitedText(code), undefined, undefined);
      if (this.closed) this.report();
    };
    worker.on('error', onError);
    worker.once('exit', onExit);
    this.dispose = () => {
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
  }

  /** Why the peer is gone: the worker's failure if known, else the link closing. */
  get failure(): Error {
    return this.workerFailure ?? new TransportClosedError('the other end is gone');
  }

  /**
   * The link closed. An unfinished link whose worker has not exited yet waits
   * up to EXIT_GRACE_MS for the exit, which tends to arrive a moment after
   * the link closes, so the user sees why.
   */
  linkClosed(unfinished: boolean): void {
    this.closed = true;
    if (unfinished && this.hasWorker && !this.exited) {
      this.grace ??= setTimeout(() => this.report(), EXIT_GRACE_MS);
      return;
    }
    this.report();
  }

  /** Stops watching (the link is finished). */
  unwatch(): void {
    if (this.grace) clearTimeout(this.grace);
    this.grace = undefined;
    this.dispose();
  }

  private report(): void {
    if (this.grace) clearTimeout(this.grace);
    this.grace = undefined;
    if (this.reported) return;
    this.reported = true;
    this.gone();
  }
}
