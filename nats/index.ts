/** The `rxwire/nats` entry point: NATS channels, subjects, services, JetStream and the NATS cluster. */

/* Connection and point-to-point channels */
export { connect, NatsWire } from '../transports/nats';
export type { NatsConnectOptions, NatsOpenOptions, NatsWireOptions } from '../transports/nats';
