/**
 * The messages between a hosted worker and the thread that started it, shared
 * by both sides (threads/worker.ts on the parent, threads/worker-host.ts in the worker).
 * Values travel by structured clone over a port of their own (`control`),
 * not `parentPort`: that is the user's (a module may post progress on it, or
 * open a WireSubject over it), and nothing it carries is taken for a report.
 * Nothing here is on a data path.
 */
import type { MessagePort } from 'node:worker_threads';
import type { ErrorData } from '../core/errors';

/** What a hosted worker finds under `workerData.rxwire`. */
export interface HostData {
  /**
   * Absolute path of the runner module: the part of rxwire (runtime, pool,
   * stage) that sets up the worker's side and calls the user's module. It
   * exports `run(userExport, setup, index)`.
   */
  runner: string;
  /** The user's module: a path or a `file:` URL string. */
  module: string;
  /** This worker's index among its siblings. */
  index: number;
  /** The runner's own setup (ends, options), structured-cloned. */
  setup: unknown;
  /** The worker's end of the channel of reports and commands (transferred). */
  control: MessagePort;
}

/** Worker to parent. */
export type HostReport =
  | { type: 'result'; value: unknown }
  /** `forwarded`: the error is a peer's, passed on (a RemoteError): this worker failed because another did. */
  | { type: 'error'; error: ErrorData; forwarded: boolean };

/** Parent to worker: finish and exit (the parent has every sibling's result). */
export type HostCommand = { type: 'release' };

/**
 * The shape of a runner module. `run` resolves with the worker's result; its
 * `release` is called when the parent lets the worker go, and must close what
 * the runner opened so the thread can exit by itself.
 */
export interface Runner {
  run(userExport: unknown, setup: unknown, index: number): Promise<{ value: unknown; release(): void }>;
}
