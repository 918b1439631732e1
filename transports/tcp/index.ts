/**
 * The TCP transport: many channels (WireSubjects) multiplexed on one TCP or
 * TLS connection, with per-channel schema handshakes, optional shared-secret
 * authentication, a frame size limit, flow control that follows the socket,
 * and, for clients that ask, sessions that survive a dropped connection.
 * docs/PROTOCOL.md ("TCP transport") gives the bytes.
 *
 * ## Example
 * ```ts
 * import { tcp } from 'rxwire/transports';
 * const server = await tcp.listen({ port: 0, secret: 's3cret' });
 * server.connections$.subscribe((conn) => conn.open('echo', codec('string')).pipe(map((s) => s.toUpperCase())).subscribe(...));
 * const conn = await tcp.connect({ port: server.port, secret: 's3cret' });
 * const echo = conn.open('echo', codec('string'));
 * ```
 *
 * A `TcpEnd` (`conn.end(name)`) names a channel of a live connection; it
 * cannot be sent to another thread (a worker connects on its own).
 */
export { listen, TcpServer } from './server';
export { connect } from './client';
export { TcpConnection, isTcpEnd } from './connection';
export type { TcpEnd, TcpOpenOptions, TcpConnectionState, TcpConnectionStats } from './connection';
export type { ListenOptions, ConnectOptions, ReconnectOptions, CommonOptions, HeartbeatOptions } from './options';
