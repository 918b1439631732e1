/**
 * The one worker start-up of rxwire: `stage`, `pipeline`, `WorkerPool` and
 * `initialize` all start their threads with {@link startWorkers} and end them
 * through the {@link Crew} it returns, so there is one teardown and one
 * mapping of a worker's death to `WorkerError`.
 *
 * A start has three steps: start one {@link HostedWorker} per plan (its
 * setup structured-cloned, its ends' ports transferred), open this thread's
 * ends to them (`connect`), and watch every worker's result. If any step
 * throws, nothing is left behind: the workers started so far are
 * terminated, the wires opened so far are closed, every port made for the
 * start is closed (one that went to a worker is detached here, and closing
 * it does nothing), and the error is thrown to the caller.
 */
import type { MessagePort } from 'node:worker_threads';
import type { TransferListItem } from '../core/transfer';
import { asWorkerError, RemoteError, type WorkerError } from '../core/errors';
import type { ModuleRef } from './load-module';
import { HostedWorker, type HostOptions } from './worker';
import { noop } from '../core/ending';

/** How long a consequential failure (a closed link) waits for its root cause. */
const ROOT_CAUSE_GRACE_MS = 1000;

/** One worker to start. */
export interface WorkerPlan {
  /** The user's module the worker runs. */
  module: ModuleRef;
  /** The worker's index, named in its `WorkerError` (a global index in a cluster). */
  index: number;
  /** The runner's setup (ends, options): structured-cloned into the worker. */
  setup: unknown;
  /** What `setup` holds that must be transferred (the ports of its ends). */
  transferList: TransferListItem[];
}

/** Something this thread opened to its workers and must close at the end (a WireSubject). */
export interface Closable {
  close(): void;
}

/** Options of {@link startWorkers}. */
export interface StartOptions<W> {
  /** Absolute path of the runner every worker runs (see `runnerPath`). */
  runner: string;
  /** One plan per worker, in the order of `Crew.hosts`. */
  plans: readonly WorkerPlan[];
  /**
   * Every port made for this start (both liveness ports of each shm pair,
   * the ports of a mesh): closed if the start fails, so that none keeps a
   * thread or a peer waiting. Default none.
   */
  ports?: readonly MessagePort[];
  /**
   * Opens this thread's ends to the started workers and returns them as the
   * crew's `wires`. Each wire passed through `own` is closed by the crew's
   * teardown (and at once, if the start fails). Default: no wires.
   */
  connect?: (hosts: readonly HostedWorker[], own: <C extends Closable>(wire: C) => C) => W;
  /**
   * Called once, with the first failure of any worker as a `WorkerError`
   * naming it: its user's code threw, its thread died, or the caller reported
   * the failure of one of its wires through `Crew.fail`. Not called for a
   * failure after `end` or `terminate`.
   */
  onFailure?: (err: WorkerError) => void;
  /** Node's resource limits, env, etc., for every worker. */
  worker?: HostOptions['worker'];
  /**
   * What names the user's part of each setup (`'initialize: args'`), when a
   * setup that does not survive a structured clone can only be the user's
   * fault: its `DataCloneError` is then thrown as a `TypeError` naming it.
   * Default: thrown as it is.
   */
  cloned?: string;
}

/** The workers of one start, their wires, and their one teardown. */
export interface Crew<W> {
  /** The workers, in plan order. */
  readonly hosts: readonly HostedWorker[];
  /** What `connect` returned. */
  readonly wires: W;
  /**
   * Every worker's result, in plan order; rejects with the first worker's
   * `WorkerError`. Settles however the crew ends (a terminated worker's
   * result rejects).
   */
  readonly results: Promise<unknown[]>;
  /**
   * Reports a failure that belongs to worker `index` (the error of a wire to
   * it: a dead thread's `TransportClosedError`, its `RemoteError`): mapped
   * to its `WorkerError` and passed to `onFailure`, once for the whole crew.
   * @returns the mapped `WorkerError`
   */
  fail(err: unknown, index: number): WorkerError;
  /** Closes every owned wire (once). */
  closeWires(): void;
  /**
   * The one teardown, once: closes the wires, then lets every worker finish
   * and exit (`graceful`: released, terminated if still running after a
   * grace period) or terminates every worker now. Resolves when all have
   * exited.
   */
  end(graceful: boolean): Promise<void>;
  /** Terminates every worker now (without closing the wires); resolves when all have exited. */
  terminate(): Promise<void>;
}

