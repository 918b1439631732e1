/**
 * Watches the worker thread on the other side of a link, so a throw or an
 * exit there reaches this side as `WorkerError` (its message and stack)
 * rather than a bare "transport closed". Transports share it.
 */
import type { Worker } from 'node:worker_threads';
import { WorkerError } from './errors';

/** How long a transport waits, after its link closed, for the worker's own error and exit. */
export const EXIT_GRACE_MS = 1000;

export class WorkerWatch {
  /** Why the worker is gone, once it is. */
  failure: WorkerError | undefined;
  exited = false;
  private readonly dispose: () => void;

  /** @param onExit called once the worker has exited, whatever the code */
  constructor(worker: Worker, onExit: () => void) {
    const onError = (err: Error) => {
      this.failure ??= new WorkerError(err.message, undefined, err.stack, { cause: err });
    };
    const onExitEvent = (code: number) => {
      this.exited = true;
      worker.off('error', onError);
      // An exit with code 0 still fails a link that was not finished: the
      // worker is gone (terminate() before it ran also exits with 0).
      this.failure ??= new WorkerError(`the worker exited with code ${code}`, undefined, undefined);
      onExit();
    };
    worker.on('error', onError);
    worker.once('exit', onExitEvent);
    this.dispose = () => {
      worker.off('error', onError);
      worker.off('exit', onExitEvent);
    };
  }

  unwatch(): void {
    this.dispose();
  }
}
