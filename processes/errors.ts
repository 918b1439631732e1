/** The typed errors of rxwire/processes (defined in core/errors.ts with the others, re-exported here). */
export {
  EncodeError,
  DecodeError,
  EntryError,
  MailboxFullError,
  NameTakenError,
  NodeClosedError,
  NodeUnreachableError,
  ProcessExitedError,
  ProcessKilledError,
  ProtocolDroppedError,
  ProtocolError,
  RestartLimitError,
  TimeoutError,
  UnknownNodeError,
} from '../core/errors';
