import { Observable, isObservable, type OperatorFunction } from 'rxjs';
import type { Codec } from '../core/codec';
import { toErrorData, type ErrorData } from '../core/errors';
import { RpcKind, checkCodecs, checkConcurrency, schemaRefusal, type RpcEnvelope } from './request-internals';
import { directWire, sendFailure, sendReply } from './serve-reply';
import { StreamedReply } from './serve-stream';
import { IdTable, byId } from './id-table';
import type { Context, Reply, ServeOptions } from './serve-options';

export type { Reply, ServeOptions } from './serve-options';

/**
 * Serves requests: an operator from the envelopes a client sends to the
 * envelopes it should receive, so a server is one line over the wire.
 *
 * ## Example
 * ```ts
 * import { codec, open } from 'rxwire';
 * import { rpcCodec, serve } from 'rxwire/operators';
 * const Quote = codec({ type: 'record', name: 'Quote', fields: [{ name: 'sym', type: 'string' }] } as const);
 * const wire = open(workerData.end, rpcCodec());
 * wire.pipe(serve(async (q, signal) => price(q.sym, { signal }), { request: Quote, reply: codec('double') }))
 *   .subscribe(wire);
 * ```
 *
 * The handler gets the decoded request and an `AbortSignal`, and returns a
 * value, a Promise or an Observable. A value or a Promise's value goes back
 * as one REPLY envelope; an Observable as one NEXT per value and a COMPLETE,
 * under the client's credit: at most 128 NEXTs of one reply ahead of the
 * client's CREDITs, the rest waiting here (encoded, in memory), so one huge
 * reply is slow rather than filling the wire for every other request.
 * A throw, a rejection, an Observable's error, a request that does not
 * decode or a reply that does not encode go back as ERROR, which the client
 * receives as `RemoteError` (with the original `name`, `code` and stack).
 *
 * CANCEL from the client aborts the signal and unsubscribes the reply, and
 * nothing more is sent for that request. By default (`signal: 'auto'`) the
 * signal is made only for a handler that declares a second parameter
 * (`handler.length >= 2`): reading `AbortController.signal` costs about
 * 1.7 µs in Node 20, more than the rest of a round trip over shm. A handler
 * written `(q) => ...` gets `undefined` in its place; so does one whose
 * `length` hides the parameter (rest parameters, a default value, a
 * wrapper): pass `signal: true` for it. Without a signal the reply is still
 * unsubscribed on CANCEL. A request still waiting for a handler slot
 * (`concurrency`) is dropped from the queue.
 *
 * The handler's type follows `signal`: with `'auto'` or `true` the second
 * parameter is `AbortSignal`, which holds for every handler that names it
 * as a plain parameter (the `'auto'` rule sees it); with `false` the handler
 * takes the request only, so one that expects a signal does not compile;
 * with a `boolean` known only at run time it is `AbortSignal | undefined`.
 * `AbortSignal | undefined` everywhere would be honest for the corner cases
 * too, but would make every `(q, signal) => ...` check for a signal that
 * is always there.
 *
 * Reply contexts outlive the server: when the incoming stream completes (the
 * server is told to stop), the requests already taken still run (queued ones
 * included) and their replies go out; the output completes after the last.
 * Unless nobody can read them: when the output goes straight into a
 * WireSubject (the one-line server) whose reader stopped or is gone (the
 * client closed or unsubscribed its end), every handler is cancelled as on
 * CANCEL and the output completes — as soon as the wire hears it, whether or
 * not a handler is sending. One serve per wire: a second one subscribed
 * straight into a wire already served errors with `TypeError` (each request
 * would be answered twice); `concurrency` is the way to run more handlers.
 * With anything between, `serve` cannot see that, and a streamed reply runs
 * on into the wire, which drops it. When the incoming stream errors, or the
 * output is unsubscribed, every running handler's signal is aborted and its
 * reply unsubscribed; an error is then passed on to the output.
 *
 * The client's SCHEMA (its codecs' fingerprints, before its first request)
 * is compared with `options`: when a schema differs, every request is
 * answered with ERROR `SchemaMismatchError` and no handler runs. Envelopes of
 * other kinds (NEXT, COMPLETE, ERROR: a client's own kinds) and CANCELs of
 * unknown ids are ignored.
 *
 * When the output goes straight into a WireSubject, as in the one-line
 * server above, a one-value reply that the wire takes at once is encoded in
 * place behind its envelope's header, with no body Buffer of its own (the
 * client does the same for its requests). With anything between (an
 * operator, another Observer) every envelope carries its bytes in `body`.
 *
 * @param handler computes the reply to one request
 * @param options the codecs, the concurrency and the signal, see {@link ServeOptions}
 * @returns an operator from incoming envelopes to outgoing envelopes
 * @throws TypeError when `handler` is not a function, `options.request` or `options.reply` is not a codec,
 *   or `options.signal` is not `'auto'`, `true` or `false`
 * @throws RangeError when `options.concurrency` is not a positive integer or `Infinity`
 */
