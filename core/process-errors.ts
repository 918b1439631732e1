/** The errors of lightweight processes (rxwire/processes): processes, the registry, mailboxes, entries, nodes, typed protocols and supervisors. Re-exported by core/errors.ts. */
import { ErrorCode, RxwireError } from './error-base';

/** The process ended before it could do what was asked (reply to a request, be registered); `reason` says how it ended. */
export class ProcessExitedError extends RxwireError {
  readonly code = ErrorCode.PROCESS_EXITED;
  constructor(
    message: string,
    /** How the process ended (an `ExitReason`: 'normal', 'failed', 'killed', 'linked', 'thread', 'noproc', 'shutdown'). */
    readonly reason: string,
  ) {
    super(message);
  }
}

/** This process was killed (by `kill()`, or by a linked process's failure): what its waiting `receive` rejects with. */
export class ProcessKilledError extends RxwireError {
  readonly code = ErrorCode.PROCESS_KILLED;
}

/** `register(name)` found the name held by a live process. */
export class NameTakenError extends RxwireError {
  readonly code = ErrorCode.NAME_TAKEN;
  constructor(readonly processName: string) {
    super(`the name ${JSON.stringify(processName)} is taken by a live process`);
  }
}

/** A send found the mailbox (or the link to its thread) at its bound: nothing was sent. */
export class MailboxFullError extends RxwireError {
  readonly code = ErrorCode.MAILBOX_FULL;
}

/** A process entry that cannot be run: its module does not load, or does not export it under its name. */
export class EntryError extends RxwireError {
  readonly code = ErrorCode.ENTRY;
}

/** The process node is closed (or not started): nothing can be spawned or sent. */
export class NodeClosedError extends RxwireError {
  readonly code = ErrorCode.NODE_CLOSED;
}

/* Typed protocols and supervisors (rxwire/processes) */

/**
 * A typed protocol used against its declaration: a state used twice (each
 * state may be used once: its `send`, `receive`, `choose`, `offer` or
 * `close` gives the next one), a message from the peer that is not the one
 * the protocol expects next, or a peer speaking another protocol.
 */
export class ProtocolError extends RxwireError {
  readonly code = ErrorCode.PROTOCOL;
}

/**
 * The other side of a typed protocol left before `End`: its process ended
 * (normally or not) or it dropped the session. `reason` says which (an
 * `ExitReason` of its process, or 'dropped').
 */
export class ProtocolDroppedError extends RxwireError {
  readonly code = ErrorCode.PROTOCOL_DROPPED;
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

/** A supervisor restarted more than `maxRestarts` children within `period` ms, so it failed (and ended its children). */
export class RestartLimitError extends RxwireError {
  readonly code = ErrorCode.RESTART_LIMIT;
  /**
   * @param last how the child whose end went over the limit ended, said in the message (its name and reason, and
   *   its error's message when it failed): a limit hit by a child that cannot start (its name taken, say) names why
   */
  constructor(
    readonly maxRestarts: number,
    readonly period: number,
    last?: string,
  ) {
    super(`more than ${maxRestarts} restarts within ${period} ms${last ? `; the last: ${last}` : ''}`);
  }
}

/* Remote processes (nodes of a cluster) */

/**
 * A call named a node this node has no link to: it never connected, its
 * link dropped, or the call was made from a worker thread (calls to another
 * node are made from the node's own thread: see README, "Remote processes").
 */
export class UnknownNodeError extends RxwireError {
  readonly code = ErrorCode.UNKNOWN_NODE;
  constructor(
    /** The node named. */
    readonly nodeName: string,
    message = `no link to node ${JSON.stringify(nodeName)}`,
  ) {
    super(message);
  }
}

/**
 * Another node cannot be reached: the connection was refused or its
 * handshake failed (`connect`), or the node dropped off (its socket closed,
 * or it was silent past the heartbeat) while a call to it was in flight.
 */
export class NodeUnreachableError extends RxwireError {
  readonly code = ErrorCode.NODE_UNREACHABLE;
  constructor(
    /** The node (its id, or its address when the id is not known yet). */
    readonly nodeName: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
