/** Durable streams on JetStream: `durable()` and its types (docs/PROTOCOL.md, "JetStream"). */
export { durable, DurableSubject, type DurableStats } from './durable';
export type { DeliverFrom, DurableOptions, JetStreamConnection } from './options';
export type { DurableAck, PublisherStats } from './publisher';
export type { DurableMessage, ReaderStats } from './reader';
