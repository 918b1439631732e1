/**
 * The client's watch over the members that own its requests (the retry
 * rule's step 4, docs/PROTOCOL.md "NATS services and subjects"): while a
 * member owns requests it is pinged every `interval` ms on its control
 * subject. "No responders" means its connection is gone: every request it
 * owned is reclaimed. Otherwise its answer lists the requests it was asked
 * about and no longer holds (their reply was lost on the way: a server
 * restart, a slow consumer): those are reclaimed; and, as `R n`, how many
 * NEXTs it has sent for those it holds: a request that has received fewer
 * lost values on the way (they were sent before the answer), and is cut. A ping that times out
 * says nothing (a busy member).
 */
import { Buffer } from 'node:buffer';
import { errors, type NatsConnection } from '@nats-io/transport-node';
import { Kind, PING_MOST, kindHeaders } from './service-protocol';

/** What the watch needs of a request. */
export interface Owned {
  /** R, the request's reply subject. */
  readonly reply: string;
  /** M, the control subject of the member that owns it. */
  member: string | undefined;
  /** NEXTs received from it. */
  readonly nexts: number;
}

export class MemberWatch<C extends Owned> {
  /** The requests each member owns. */
  private readonly members = new Map<string, Set<C>>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  /**
   * @param lookup the request still pending under R, if any
   * @param reclaim takes a request back from a member that no longer answers it, saying why
   * @param cut fails a request whose streamed reply lost values on the way, saying why
   */
  constructor(
    private readonly nc: NatsConnection,
    private readonly interval: number,
    private readonly lookup: (reply: string) => C | undefined,
    private readonly reclaim: (call: C, why: string) => void,
    private readonly cut: (call: C, why: string) => void,
  ) {}

  /** `call.member` owns `call`: watched from now on. */
  add(call: C): void {
    const member = call.member!;
    let owned = this.members.get(member);
    if (!owned) this.members.set(member, (owned = new Set()));
    owned.add(call);
    this.soon();
  }

  /** `call` has ended, or left its member. */
  remove(call: C): void {
    if (call.member === undefined) return;
    const owned = this.members.get(call.member);
    owned?.delete(call);
    if (owned?.size === 0) this.members.delete(call.member);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.members.clear();
  }

  private soon(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(this.ping, this.interval);
    this.timer.unref(); // the requests' own deadlines keep the process up, not this
  }

  /** Pings every member that owns requests; the body lists their Rs, one a line. */
  private readonly ping = (): void => {
    this.timer = undefined;
    if (this.closed || this.members.size === 0) return;
    for (const [member, owned] of this.members) {
      const asked: string[] = [];
      for (const call of owned) if (asked.push(call.reply) >= PING_MOST) break;
      this.nc.request(member, Buffer.from(asked.join('\n')), { timeout: this.interval, headers: kindHeaders(Kind.PING) }).then(
        (pong) => this.missing(member, pong.data),
        (err: unknown) => {
          if (isNoResponders(err)) this.lost(member);
        },
      );
    }
    this.soon();
  };

  /**
   * `member` answered: a line `R` for each R asked about that it does not hold (its end, sent before this
   * answer, would have arrived first), `R n` for one it holds after sending n NEXTs (all arrived first).
   */
  private missing(member: string, body: Uint8Array): void {
    if (body.length === 0 || this.closed) return;
    for (const line of Buffer.from(body.buffer, body.byteOffset, body.length).toString('utf8').split('\n')) {
      const [reply, sent] = line.split(' ');
      const call = this.lookup(reply);
      if (call?.member !== member) continue;
      if (sent === undefined) this.reclaim(call, `the member serving it (${member}) no longer has it: its reply was lost`);
      else if (call.nexts < Number(sent)) this.cut(call, `the member serving it (${member}) sent ${sent} values, ${call.nexts} arrived`);
    }
  }

  /** `member` is gone: each of its requests is reclaimed. */
  private lost(member: string): void {
    const owned = this.members.get(member);
    if (!owned || this.closed) return;
    for (const call of [...owned]) this.reclaim(call, `the member serving it (${member}) is gone`);
  }
}

/** Is `err` the NATS client's "no responders" (as it is, or as a RequestError's cause)? */
function isNoResponders(err: unknown): boolean {
  if (err instanceof errors.NoRespondersError) return true;
  return err instanceof errors.RequestError && err.isNoResponders();
}
