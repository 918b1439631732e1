/**
 * The values of rxwire/processes that stand alone: a process's address, how
 * a process ends, the signals that tell of it, timers and monitors.
 * Re-exported by processes/types.ts, the one place to import them from.
 */
import type { ErrorData } from '../core/errors';

/** A process's address, node-wide: the value an Avro `ProcessRef` field carries (see processes/ref.ts). */
export interface ProcessRef {
  /** The id of the node that hosts the process. */
  readonly node: string;
  /** The index of the thread that hosts it: 0..threads-1 for workers, `threads` for the node's own (calling) thread. */
  readonly thread: number;
  /** Its number, unique within the node for the node's lifetime (never reused). */
  readonly id: number;
  /**
   * The node's incarnation: a number the node drew at random (1..2^31 − 1)
   * when it started. A node restarted under the same `id` draws another, so
   * a ref kept from before the restart names no process of the new one (it
   * behaves as a process that has ended: `noproc`), though its `thread` and
   * `id` may be those of a new process.
   */
  readonly incarnation: number;
}

/** Why a process ended. */
export type ExitReason =
  /** Its entry returned, its Promise resolved or its Observable completed. */
  | 'normal'
  /** Its entry threw, its Promise rejected or its Observable errored (see `error`). */
  | 'failed'
  /** Someone called `kill()` on it. */
  | 'killed'
  /** A process linked to it failed, and it did not trap exits. */
  | 'linked'
  /** The thread that hosted it died (terminated, or crashed). */
  | 'thread'
  /** It never ran: its entry could not be loaded or its capture not decoded (see `error`). */
  | 'noproc'
  /** The node closed. */
  | 'shutdown'
  /** The node that hosted it dropped off: its link closed, or it was silent past the heartbeat (as Erlang's `noconnection`). */
  | 'noconnection';

/** How a process ended: the reason and, for `failed`, `noproc` and `linked`, the error as data. */
export interface Exit {
  readonly reason: ExitReason;
  /** The error that ended it (for `linked`: the error of the process whose failure spread), as data. */
  readonly error: ErrorData | null;
}

/**
 * A linked process died abnormally and this process traps exits: the
 * signal it receives instead of dying (see `SpawnOptions.trapExits`).
 */
export interface LinkDied extends Exit {
  readonly type: 'LinkDied';
  /** The tag given to the link (`link(tag)`, `SpawnOptions.linkTag`); 0 by default. */
  readonly tag: number;
  /** The linked process that died. */
  readonly process: ProcessRef;
}

/** A monitored process ended (normally or not): what its monitor delivers. */
export interface ProcessDied extends Exit {
  readonly type: 'ProcessDied';
  /** The id of the monitor (`Monitor.id`). */
  readonly monitor: number;
  /** The process that ended. */
  readonly process: ProcessRef;
}

/** What arrives on `Mailbox.signals`. */
export type Signal = LinkDied | ProcessDied;

/** A timer set by `sendAfter`. */
export interface Timer {
  /** Cancels the send; true when it had not happened yet (it then never happens). */
  cancel(): boolean;
}

/** A monitor set by `monitor()`: delivers `ProcessDied` once, when the process ends. */
export interface Monitor {
  /** Its id, as `ProcessDied.monitor` carries it. */
  readonly id: number;
  /**
   * Resolves with the `ProcessDied` (also delivered to the owner's
   * `signals`, when the owner is a process); never rejects. A monitor on a
   * process that has already ended resolves with `reason: 'noproc'` unless
   * the exit is still known.
   */
  readonly died: Promise<ProcessDied>;
  /** Removes the monitor: `died` never settles if it had not yet (and holds nothing). */
  cancel(): void;
}
