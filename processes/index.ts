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
  LookupOptions,
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

/* Typed protocols (session types) */
export { choose, end, loop, offer, protocol, recv, send, type Protocol } from './protocol';
export type { Branches, Choose, Chosen, ChooseState, Dual, End, EndState, Endpoint, Offer, OfferState, ProtocolReceiveOptions, Recv, RecvState, Send, SendState, Step } from './protocol-types';
export { OPEN_TAG, ProtocolMail, type ProtocolMailKind } from './protocol-mail';
export { accept, connect, type AcceptOptions, type Speaker } from './protocol-session';

/* Supervisors */
export { supervisor, supervisorChildren } from './supervisor';
export {
  ChildInfos,
  SupervisorCapture,
  SupervisorCommand,
  supervisorSpec,
  type ChildInfo,
  type ChildSpec,
  type Restart,
  type Strategy,
  type SupervisorOptions,
} from './supervisor-spec';

/* Remote processes (nodes of a cluster, over TCP) */
export { startClusterNode, type ClusterNats, type ClusterNode, type ClusterNodeOptions, type NodeAddress } from './remote';
