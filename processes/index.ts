/** The `rxwire/processes` entry point: lightweight processes (spawn, mailboxes, links, registry, supervisors, typed protocols). */

/* Types */
export type {
  Entry,
  EntryCodecs,
  EntryFunction,
  EntryLike,
  EntryResult,
  Exit,
  ExitReason,
  Letter,
  LinkDied,
  Mailbox,
  Monitor,
  NodeOptions,
  Placement,
  Process,
  ProcessDied,
  ProcessNode,
  ProcessRef,
  ReceiveOptions,
  RequestOptions,
  Self,
  Signal,
  SpawnOptions,
  Timer,
} from './types';

/* Errors */
export * from './errors';

/* Nodes, entries, references */
export { startNode } from './node';
export { entry } from './entry';
export { ProcessRefSchema, ProcessRefCodec } from './ref';
