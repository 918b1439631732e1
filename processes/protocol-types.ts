/**
 * The types of typed protocols (session types, after lunatic's
 * `Protocol<Send<A, Recv<B, End>>>`): the steps a protocol is declared
 * with, the dual (the other side's view), and the state objects a process
 * holds while it speaks one. Each state has only the method its step
 * allows, and that method gives the next state, so sending out of turn, a
 * value of the wrong type, a label the protocol does not offer, or closing
 * early does not compile. Runtime in processes/protocol-session.ts,
 * declarations in processes/protocol.ts.
 */
import type { Codec } from '../core/codec';

/** This side sends an `A`, then the protocol goes on as `Next`. */
export interface Send<A, Next extends Step> {
  readonly op: 'send';
  readonly codec: Codec<A>;
  readonly next: Next;
}

/** This side receives an `A`, then the protocol goes on as `Next`. */
export interface Recv<A, Next extends Step> {
  readonly op: 'recv';
  readonly codec: Codec<A>;
  readonly next: Next;
}

/** The labelled continuations of a choice. */
export type Branches = { readonly [label: string]: Step };

/** This side picks one of the labelled branches (and the other side follows it). */
export interface Choose<B extends Branches> {
  readonly op: 'choose';
  readonly branches: B;
}

/** The other side picks one of the labelled branches; this side learns which. */
export interface Offer<B extends Branches> {
  readonly op: 'offer';
  readonly branches: B;
}

/** The protocol is over; both sides close. */
export interface End {
  readonly op: 'end';
}

/** Any step of a protocol. */
export type Step = Send<any, any> | Recv<any, any> | Choose<any> | Offer<any> | End;

/** The other side's view of `S`: sends become receives, choices become offers, and the reverse. */
export type Dual<S> =
  S extends Send<infer A, infer N>
    ? Recv<A, Dual<N>>
    : S extends Recv<infer A, infer N>
      ? Send<A, Dual<N>>
      : S extends Choose<infer B>
        ? Offer<{ [K in keyof B]: Dual<B[K]> }>
        : S extends Offer<infer B>
          ? Choose<{ [K in keyof B]: Dual<B[K]> }>
          : End;

/**
 * The state a process holds at step `S`: it has only the method that step
 * allows. Use each state once: its method hands back the next one (a state
 * used twice throws `ProtocolError`).
 */
export type Endpoint<S> =
  S extends Send<infer A, infer N>
    ? SendState<A, N>
    : S extends Recv<infer A, infer N>
      ? RecvState<A, N>
      : S extends Choose<infer B>
        ? ChooseState<B>
        : S extends Offer<infer B>
          ? OfferState<B>
          : S extends End
            ? EndState
            : never;

/** Options of `receive` and `offer`. */
export interface ProtocolReceiveOptions {
  /** Milliseconds to wait; then the Promise rejects with `TimeoutError` (and the session is dropped). Default: no limit. */
  timeout?: number;
  /** Stop waiting when it aborts: the Promise rejects with its `reason`, and the session is dropped (the other side hears). */
  signal?: AbortSignal;
}

/** At a `Send<A, N>` step. */
export interface SendState<A, N> {
  /**
   * Sends `value` and gives the state after it.
   * @throws EncodeError when `value` does not fit the step's codec (nothing is sent; this state stays usable)
   * @throws ProtocolDroppedError when the other side has left
   */
  send(value: A): Endpoint<N>;
}

/** At a `Recv<A, N>` step. */
export interface RecvState<A, N> {
  /**
   * The value the other side sent, with the state after it.
   * Rejects with `ProtocolDroppedError` when the other side leaves first,
   * `ProtocolError` when it sent something else, `TimeoutError` after `options.timeout`.
   */
  receive(options?: ProtocolReceiveOptions): Promise<[A, Endpoint<N>]>;
}

/** At a `Choose<B>` step. */
export interface ChooseState<B> {
  /** Tells the other side which branch follows, and gives its state. */
  choose<K extends keyof B & string>(label: K): Endpoint<B[K]>;
}

/** What `offer()` resolves with: the label the other side chose and the state of that branch (switch on `label` to narrow `next`). */
export type Chosen<B> = { [K in keyof B & string]: { readonly label: K; readonly next: Endpoint<B[K]> } }[keyof B & string];

/** At an `Offer<B>` step. */
export interface OfferState<B> {
  /** Waits for the other side's choice. Rejects as `receive` does. */
  offer(options?: ProtocolReceiveOptions): Promise<Chosen<B>>;
}

/** At `End`. */
export interface EndState {
  /**
   * Ends the session: tells the other side, and resolves once the other
   * side has reached `End` too. Rejects with `ProtocolDroppedError` when it
   * left before that.
   */
  close(options?: ProtocolReceiveOptions): Promise<void>;
}