export function serve<Q, A>(
  handler: (request: Q, signal: AbortSignal) => Reply<A>,
  options: ServeOptions<Q, A> & { signal?: 'auto' | true },
): OperatorFunction<RpcEnvelope, RpcEnvelope>;
/** {@link serve} with `signal: false`: the handler gets no signal, so it takes the request only. */
export function serve<Q, A>(
  handler: (request: Q) => Reply<A>,
  options: ServeOptions<Q, A> & { signal: false },
): OperatorFunction<RpcEnvelope, RpcEnvelope>;
/** {@link serve} with a `signal` known only at run time: the handler may get `undefined`. */
export function serve<Q, A>(
  handler: (request: Q, signal: AbortSignal | undefined) => Reply<A>,
  options: ServeOptions<Q, A>,
): OperatorFunction<RpcEnvelope, RpcEnvelope>;
export function serve<Q, A>(
  handler: (request: Q, signal: AbortSignal) => Reply<A>,
  options: ServeOptions<Q, A>,
): OperatorFunction<RpcEnvelope, RpcEnvelope> {
  if (typeof handler !== 'function') throw new TypeError('serve: handler must be a function');
  checkCodecs('serve', options);
  const { request: requestCodec, reply: replyCodec, concurrency = Infinity, signal = 'auto' } = options;
  checkConcurrency(concurrency);
  if (signal !== 'auto' && signal !== true && signal !== false) {
    throw new TypeError("options.signal must be 'auto', true or false");
  }
  const wantsSignal = signal === 'auto' ? handler.length >= 2 : signal;
  return (source) =>
    new Observable<RpcEnvelope>((subscriber) => {
      const running = new IdTable<Context>();
      /** Requests waiting for a slot, in arrival order. */
      const waiting = new Map<number, RpcEnvelope>();
      let sourceDone = false;
      /** The client's SCHEMA said its codecs are not ours: every request is answered with this ERROR. */
      let refusal: ErrorData | undefined;
      let schemaSeen = false;

      const maybeComplete = (): void => {
        if (sourceDone && running.size === 0 && waiting.size === 0) subscriber.complete();
      };

      let pumping = false;
      /** Starts waiting requests while slots are free; a loop, not a recursion, for handlers that reply at once. */
      const pump = (): void => {
        if (pumping) return;
        pumping = true;
        while (running.size < concurrency && waiting.size > 0 && !subscriber.closed) {
          const [nextId, next] = waiting.entries().next().value as [number, RpcEnvelope];
          waiting.delete(nextId);
          start(next);
        }
        pumping = false;
        maybeComplete();
      };

      const finish = (id: number): void => {
        running.delete(id);
        pump();
      };

      /** The wire this output goes straight into, if it does (./serve-reply.ts). */
      const direct = directWire(subscriber);
      if (direct?.server) {
        // Each request would be answered twice, and a streamed reply's values twice before its end.
        return subscriber.error(new TypeError('serve: this wire is served already (one serve per wire: concurrency bounds the handlers)'));
      }
      /** Sends the one reply value as REPLY, or ERROR when it does not encode. */
      const replyWith = (id: number, value: A): void => sendReply(subscriber, direct, replyCodec, id, value);

      const start = (envelope: RpcEnvelope): void => {
        const { id } = envelope;
        const abort = wantsSignal ? new AbortController() : undefined;
        const context: Context = { id, abort };
        running.add(context);
        let result: Reply<A>;
        try {
          const value = requestCodec.decode(envelope.body);
          // undefined when no signal is wanted: the overloads above type the handler for that.
          result = handler(value, abort?.signal as AbortSignal);
        } catch (err) {
          sendFailure(subscriber, direct, id, toErrorData(err));
          return finish(id);
        }
        if (isObservable(result)) return stream(id, context, result as Observable<A>);
        if (!isPromiseLike(result)) {
          // A plain value: one REPLY, no Observable, no closure (the common, fast case); unless the handler was cancelled.
          if (running.get(id) !== context) return;
          replyWith(id, result as A);
          return finish(id);
        }
        // Each callback checks it still owns the slot: after CANCEL, nothing more goes out.
        const live = (): boolean => running.get(id) === context;
        const fail = (err: unknown): void => {
          if (!live()) return;
          sendFailure(subscriber, direct, id, toErrorData(err));
          finish(id);
        };
        try {
          (result as PromiseLike<A>).then((value) => {
            if (!live()) return;
            replyWith(id, value);
            finish(id);
          }, fail);
        } catch (err) {
          fail(err); // a thenable whose `then` throws
        }
      };

      /**
       * The wire's reader stopped or is gone (seen only on a direct wire): no reply can arrive, and no CANCEL
       * either, so every handler is cancelled and the output completes (before, a streamed handler ran for ever).
       */
      const readerGone = (): boolean => {
        if (!direct?.outgoingClosed || subscriber.closed) return false;
        abortAll();
        subscriber.complete();
        return true;
      };

      /** A streamed reply: NEXTs under the client's credit, then COMPLETE or ERROR (see serve-stream.ts). */
      const stream = (id: number, context: Context, reply$: Observable<A>): void => {
        const send = (envelope: RpcEnvelope): void => {
          if (!readerGone()) subscriber.next(envelope);
        };
        const paced = direct && ((envelope: RpcEnvelope) => (readerGone() ? Promise.resolve() : direct.send(envelope)));
        const reply = new StreamedReply(id, replyCodec, send, () => finish(id), paced);
        context.stream = reply as StreamedReply<unknown>;
        if (sourceDone) reply.unlimit(); // started from the queue after the input ended: no CREDIT can come
        reply.start(reply$);
      };

      const cancel = (id: number): void => {
        if (waiting.delete(id)) return maybeComplete();
        const context = running.get(id);
        if (!context) return;
        running.delete(id);
        context.abort?.abort();
        context.stream?.stop();
        finish(id);
      };

      const abortAll = (): void => {
        waiting.clear();
        const contexts = running.values().sort(byId);
        running.clear();
        for (const context of contexts) {
          context.abort?.abort();
          context.stream?.stop();
        }
      };

      // The client stopped reading (or is gone): told by the wire, in the next microtask (not within its own frame
      // handling), every handler is cancelled and the output completes — a handler that waits for its signal
      // would otherwise wait for ever when the client's STOP came after its COMPLETE had been taken.
      const server = { readerGone: (): void => queueMicrotask(readerGone) };
      if (direct) direct.server = server;
      const subscription = source.subscribe({
        next: (envelope) => {
          if (envelope.kind === RpcKind.REQUEST) {
            if (running.has(envelope.id) || waiting.has(envelope.id)) return; // a duplicate id: ignored
            if (refusal) return sendFailure(subscriber, direct, envelope.id, refusal); // the client's codecs are not ours
            if (running.size < concurrency) start(envelope);
            else waiting.set(envelope.id, envelope);
          } else if (envelope.kind === RpcKind.CANCEL) {
            cancel(envelope.id);
          } else if (envelope.kind === RpcKind.CREDIT) {
            running.get(envelope.id)?.stream?.grant(envelope);
          } else if (envelope.kind === RpcKind.SCHEMA && !schemaSeen) {
            schemaSeen = true; // the first one counts
            refusal = schemaRefusal(envelope, requestCodec as Codec<unknown>, replyCodec as Codec<unknown>);
          }
        },
        error: (err) => {
          abortAll();
          subscriber.error(err);
        },
        complete: () => {
          sourceDone = true;
          if (readerGone()) return;
          // No CREDIT can be heard any more: streamed replies go on under the wire's own backpressure.
          for (const context of running.values()) context.stream?.unlimit();
          maybeComplete();
        },
      });

      return () => {
        subscription.unsubscribe();
        abortAll();
        if (direct?.server === server) direct.server = undefined;
      };
    });
}

function isPromiseLike(x: unknown): x is PromiseLike<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as { then?: unknown }).then === 'function';
}
