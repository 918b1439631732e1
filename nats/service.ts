import { Buffer } from 'node:buffer';
import { Subject } from 'rxjs';
import { nuid, type Msg, type MsgHdrs, type Subscription } from '@nats-io/transport-node';
import { SchemaMismatchError, toErrorData, type ErrorData } from '../core/errors';
import { CREDIT_BATCH, RpcKind, control, credit, withBody, type RpcEnvelope } from '../operators/request-internals';
import { serve as serveEnvelopes, type Reply } from '../operators/serve';
import { prefixOf, type NatsHandle } from '../transports/nats/subject';
import { ClientWatch } from './service-probe';
import { DEFAULT_PROBE_INTERVAL, checkServeOptions, type ServeOptions, type Service } from './service-options';
import { EMPTY, Header, Kind, PING_MOST, REPLY_SUBJECT, checkServiceName, errorBody, errorHeaders, kindHeaders, memberSubject, publishQuietly, serviceSubject, tooLarge } from './service-protocol';

/** A request taken by this member, by local id. */
interface Call {
  /** The NATS subject its replies go to (R): also its name across retries. */
  readonly reply: string;
  /** From a plain NATS client (no `Rxwire-Ack`): no credit will come, so this member grants it. */
  readonly plain: boolean;
  /** NEXTs sent to a plain client since the last credit granted for it. */
  nexts: number;
  /** NEXTs sent: the `Rxwire-Seq` of the last one, and of the COMPLETE. */
  sent: number;
}

/**
 * Serves requests on NATS under `name`: this process becomes one member of
 * the service, in a queue group, so N processes on N machines share the
 * load and each request is handled by one of them.
 *
 * ## Example
 * ```ts
 * import { codec } from 'rxwire';
 * import { connect, serve, client } from 'rxwire/nats';
 * import { request } from 'rxwire/operators';
 * const conn = await connect({ servers: 'nats://127.0.0.1:4222' });
 * const svc = await serve(conn, 'price', async (q, signal) => price(q.sym, { signal }), { request: Quote, reply: codec('double') });
 * // anywhere else:
 * const prices = client(conn, 'price', { request: Quote, reply: codec('double'), timeout: 1000 });
 * const p = await firstValueFrom(request(prices, { sym: 'ACME' }));
 * await svc.stop();
 * ```
 *
 * The handler is the one of `serve` in rxwire/operators: it gets the
 * decoded request (and an `AbortSignal`, see `handlerSignal`) and returns a
 * value, a Promise or an Observable (a streamed reply: one NATS message per
 * value, under the client's credit). A throw, a rejection, an Observable's
 * error, a request that does not decode or a reply that does not encode go
 * back as an error message (the client gets `RemoteError` with the original
 * name and code); so does a request whose `Rxwire-Schema` header names
 * another schema than `options.request`'s (`SchemaMismatchError`).
 *
 * A request from an rxwire client is acknowledged at once, before the
 * handler runs; one from a plain NATS client (`nc.request(subject, avroBytes)`)
 * gets no acknowledgement, only its reply. A request that reaches this
 * member twice (a client retried it) runs once here. Requests without a
 * NATS reply subject are ignored (nowhere to answer). A request whose
 * rxwire client has gone without cancelling (closed, died) is dropped as on
 * a cancel once a probe finds nobody on its reply subject (see
 * `probeInterval`). See docs/PROTOCOL.md, "NATS services and subjects", for
 * the messages, the probe and the retry rule.
 *
 * @param conn the NATS connection (`connect()` of rxwire/nats, or `{ nc }`)
 * @param name the service's name: requests come on `<prefix>svc.<name>`
 * @param handler computes the reply to one request
 * @param options the codecs, queue group, concurrency and stop signal, see {@link ServeOptions}
 * @returns the member, once the server has registered its subscriptions (a request made after cannot miss it)
 * @throws TypeError when `name` is not a NATS subject without wildcards, `handler` is not a function, or a codec is missing
 * @throws RangeError when `options.concurrency` is not a positive integer or `Infinity`, or `options.probeInterval` not a number of milliseconds from 1 to 2147483647 or `Infinity`
 */
