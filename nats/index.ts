/** The `rxwire/nats` entry point: NATS channels, subjects, services, JetStream and the NATS cluster. */
export {};
