/** The options of `serve` (serve.ts), what a handler may return, and the server's record of one running request. */
import type { Observable } from 'rxjs';
import type { Codec } from '../core/codec';
import type { StreamedReply } from './serve-stream';

/** What a handler may return: a value, a Promise of one, or an Observable (a streamed reply). */
export type Reply<A> = A | PromiseLike<A> | Observable<A>;

/** Options of {@link serve}. */
export interface ServeOptions<Q, A> {
  /** The codec of the requests (the client's `request` codec). */
  request: Codec<Q>;
  /** The codec of the replies (the client's `reply` codec). */
  reply: Codec<A>;
  /**
   * The most handlers running at once; further requests wait their turn, in
   * the order they arrived. A positive integer or `Infinity` (the default).
   */
  concurrency?: number;
  /**
   * When the handler gets an `AbortSignal` (aborted on CANCEL) as its
   * second argument; making one costs about 1.7 µs a request (see `serve`).
   *  - `'auto'` (the default): when the handler declares a second parameter,
   *    as `(q, signal) => ...` does (`handler.length >= 2`). A handler whose
   *    `length` does not show it gets `undefined`: one with rest parameters,
   *    a default value (`(q, signal = x) => ...`), or a wrapper such as
   *    `(...args) => f(...args)`. Give such a handler `true`.
   *  - `true`: always.
   *  - `false`: never; the handler is then typed `(request) => ...`.
   */
  signal?: 'auto' | boolean;
}

export interface Context {
  /** The request's id. */
  readonly id: number;
  /**
   * Aborted on CANCEL, or when the output is unsubscribed; absent when the
   * handler gets no signal (see `ServeOptions.signal`).
   */
  readonly abort: AbortController | undefined;
  /** The streamed reply, when the handler returned an Observable. */
  stream?: StreamedReply<unknown>;
}
