/** The `rxwire/nats` entry point: NATS channels, subjects, services, JetStream and the NATS cluster. */
export {};

/* JetStream */
export { durable, DurableSubject, type DeliverFrom, type DurableAck, type DurableMessage, type DurableOptions, type DurableStats, type JetStreamConnection } from '../transports/nats/jetstream';
