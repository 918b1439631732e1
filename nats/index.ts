/** The `rxwire/nats` entry point: NATS channels, subjects, services, JetStream and the NATS cluster. */

/* Connection and point-to-point channels */
export { connect, NatsWire } from '../transports/nats';
export type { NatsConnectOptions, NatsOpenOptions, NatsWireOptions } from '../transports/nats';

/* Subjects (pub/sub) */
export { subject, NatsSubject } from '../transports/nats/subject';
export type { SubjectOptions, NatsHandle } from '../transports/nats/subject';

/* Services (request/reply over NATS) */
export { serve } from './service';
export type { ServeOptions, Service } from './service-options';
export { client } from './service-client';
export type { ClientOptions } from './service-client';

/* JetStream */
export { durable, DurableSubject, type DeliverFrom, type DurableAck, type DurableMessage, type DurableOptions, type DurableStats, type JetStreamConnection } from '../transports/nats/jetstream';
