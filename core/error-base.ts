/**
 * The root of rxwire's errors: the stable codes and the base class. The
 * error classes themselves are in core/errors.ts (transport, codec, worker,
 * NATS) and core/process-errors.ts (lightweight processes); both import this,
 * and core/errors.ts re-exports everything, so callers import from there.
 */

/** Stable codes, one per error class. */
export const ErrorCode = {
  ENCODE: 'ERR_RXWIRE_ENCODE',
  DECODE: 'ERR_RXWIRE_DECODE',
  FRAME: 'ERR_RXWIRE_FRAME',
  SCHEMA_MISMATCH: 'ERR_RXWIRE_SCHEMA_MISMATCH',
  REMOTE: 'ERR_RXWIRE_REMOTE',
  QUEUE_FULL: 'ERR_RXWIRE_QUEUE_FULL',
  TRANSPORT_CLOSED: 'ERR_RXWIRE_TRANSPORT_CLOSED',
  TIMEOUT: 'ERR_RXWIRE_TIMEOUT',
  WORKER: 'ERR_RXWIRE_WORKER',
  AUTH: 'ERR_RXWIRE_AUTH',
  PROCESS_EXITED: 'ERR_RXWIRE_PROCESS_EXITED',
  PROCESS_KILLED: 'ERR_RXWIRE_PROCESS_KILLED',
  NAME_TAKEN: 'ERR_RXWIRE_NAME_TAKEN',
  MAILBOX_FULL: 'ERR_RXWIRE_MAILBOX_FULL',
  ENTRY: 'ERR_RXWIRE_ENTRY',
  NODE_CLOSED: 'ERR_RXWIRE_NODE_CLOSED',
  PROTOCOL: 'ERR_RXWIRE_PROTOCOL',
  PROTOCOL_DROPPED: 'ERR_RXWIRE_PROTOCOL_DROPPED',
  RESTART_LIMIT: 'ERR_RXWIRE_RESTART_LIMIT',
  GAP: 'ERR_RXWIRE_GAP',
  CHANNEL_TAKEN: 'ERR_RXWIRE_CHANNEL_TAKEN',
  NO_RESPONDERS: 'ERR_RXWIRE_NO_RESPONDERS',
  CLUSTER: 'ERR_RXWIRE_CLUSTER',
  UNKNOWN_NODE: 'ERR_RXWIRE_UNKNOWN_NODE',
  NODE_UNREACHABLE: 'ERR_RXWIRE_NODE_UNREACHABLE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The base class of every error rxwire raises itself. */
export abstract class RxwireError extends Error {
  abstract readonly code: ErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
