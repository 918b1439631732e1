/**
 * The NATS transport: point-to-point channels (WireSubjects on the one
 * session) over a NATS connection, and the connection the rest of rxwire's
 * NATS support builds on. docs/PROTOCOL.md ("NATS channels") gives the
 * subjects and bytes.
 *
 * ## Example
 * ```ts
 * import { connect } from 'rxwire/nats';
 * const conn = await connect({ servers: 'nats://127.0.0.1:4222' });
 * const trades = conn.open('trades', Trade);   // the other process opens 'trades' too
 * ```
 */
export { connect, NatsWire } from './connection';
export type { NatsConnectOptions, NatsOpenOptions, NatsWireOptions } from './options';
export { checkChannelName, checkPrefix } from './wire';
