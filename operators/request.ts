import type { Observable } from 'rxjs';
import { TimeoutError } from '../core/errors';
import type { RequestClient } from './client';
import { checkTimeout } from './request-internals';
import { checkKnown } from '../core/options';

/** Options of {@link request}. */
export interface RequestOptions {
  /**
   * Milliseconds from subscription (time waiting for a `concurrency` slot
   * included) until the request fails with `TimeoutError`; the server is
   * sent CANCEL so its work stops. `Infinity`: no limit. Default: the
   * client's `timeout` (30 s unless set there). Costs a timer and an error
   * per request; the client's is nearly free (see `ClientOptions.timeout`).
   */
  timeout?: number;
  /**
   * Cancels the request like an unsubscribe (the server is sent CANCEL), and
   * errors it with `signal.reason`.
   */
  signal?: AbortSignal;
}

const KNOWN: Record<keyof RequestOptions, true> = { timeout: true, signal: true };

/**
 * Asks the server behind `client` and emits its reply: cold, one request per
 * subscription.
 *
 * ## Example
 * ```ts
 * import { request } from 'rxwire/operators';
 * quotes$.pipe(mergeMap((q) => request(prices, q, { timeout: 100 })));
 * ```
 *
 * Subscribing sends REQUEST (or waits for a `concurrency` slot first). A
 * plain reply emits one value and completes; a streamed reply emits each
 * value and completes (with no value at all when the handler's Observable
 * had none: `firstValueFrom` then throws rxjs's `EmptyError`). Every subscription settles exactly once: it completes,
 * or errors with `RemoteError` (the handler failed: `remoteName`,
 * `remoteCode`, `remoteStack`), `TimeoutError` (after `timeout` ms, else
 * after the client's `timeout`, 30 s unless set; the server is sent
 * CANCEL), `signal.reason` (the signal aborted; CANCEL sent),
 * `EncodeError` (the value does not fit the request codec; nothing sent),
 * `DecodeError` (a reply that does not decode; CANCEL sent), or
 * `TransportClosedError` / `WorkerError` (the client closed, or the wire
 * ended). Unsubscribing early sends CANCEL: the handler's signal aborts.
 *
 * With a `timeout` of its own, the `TimeoutError` is created here, at call
 * time, so its stack shows the caller rather than a timer; the client's
 * default timeout creates its error when the deadline passes (no cost per
 * request), with the timer's stack.
 *
 * @param client the handle to ask through
 * @param value the request
 * @param options `timeout` and `signal`, see {@link RequestOptions}
 * @returns an Observable of the reply values
 * @throws RangeError when `options.timeout` is not a number of milliseconds from 0 to 2_147_483_647 or `Infinity`
 */
export function request<Q, A>(client: RequestClient<Q, A>, value: Q, options: RequestOptions = {}): Observable<A> {
  checkKnown(options, KNOWN, 'request: options');
  const { timeout, signal } = options;
  if (timeout !== undefined) checkTimeout(timeout);
  // Checked here, before the client registers anything: a fake one failed at subscribe and left its entry behind.
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError('request: options.signal must be an AbortSignal');
  const timeoutError = timeout === undefined || timeout === Infinity ? undefined : new TimeoutError(`no reply within ${timeout} ms`);
  return client.ask(value, timeout, signal, timeoutError);
}
