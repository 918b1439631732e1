/**
 * The client side of a NATS service as an RpcWire (operators/rpc-connection.ts):
 * the RequestClient of rxwire/operators sends its envelopes here and hears
 * the replies from here, so timeouts, cancellation, concurrency, streamed
 * replies and their credit are the ones every other transport has. This
 * file adds what NATS needs underneath (docs/PROTOCOL.md, "NATS services and
 * subjects", says every rule): each request on the service subject in a
 * queue group; sent again while no member has taken it (`ackTimeout`), or
 * when its member is gone or lost its reply (pinged: service-watch.ts), but
 * a streamed reply that has delivered a value fails instead (values cannot
 * be taken back, nor lost: `Rxwire-Seq`); the first member to speak up owns
 * it, the others are told to cancel; probes (service-probe.ts) are not
 * answered. So every request gets exactly one reply (or one typed error),
 * while its handler may run more than once (at-least-once handling).
 */
import { Buffer } from 'node:buffer';
import { Observable, type Subscriber } from 'rxjs';
import { headers, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { NoRespondersError, SchemaMismatchError, TransportClosedError } from '../core/errors';
import { Deadlines, type DeadlineEntry } from '../operators/deadlines';
import { RpcKind, control, creditOf, withBody, type RpcEnvelope } from '../operators/request-internals';
import { MemberWatch } from './service-watch';
import { EMPTY, Header, Kind, MEMBER_SUFFIX, errorOf, inboxOf, isMemberSubject, isNoResponders, kindHeaders, tooLarge } from './service-protocol';

/** One request on the wire, until its reply ends or it is dropped. */
interface Call extends DeadlineEntry<Call> {
  readonly id: number;
  /** R: where its replies come, and its name at the members. */
  readonly reply: string;
  readonly body: Buffer;
  /** M, the control subject of the member that owns it, once one acknowledged or answered. */
  member: string | undefined;
  /** A NEXT was delivered: it can no longer be sent again. */
  streamed: boolean;
  /** NEXTs received from its owner: each one's `Rxwire-Seq` must be one more. */
  nexts: number;
  /** Cancelled before any member owned it: the first one to speak up is told to cancel. */
  cancelled: boolean;
  /** Sent more than once: "no responders" then means "not yet" (members reconnecting), not a failure. */
  retried: boolean;
  resolve(): void;
  reject(err: Error): void;
}

export class ServiceWire extends Observable<RpcEnvelope> {
  private observer: Subscriber<RpcEnvelope> | undefined;
  private ended: Error | undefined;
  private readonly calls = new Map<number, Call>();
  /** The members that own requests, pinged. */
  private readonly watch: MemberWatch<Call>;
  private readonly unacked: Deadlines<Call>;
  private readonly inbox: string;
  private readonly sub: Subscription;
  private readonly requestHeaders = headers();

  /**
   * @param nc the connection
   * @param subject the service subject
   * @param replyFingerprint the reply codec's: a reply under another schema fails with SchemaMismatchError
   * @param ackTimeout ms before an unacknowledged request is sent again, and between pings
   */
  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
    requestFingerprint: string,
    private readonly replyFingerprint: string,
    private readonly ackTimeout: number,
  ) {
    super((subscriber) => {
      if (this.ended) return subscriber.error(this.ended);
      this.observer = subscriber;
      return () => {
        this.observer = undefined;
      };
    });
    this.requestHeaders.set(Header.ACK, '1');
    this.requestHeaders.set(Header.SCHEMA, requestFingerprint);
    this.unacked = new Deadlines(ackTimeout, this.resend);
    this.watch = new MemberWatch(nc, ackTimeout, (reply) => {
      const call = this.calls.get(Number(reply.slice(this.inbox.length + 1)));
      return call?.reply === reply ? call : undefined;
    }, (call, why) => this.reclaim(call, why), (call, why) => this.lost(call, call.member, why));
    this.inbox = inboxOf(nc);
    this.sub = nc.subscribe(`${this.inbox}.*`, { callback: (err, msg) => void (err || this.receive(msg)) });
    void this.sub.closed.then((reason) => this.end(new TransportClosedError(reason ? `the reply subscription failed: ${reason.message}` : 'the NATS connection closed', { cause: reason })));
  }

  /** Sends a REQUEST: resolves when its reply has ended, rejects with why it cannot be answered. */
  send(envelope: RpcEnvelope): Promise<void> {
    if (envelope.kind !== RpcKind.REQUEST) {
      this.next(envelope);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      if (this.ended) return reject(this.ended);
      const { id, body } = envelope;
      const call: Call = { id, reply: `${this.inbox}.${id}`, body, member: undefined, streamed: false, nexts: 0, cancelled: false, retried: false, resolve, reject, deadline: 0, prev: undefined, next: undefined };
      this.calls.set(id, call);
      this.post(call);
    });
  }

  /** CANCEL and CREDIT, to the member that owns the request. */
  next(envelope: RpcEnvelope): void {
    const call = this.calls.get(envelope.id);
    if (!call || this.ended) return;
    if (envelope.kind === RpcKind.CANCEL) {
      if (call.member === undefined) {
        call.cancelled = true; // told when a member speaks up; dropped at the ack deadline otherwise
        return;
      }
      this.control(call.member, call.reply, kindHeaders(Kind.CANCEL));
      this.drop(call);
      call.resolve();
    } else if (envelope.kind === RpcKind.CREDIT && call.member !== undefined) {
      const h = kindHeaders(Kind.CREDIT);
      h.set(Header.CREDIT, String(creditOf(envelope)));
      this.control(call.member, call.reply, h);
    }
  }

  /** The last client handle closed: the inbox goes, and every timer. */
  complete(): void {
    this.end(new TransportClosedError('the client is closed'), false);
  }

  error(err: unknown): void {
    this.end(err instanceof Error ? err : new TransportClosedError(String(err)));
  }

  /** (Re)sends `call` to the queue group and waits `ackTimeout` for a member to take it. */
  private post(call: Call): void {
    try {
      this.nc.publish(this.subject, call.body, { reply: call.reply, headers: this.requestHeaders });
    } catch (err) {
      this.drop(call);
      return call.reject(tooLarge(this.nc, err, call.body, this.requestHeaders));
    }
    this.unacked.track(call);
  }

  private readonly resend = (expired: Call[]): void => {
    for (const call of expired) {
      if (call.cancelled) {
        this.drop(call);
        call.resolve();
      } else if (this.calls.has(call.id)) {
        call.retried = true;
        this.post(call);
      }
    }
  };

  private receive(msg: Msg): void {
    const call = this.calls.get(Number(msg.subject.slice(this.inbox.length + 1)));
    const h = msg.headers;
    const kind = h?.get(Header.KIND) ?? '';
    // The member's M; a reply subject that is not one of this service's members is not listened to.
    const from = isMemberSubject(this.subject, msg.reply) ? msg.reply : undefined;
    if (kind === Kind.PROBE) return this.probed(msg, call);
    if (!call) {
      // A member still working on a request that has ended here: it should stop.
      if (from && (kind === Kind.ACK || kind === Kind.NEXT)) this.control(from, msg.subject, kindHeaders(Kind.CANCEL));
      return;
    }
    if (call.member === undefined && isNoResponders(h, msg.data)) {
      if (call.retried) return; // sent again at the ack deadline, until the request's own deadline
      this.drop(call);
      return call.reject(new NoRespondersError(this.subject));
    }
    if (call.member === undefined && from) this.own(call, from);
    else if (from !== call.member) {
      // Another member took a retried request: the first one owns it.
      if (from && (kind === Kind.ACK || kind === Kind.NEXT)) this.control(from, call.reply, kindHeaders(Kind.CANCEL));
      return;
    }
    if (call.cancelled) {
      if (from) this.control(from, call.reply, kindHeaders(Kind.CANCEL));
      this.drop(call);
      return call.resolve();
    }
    const schema = h?.get(Header.SCHEMA);
    if (schema && schema !== this.replyFingerprint) {
      if (from && kind === Kind.NEXT) this.control(from, call.reply, kindHeaders(Kind.CANCEL));
      this.drop(call);
      return call.reject(new SchemaMismatchError('<root>', `the reply was written with schema ${schema}, this client reads ${this.replyFingerprint}`));
    }
    const body = Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.length);
    switch (kind) {
      case Kind.ACK:
        return;
      case Kind.NEXT:
        if (!this.inSequence(call, h, ++call.nexts, from)) return;
        call.streamed = true;
        return this.observer?.next(withBody(call.id, RpcKind.NEXT, body));
      case Kind.COMPLETE:
        if (!this.inSequence(call, h, call.nexts, undefined)) return;
        return this.finish(call, control(call.id, RpcKind.COMPLETE));
      case Kind.ERROR:
        return this.finish(call, { id: call.id, kind: RpcKind.ERROR, body: Buffer.alloc(0), error: errorOf(h, msg.data) });
      default:
        // `reply`, or no kind at all: a plain NATS responder's answer is a reply too.
        return this.finish(call, withBody(call.id, RpcKind.REPLY, body));
    }
  }

  /**
   * A member holding R asks whether this client is still there (its body is
   * the member's M). Not answered: the server's "no responders", or its
   * absence, is the answer (and an answer would go to whatever subject the
   * probe names). A member of this service that R is not waited on from
   * (ended, cancelled, owned by another) is sent `cancel`.
   */
  private probed(msg: Msg, call: Call | undefined): void {
    if (msg.data.length !== Buffer.byteLength(this.subject) + MEMBER_SUFFIX) return; // not an M: not decoded
    const member = Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.length).toString('utf8');
    if (!isMemberSubject(this.subject, member)) return;
    if (call === undefined || call.cancelled || (call.member !== undefined && call.member !== member)) this.control(member, msg.subject, kindHeaders(Kind.CANCEL));
    if (call?.cancelled && call.member === undefined) {
      // The member that speaks up first about a request cancelled here has been told: it is over.
      this.drop(call);
      call.resolve();
    }
  }

  /** Whether the `Rxwire-Seq` of a NEXT or COMPLETE is absent or `expected`; if not, values were lost: see `lost`. */
  private inSequence(call: Call, h: Msg['headers'], expected: number, from: string | undefined): boolean {
    const seq = h?.get(Header.SEQ);
    if (!seq || seq === String(expected)) return true;
    this.lost(call, from, `Rxwire-Seq ${seq} where ${expected} was due`);
    return false;
  }

  /** Values of `call`'s streamed reply were lost on the way: it fails, and `from`, when given, is told to cancel. */
  private lost(call: Call, from: string | undefined, why: string): void {
    if (from) this.control(from, call.reply, kindHeaders(Kind.CANCEL));
    this.drop(call);
    call.reject(new TransportClosedError(`the streamed reply lost values on the way (${why}): it cannot be completed, so it fails`));
  }

  /** `call`'s reply ended with `envelope`. */
  private finish(call: Call, envelope: RpcEnvelope): void {
    this.drop(call);
    this.observer?.next(envelope);
    call.resolve();
  }

  /** `member` owns `call` from now on: it is pinged while it does. */
  private own(call: Call, member: string): void {
    call.member = member;
    this.unacked.remove(call);
    this.watch.add(call);
  }

  private drop(call: Call): void {
    this.calls.delete(call.id);
    this.unacked.remove(call);
    this.watch.remove(call);
  }

  /**
   * The owner of `call` no longer answers it: it goes to the queue group
   * again, unless it has delivered values already (they cannot be taken
   * back): then it fails with TransportClosedError saying `why`.
   */
  private reclaim(call: Call, why: string): void {
    this.drop(call);
    call.member = undefined;
    if (call.streamed) return call.reject(new TransportClosedError(`${why} mid-reply: the values already delivered cannot be taken back, so it is not retried`));
    this.calls.set(call.id, call);
    call.retried = true;
    this.post(call);
  }

  private control(member: string, reply: string, h: ReturnType<typeof headers>): void {
    if (this.nc.isClosed()) return;
    try {
      this.nc.publish(member, EMPTY, { reply, headers: h });
    } catch {
      // the connection is closing: the control is lost (the member finds out by its probe, service-probe.ts)
    }
  }

  /** Ends the wire: `err` for what is still pending, and for the reader when `failed` (else it completes). */
  private end(err: Error, failed = true): void {
    if (this.ended) return;
    this.ended = err;
    this.watch.close();
    this.unacked.close();
    if (!this.sub.isClosed()) this.sub.unsubscribe();
    const calls = [...this.calls.values()];
    this.calls.clear();
    for (const call of calls) call.reject(err);
    if (failed) this.observer?.error(err);
    else this.observer?.complete();
  }
}
