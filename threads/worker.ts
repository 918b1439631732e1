/**
 * Starting worker threads on a user's module, compiled (`.js`) or, when the
 * parent runs TypeScript (ts-node, ts-jest), straight from `.ts`.
 * Everything in rxwire that starts threads goes through here: the runtime
 * (`initialize`), `WorkerPool`, `stage` and `pipeline` start their workers
 * with `startWorkers` (threads/start.ts), over {@link HostedWorker}.
 */
import { MessageChannel, Worker, type MessagePort, type WorkerOptions } from 'node:worker_threads';
import type { TransferListItem } from '../core/transfer';
import { extname, join } from 'node:path';
import { asWorkerError, exitedText, RemoteError, WorkerError, type ErrorData } from '../core/errors';
import { isTypeScript, modulePath, type ModuleRef } from './load-module';
import { typeScriptBootstrap } from './ts-bootstrap';
import type { HostCommand, HostData, HostReport } from './worker-types';

/** Options of {@link startWorker}: Node's own, less `eval`. */
export type StartWorkerOptions = Omit<WorkerOptions, 'eval'>;

/**
 * Starts a worker thread on `module` (a path or a `file:` URL). A `.ts`
 * module is compiled by ts-node in transpile-only mode (ts-node must be
 * installed, as it is for development), each file once for every worker,
 * through a cache on disk (threads/ts-bootstrap.ts); a `.js`, `.cjs` or
 * `.mjs` module loads as Node loads it.
 *
 * @param module the worker's module
 * @param options Node's `WorkerOptions` (`workerData`, `transferList`, ...)
 * @returns the running Worker
 */
export function startWorker(module: ModuleRef, options: StartWorkerOptions = {}): Worker {
  return launch(modulePath(module), false, options);
}

/** Starts `file`; with TypeScript support when it, or a module it will load (`typescript`), is TypeScript. */
function launch(file: string, typescript: boolean, options: StartWorkerOptions): Worker {
  if (!typescript && !isTypeScript(file)) return new Worker(file, options);
  return new Worker(typeScriptBootstrap(file), { ...options, eval: true });
}

/** The worker-side entry, in the same form (`.ts` or `.js`) as this file. */
const HOST = join(__dirname, `worker-host${extname(__filename)}`);

/** A runner module in `dir` (`runtime/runner`, `pool/worker`, ...), in the same form (`.ts`/`.js`) as this file. */
export function runnerPath(dir: string, name: string): string {
  return join(dir, `${name}${extname(__filename)}`);
}

/** Options of {@link HostedWorker}. */
export interface HostOptions {
  /** Absolute path of the runner (see `runnerPath`). */
  runner: string;
  /** The user's module. */
  module: ModuleRef;
  /** This worker's index, named in its `WorkerError`. */
  index: number;
  /** The runner's setup (ends, options): structured-cloned into the worker. */
  setup?: unknown;
  /** What `setup` holds that must be transferred (ports of transport ends). */
  transferList?: TransferListItem[];
  /** Node's resource limits, env, etc. */
  worker?: Omit<StartWorkerOptions, 'workerData' | 'transferList'>;
}

/**
 * One worker thread running a user's module under a rxwire runner, as seen
 * from the thread that started it.
 *
 * Lifecycle: the worker reports its result (or error) once; it then waits
 * for `release()` (so it stays alive, and its rings stay readable, until its
 * siblings are done with them), closes what the runner opened and exits. A
 * throw in the user's code, an uncaught error or an exit before the result
 * fails `result` with `WorkerError` naming the worker's index and carrying
 * its message and stack. `terminate()` ends it at once; no path leaves the
 * thread running once `exited` has resolved.
 */
export class HostedWorker {
  readonly index: number;
  readonly worker: Worker;
  /** The user's result; rejects with `WorkerError`. */
  readonly result: Promise<unknown>;
  /** Resolves with the exit code when the thread has ended. */
  readonly exited: Promise<number>;
  private settled = false;
  private released = false;
  private killed = false;
  private readonly fail: (err: WorkerError) => void;
  /** This side of the worker's reports and commands (threads/worker-types.ts); `parentPort` is left to the user. */
  private readonly control: MessagePort;

  constructor(options: HostOptions) {
    const { runner, module, index, setup, transferList = [], worker = {} } = options;
    this.index = index;
    const file = modulePath(module);
    const { port1, port2 } = new MessageChannel();
    this.control = port1;
    const workerData: { rxwire: HostData } = { rxwire: { runner, module: file, index, setup, control: port2 } };
    try {
      this.worker = launch(HOST, isTypeScript(file), { ...worker, workerData, transferList: [...transferList, port2] });
    } catch (err) {
      port1.close();
      throw err;
    }
    let resolveResult!: (value: unknown) => void;
    let rejectResult!: (err: WorkerError) => void;
    this.result = new Promise((resolve, reject) => {
      resolveResult = resolve;
      rejectResult = reject;
    });
    // A failure nobody awaits yet must not become an unhandled rejection here;
    // whoever reads `result` still sees it.
    this.result.catch(() => {});
    const fail = (this.fail = (err: WorkerError) => {
      if (this.settled) return;
      this.settled = true;
      rejectResult(err);
    });
    port1.on('message', (report: HostReport) => {
      if (this.settled) return;
      if (report.type === 'result') {
        this.settled = true;
        resolveResult(report.value);
      } else {
        fail(workerError(report.error, index, report.forwarded));
      }
    });
    this.worker.on('error', (err) => fail(asWorkerError(err, index)));
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        port1.close();
        if (!this.killed) fail(new WorkerError(code === 0 ? exitedText(0) : `${exitedText(code)} before it finished`, index, undefined));
        resolve(code);
      });
    });
  }

  /** Lets a worker that has reported its result close its ends and exit. */
  release(): void {
    if (this.released) return;
    this.released = true;
    const command: HostCommand = { type: 'release' };
    this.control.postMessage(command);
  }

  /**
   * Releases the worker and waits for it to exit; terminates it if it is still
   * running after `graceMs` (a timer or handle of the user's keeps it alive).
   */
  async close(graceMs = 1000): Promise<void> {
    this.release();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), graceMs);
    });
    const outcome = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (outcome === 'late') await this.terminate();
  }

  /** Ends the thread now. Its `result`, if still pending, fails with `WorkerError`. */
  async terminate(): Promise<void> {
    this.fail(new WorkerError('the worker was terminated before it finished', this.index, undefined));
    this.killed = true;
    await this.worker.terminate();
  }
}

/** The worker's reported error; one it only passed on from a peer has that peer's error, as a RemoteError, for `cause`. */
function workerError(data: ErrorData, index: number, forwarded: boolean): WorkerError {
  const cause = forwarded ? new RemoteError(data) : undefined;
  return new WorkerError(data.message, index, data.stack ?? undefined, { name: data.name, code: data.code, cause });
}
