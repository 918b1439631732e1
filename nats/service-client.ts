import type { ClientOptions as WireClientOptions, RequestClient } from '../operators/client';
import { client as wireClient } from '../operators/client';
import { RPC_OPTIONS, checkCodecs, checkTimeout } from '../operators/request-internals';
import { prefixOf, type NatsHandle } from '../transports/nats/subject';
import { checkServiceName, serviceSubject } from './service-protocol';
import { ServiceWire } from './service-wire';

/** The default of `ClientOptions.ackTimeout`, in ms. */
const DEFAULT_ACK_TIMEOUT = 2_000;

/** Options of {@link client}: those of `client` in rxwire/operators, and `ackTimeout`. */
export interface ClientOptions<Q, A> extends WireClientOptions<Q, A> {
  /**
   * Milliseconds a request may go without being acknowledged by a member
   * before it is sent to the queue group again; also how often the members
   * that hold requests are pinged (a member whose connection is gone has its
   * requests sent again at once). Default 2_000. Shorter finds a dead member
   * sooner, but a member busier than this (a blocked event loop) then sees
   * the request run on another member as well: handling is at least once,
   * the reply exactly once either way.
   */
  ackTimeout?: number;
}

const CLIENT_OPTIONS: Record<keyof ClientOptions<unknown, unknown>, true> = { ...RPC_OPTIONS.client, ackTimeout: true };

/**
 * A client of the NATS service `name` (see `serve` of rxwire/nats): a
 * `RequestClient` of rxwire/operators, so `request(client, value, { timeout, signal })`
 * asks it, with the same timeouts, cancellation and streamed replies as
 * over any other wire.
 *
 * ## Example
 * ```ts
 * import { connect, client } from 'rxwire/nats';
 * import { request } from 'rxwire/operators';
 * const conn = await connect({ servers: 'nats://127.0.0.1:4222' });
 * const prices = client(conn, 'price', { request: Quote, reply: codec('double'), timeout: 1000 });
 * quotes$.pipe(mergeMap((q) => request(prices, q))).subscribe(render);
 * prices.close();
 * ```
 *
 * Each request is one NATS message on `<prefix>svc.<name>` (a queue group
 * delivers it to one member), carrying the Avro bytes of the value and the
 * request schema's fingerprint. What each request ends with: its reply
 * (once: never twice, even when it was retried); `RemoteError` (the
 * handler failed, or the member refused the request: a body that does not
 * decode, another schema); `NoRespondersError` (no member is running when it is first sent; a
 * request sent again, after its member died, waits for one until its deadline);
 * `TimeoutError`, `signal.reason` or an unsubscribe (the member is sent a
 * cancel, the handler's signal aborts); `TransportClosedError` (the
 * client closed, the connection closed, or the member died after
 * delivering part of a streamed reply); `FrameError` (the request is over
 * the server's `max_payload`); `SchemaMismatchError` (the reply was
 * written with another schema). A member that dies or stalls before its
 * reply has its request sent again (see `ackTimeout`).
 *
 * @param conn the NATS connection (`connect()` of rxwire/nats, or `{ nc }`)
 * @param name the service's name
 * @param options the codecs, `timeout`, `concurrency` and `ackTimeout`, see {@link ClientOptions}
 * @returns the first handle (its `close()` ends the client's subscription; `clone()` makes more)
 * @throws TypeError when `name` is not a NATS subject without wildcards, or a codec is missing
 * @throws RangeError when `options.concurrency`, `options.timeout` or `options.ackTimeout` is out of range
 */
export function client<Q, A>(conn: NatsHandle, name: string, options: ClientOptions<Q, A>): RequestClient<Q, A> {
  checkServiceName('client', name);
  checkCodecs('client', options, CLIENT_OPTIONS);
  const { ackTimeout = DEFAULT_ACK_TIMEOUT, ...wireOptions } = options;
  checkTimeout(ackTimeout);
  if (!(ackTimeout > 0 && ackTimeout !== Infinity)) throw new RangeError('options.ackTimeout must be a finite number of milliseconds above 0');
  const wire = new ServiceWire(conn.nc, serviceSubject(prefixOf(conn), name), options.request.fingerprint, options.reply.fingerprint, ackTimeout);
  return wireClient(wire, wireOptions);
}
