/** The options of a request client (client.ts), its default timeout, and its record of one request. */
import type { Subscriber } from 'rxjs';
import type { Codec } from '../core/codec';
import type { DeadlineEntry } from './deadlines';
import type { RpcEnvelope } from './request-internals';
import type { Routed } from './rpc-connection';

export const DEFAULT_TIMEOUT = 30_000; // ClientOptions.timeout's, in ms

/** Options of {@link client}. */
export interface ClientOptions<Q, A> {
  /** The codec of the requests (the server's `request` codec). */
  request: Codec<Q>;
  /** The codec of the replies (the server's `reply` codec). */
  reply: Codec<A>;
  /**
   * The most requests of this handle in flight at once (the others wait, first come first served): a
   * positive integer or `Infinity` (the default). Each `clone()` has its own bound.
   */
  concurrency?: number;
  /**
   * The deadline of this handle's requests that set no `timeout` of their
   * own: milliseconds from subscription until such a request fails with
   * `TimeoutError` and the server is sent CANCEL (the handler's signal
   * aborts). Default 30_000 (30 s), so a handler that never replies cannot
   * hang its caller; `Infinity`: no limit. At most 2_147_483_647 (Node's
   * longest timer). Each `clone()` may set its own; a request's own
   * `timeout` overrides it.
   *
   * Nearly free, unlike a per-request `timeout`: these requests are kept in
   * subscription order (= deadline order) under one timer due at the first
   * deadline, and the `TimeoutError` is made then (its stack is the timer's).
   * A request's own `timeout` has its own timer and an error made at call
   * time, whose stack shows the caller.
   */
  timeout?: number;
}

/** One subscribed request. */
export interface Pending<A> extends DeadlineEntry<Pending<A>>, Routed {
  readonly id: number;
  /** Its REQUEST: a ValueEnvelope when it starts at once on a WireSubject, else an envelope with its bytes. */
  readonly request: RpcEnvelope;
  readonly subscriber: Subscriber<A>;
  /** REQUEST has gone out (a CANCEL is owed if it ends early); NEXTs received since the last CREDIT. */
  sent: boolean;
  unacked: number;
  settled: boolean;
  cleanup?: () => void;
}