/**
 * Starts one hosted worker per plan and opens this thread's ends to them.
 *
 * @returns the running crew
 * @throws what starting a worker (`DataCloneError` for a setup that does not
 *   clone; see `cloned`) or `connect` threw, after tearing down everything it
 *   had started
 */
export function startWorkers<W = undefined>(options: StartOptions<W>): Crew<W> {
  const { runner, plans, ports = [], connect, onFailure, worker, cloned } = options;
  const hosts: HostedWorker[] = [];
  const owned: Closable[] = [];
  const own = <C extends Closable>(wire: C): C => {
    owned.push(wire);
    return wire;
  };
  let wires: W;
  try {
    for (const { module, index, setup, transferList } of plans) {
      hosts.push(new HostedWorker({ runner, module, index, setup, transferList, worker }));
    }
    wires = connect ? connect(hosts, own) : (undefined as W);
  } catch (err) {
    for (const wire of owned) wire.close();
    for (const host of hosts) void host.terminate();
    for (const port of ports) port.close();
    if (cloned === undefined || (err as Error | undefined)?.name !== 'DataCloneError') throw err;
    throw new TypeError(`${cloned} must survive a structured clone (${(err as Error).message})`, { cause: err });
  }
  return new Started(hosts, wires, owned, onFailure);
}

class Started<W> implements Crew<W> {
  readonly results: Promise<unknown[]>;
  private failed = false;
  private over = false;
  /** A failure caused by another's (a closed link), held while the root cause may still come. */
  private consequence: WorkerError | undefined;
  private graceTimer: ReturnType<typeof setTimeout> | undefined;
  private rejectResults!: (err: WorkerError) => void;
  private wiresClosed = false;

  constructor(
    readonly hosts: readonly HostedWorker[],
    readonly wires: W,
    private readonly owned: Closable[],
    private readonly onFailure: ((err: WorkerError) => void) | undefined,
  ) {
    this.results = new Promise<unknown[]>((resolve, reject) => {
      this.rejectResults = reject;
      const values: unknown[] = new Array(hosts.length);
      let left = hosts.length;
      if (left === 0) resolve(values);
      hosts.forEach((host, at) =>
        host.result.then(
          (value) => {
            values[at] = value;
            if (--left === 0) resolve(values);
          },
          (err: unknown) => this.fail(err, host.index),
        ),
      );
    });
    this.results.catch(noop); // each failure is reported through onFailure; whoever awaits still sees it
  }

  /**
   * The crew's failure is its first root cause. A worker that failed only
   * because a peer's link closed under it (`TransportClosedError`), or with
   * a peer's error passed on to it (a RemoteError: exchange tells every peer)
   * is a consequence: the peer's own failure (its throw, its exit) usually
   * follows within moments, and wins if it comes within ROOT_CAUSE_GRACE_MS.
   */
  fail(err: unknown, index: number): WorkerError {
    const mapped = asWorkerError(err, index);
    if (this.over) this.rejectResults(mapped); // after the end: no report, but whoever awaits results learns it
    if (this.failed || this.over) return mapped;
    if (mapped.workerName !== 'TransportClosedError' && !(mapped.cause instanceof RemoteError)) {
      this.report(mapped);
    } else if (!this.consequence) {
      this.consequence = mapped;
      this.graceTimer = setTimeout(() => this.report(mapped), ROOT_CAUSE_GRACE_MS);
    }
    return mapped;
  }

  private report(failure: WorkerError): void {
    if (this.failed) return;
    this.failed = true;
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    this.onFailure?.(failure);
    this.rejectResults(failure);
  }

  closeWires(): void {
    if (this.wiresClosed) return;
    this.wiresClosed = true;
    for (const wire of this.owned) wire.close();
  }

  async end(graceful: boolean): Promise<void> {
    if (this.over) return;
    this.over = true;
    if (this.graceTimer) clearTimeout(this.graceTimer);
    if (this.consequence && !this.failed) this.rejectResults(this.consequence);
    this.closeWires();
    await Promise.all(this.hosts.map((host) => (graceful ? host.close() : host.terminate())));
  }

  async terminate(): Promise<void> {
    await Promise.all(this.hosts.map(async (host) => {
      await host.terminate();
      await host.exited;
    }));
  }
}

