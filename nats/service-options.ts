/** The options of `serve` (rxwire/nats) and the member it returns. */
import type { Codec } from '../core/codec';
import { MAX_TIMER_MS } from '../core/thread-hold';
import { checkCodecs } from '../operators/request-internals';

/** Options of {@link serve}. */
export interface ServeOptions<Q, A> {
  /** The codec of the requests (the clients' `request` codec). */
  request: Codec<Q>;
  /** The codec of the replies (the clients' `reply` codec). */
  reply: Codec<A>;
  /**
   * The queue group this member joins on the service subject: of all the
   * members of one group, each request reaches one. Default: the service's
   * `name`, so every `serve` of one service shares the load. Members of
   * different groups each get every request (each answers; a client takes
   * the first answer).
   */
  queue?: string;
  /**
   * The most handlers running at once in this member; further requests
   * wait here, in arrival order (they are acknowledged at once, so the
   * client does not retry them elsewhere). A positive integer or `Infinity`
   * (the default).
   */
  concurrency?: number;
  /** Aborting it stops the service as `stop()` does. */
  signal?: AbortSignal;
  /**
   * When the handler gets an `AbortSignal` (aborted when the client cancels:
   * unsubscribe, its signal, its timeout) as its second argument: `'auto'`
   * (the default: when the handler declares a second parameter), `true` or
   * `false`, as `ServeOptions.signal` of rxwire/operators.
   */
  handlerSignal?: 'auto' | boolean;
  /**
   * How this member notices a client that closed or died without cancelling:
   * every `probeInterval` ms it probes the reply subject of each request from
   * an rxwire client that it has not heard about for that long (the client's
   * pings, credit, the request sent again); when two probes in a row, one
   * interval apart, find nobody subscribed there, the request is dropped as
   * on a cancel (its handler's signal aborts, its streamed reply stops). So
   * a dead client's requests go within two to four intervals, and one that
   * reconnects within an interval keeps them. From 1 ms; default 5_000;
   * `Infinity` never probes. The rxwire client pings every `ackTimeout`
   * (2 s), so its requests are probed only once it has gone quiet. Requests
   * from plain NATS clients are never probed.
   */
  probeInterval?: number;
}

const SERVE_OPTIONS: Record<keyof ServeOptions<unknown, unknown>, true> = { request: true, reply: true, queue: true, concurrency: true, signal: true, handlerSignal: true, probeInterval: true };

/** The default of `ServeOptions.probeInterval`, in ms. */
export const DEFAULT_PROBE_INTERVAL = 5_000;

/**
 * Checks the options of `serve` (rxwire/nats): their names and codecs, and `probeInterval`.
 * @throws TypeError for an unknown option or a missing codec
 * @throws RangeError for a `probeInterval` that is not a number of milliseconds from 1 to 2147483647, or `Infinity`
 */
export function checkServeOptions<Q, A>(options: ServeOptions<Q, A>): void {
  checkCodecs('serve', options, SERVE_OPTIONS);
  const { probeInterval = DEFAULT_PROBE_INTERVAL } = options;
  if (!(probeInterval === Infinity || (typeof probeInterval === 'number' && probeInterval >= 1 && probeInterval <= MAX_TIMER_MS))) {
    throw new RangeError(`serve: options.probeInterval must be a number of milliseconds from 1 to ${MAX_TIMER_MS}, or Infinity (never probe)`);
  }
}

/** A running member of a service: see {@link serve}. */
export interface Service {
  /** The subject requests are sent to: `<prefix>svc.<name>`. */
  readonly subject: string;
  /** This member's control subject (cancel, credit, ping): `<prefix>svc.<name>.member.<nuid>`. */
  readonly member: string;
  /**
   * Stops taking requests (this member leaves the queue group at once, so
   * new requests go to the other members), lets the requests it has taken
   * finish and send their replies (a client may still cancel them), then
   * leaves its control subject. Resolves when all that is done; calling it
   * again returns the same Promise.
   */
  stop(): Promise<void>;
  /** Resolves when the member has stopped: after `stop()`, or when the NATS connection closed (its handlers' signals abort). */
  readonly closed: Promise<void>;
}