export async function serve<Q, A>(
  conn: NatsHandle,
  name: string,
  handler: (request: Q, signal: AbortSignal) => Reply<A>,
  options: ServeOptions<Q, A>,
): Promise<Service> {
  checkServiceName('serve', name);
  checkServeOptions(options);
  const { request, reply, queue = name, concurrency, signal: stopSignal, handlerSignal = 'auto', probeInterval = DEFAULT_PROBE_INTERVAL } = options;
  const envelopes = serveEnvelopes(handler as (q: Q, s: AbortSignal | undefined) => Reply<A>, { request, reply, concurrency, signal: handlerSignal });
  const { nc } = conn;
  const prefix = prefixOf(conn);
  const subject = serviceSubject(prefix, name);
  const member = memberSubject(prefix, name, nuid.next());
  const requestFp = request.fingerprint;
  const replyFp = reply.fingerprint;

  const input = new Subject<RpcEnvelope>();
  const calls = new Map<number, Call>();
  const byReply = new Map<string, number>();
  let nextId = 1;
  let stopping: Promise<void> | undefined;
  let closedResolve!: () => void;
  const closed = new Promise<void>((resolve) => (closedResolve = resolve));

  /**
   * Publishes unless the connection is gone (then every client fails or
   * retries on its own); returns why the client refused it (a body over
   * the server's `max_payload`).
   */
  const publish = (to: string, body: Uint8Array, h: MsgHdrs): Error | undefined => {
    if (nc.isClosed()) return undefined;
    try {
      nc.publish(to, body, { headers: h, reply: member });
      return undefined;
    } catch (err) {
      return tooLarge(nc, err, body, h);
    }
  };
  const forget = (id: number): void => {
    const call = calls.get(id);
    if (!call) return;
    calls.delete(id);
    byReply.delete(call.reply);
    clients.remove(call.reply);
    if (stopping && calls.size === 0) input.complete();
  };
  /** Drops a request (the client cancelled it, or is gone): a waiting one is not run, a running one's signal aborts. */
  const cancel = (id: number): void => {
    input.next(control(id, RpcKind.CANCEL)); // first: forgetting the last call of a stopping member completes the input
    forget(id);
  };
  const clients = new ClientWatch(nc, member, probeInterval, (to) => {
    const id = byReply.get(to);
    if (id !== undefined) cancel(id);
  });
  const fail = (to: string, error: ErrorData): void => void publish(to, errorBody(error), errorHeaders(error));
  /** Sends one value of a reply; one that cannot be sent ends the reply with the error instead. */
  const answer = (id: number, to: string, body: Uint8Array, h: MsgHdrs): void => {
    const refused = publish(to, body, h);
    if (!refused) return;
    if (calls.has(id)) cancel(id); // a streamed reply stops there
    fail(to, toErrorData(refused));
  };
  // The same headers on every message of a kind (the client encodes them anew each publish).
  const replyHeaders = kindHeaders(Kind.REPLY, replyFp);
  const ackHeaders = kindHeaders(Kind.ACK);

  const output = input.pipe(envelopes).subscribe({
    next: (envelope) => {
      const { id } = envelope;
      const call = calls.get(id);
      if (!call) return; // cancelled: nothing more is sent for it
      switch (envelope.kind) {
        case RpcKind.REPLY:
          forget(id);
          return answer(id, call.reply, envelope.body, replyHeaders);
        case RpcKind.NEXT:
          answer(id, call.reply, envelope.body, kindHeaders(Kind.NEXT, replyFp, ++call.sent));
          // A plain client grants no credit: this member grants it on its behalf.
          if (call.plain && calls.has(id) && ++call.nexts >= CREDIT_BATCH) {
            call.nexts = 0;
            input.next(credit(id, CREDIT_BATCH));
          }
          return;
        case RpcKind.COMPLETE:
          forget(id);
          return void publish(call.reply, EMPTY, kindHeaders(Kind.COMPLETE, undefined, call.sent));
        case RpcKind.ERROR:
          forget(id);
          return fail(call.reply, envelope.error ?? { name: 'Error', message: 'the handler failed without saying why', code: null, stack: null });
      }
    },
    complete: () => closedResolve(),
    error: () => closedResolve(),
  });

  const onRequest = (msg: Msg): void => {
    const to = msg.reply;
    if (!to) return;
    const h = msg.headers;
    const wantsAck = h?.get(Header.ACK) === '1';
    if (byReply.has(to)) {
      // A retry that reached the member already running it: acknowledged again, run once.
      clients.heard(to);
      if (wantsAck) publish(to, EMPTY, ackHeaders);
      return;
    }
    const schema = h?.get(Header.SCHEMA);
    if (schema && schema !== requestFp) {
      const mismatch = new SchemaMismatchError('<root>', `the request was written with schema ${schema}, service ${name} reads ${requestFp}`);
      return fail(to, toErrorData(mismatch));
    }
    const id = nextId++;
    calls.set(id, { reply: to, plain: !wantsAck, nexts: 0, sent: 0 });
    byReply.set(to, id);
    input.next(withBody(id, RpcKind.REQUEST, Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.length)));
    // Still running (not answered at once): the client hears that this member has it, and is watched.
    if (wantsAck && calls.has(id)) {
      publish(to, EMPTY, ackHeaders);
      clients.add(to);
    }
  };

  const onControl = (msg: Msg): void => {
    const kind = msg.headers?.get(Header.KIND);
    if (kind === Kind.PING) {
      // The answer: `R` for each R asked about that this member does not hold, `R n` for one it has sent n NEXTs for.
      const asked = msg.data.length === 0 ? [] : Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.length).toString('utf8').split('\n', PING_MOST);
      const lines: string[] = [];
      for (const r of asked) {
        if (!REPLY_SUBJECT.test(r)) continue; // not an R a client could wait on: not echoed back (a forged ping's bytes)
        clients.heard(r);
        const id = byReply.get(r);
        const sent = id === undefined ? undefined : calls.get(id)!.sent;
        if (sent === undefined) lines.push(r);
        else if (sent > 0) lines.push(`${r} ${sent}`);
      }
      // One the connection refuses (closed, over max_payload) is not sent: a throw here would stop nats.js's socket reader.
      if (msg.reply) publishQuietly(nc, msg.reply, Buffer.from(lines.join('\n')));
      return;
    }
    const id = msg.reply === undefined ? undefined : byReply.get(msg.reply);
    if (id === undefined) return; // ended already, or never here
    if (kind === Kind.CANCEL) {
      cancel(id);
    } else if (kind === Kind.CREDIT) {
      clients.heard(msg.reply!);
      const text = msg.headers?.get(Header.CREDIT) ?? '';
      const count = /^[0-9]{1,10}$/.test(text) ? Number(text) : NaN; // decimal digits only, as the doc says (not 0x10, 1e3, +5)
      // A malformed count reaches the reply as a CREDIT that does not decode: the request ends with an error.
      input.next(Number.isInteger(count) && count > 0 && count < 2 ** 31 ? credit(id, count) : withBody(id, RpcKind.CREDIT, Buffer.alloc(0)));
    }
  };

  const requests: Subscription = nc.subscribe(subject, { queue, callback: (err, msg) => {
      if (!err) onRequest(msg);
    } });
  const controls: Subscription = nc.subscribe(member, { callback: (err, msg) => {
      if (!err) onControl(msg);
    } });

  /** The connection is gone: every handler's signal aborts, the member is closed. */
  const abandon = (): void => {
    output.unsubscribe();
    calls.clear();
    byReply.clear();
    closedResolve();
  };
  void closed.then(() => clients.close());
  void controls.closed.then(abandon, abandon);

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      stopSignal?.removeEventListener('abort', onAbort);
      if (!nc.isClosed() && !requests.isClosed()) await requests.drain().catch(() => requests.unsubscribe());
      if (calls.size === 0) input.complete(); // else the last call to end completes it (forget)
      await closed;
      if (!controls.isClosed()) controls.unsubscribe();
    })();
    return stopping;
  };
  const onAbort = (): void => void stop();
  if (stopSignal?.aborted) onAbort();
  else stopSignal?.addEventListener('abort', onAbort, { once: true });

  await nc.flush();
  return { subject, member, stop, closed };
}
