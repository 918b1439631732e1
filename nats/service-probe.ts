/**
 * The member's watch over the clients whose requests it holds (docs/PROTOCOL.md,
 * "NATS services and subjects", "Probe"): the mirror of service-watch.ts,
 * where clients watch members.
 *
 * A client that closes or dies with requests open sends no cancel. So every
 * `interval` ms this member probes each request from an rxwire client
 * (`Rxwire-Ack: 1`) it has not heard about for at least `interval` (the
 * request sent again, a `credit`, a `ping` listing it, an answer to a probe):
 * a message to the request's reply subject R, body M, whose own reply
 * subject is an inbox of this member. "No responders" twice in a row (one
 * interval apart, so a client reconnecting in between keeps its requests)
 * means nobody subscribes R any more: the client is gone, and the request
 * is dropped as on `cancel`. An answer, or none by the next round, means R
 * is subscribed. Requests from plain NATS clients are never probed: their
 * inbox would take the probe for the reply.
 *
 * The probes share one subscription (made at the first probe) and the
 * round's timer: nothing of them outlives `close()`.
 */
import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { Kind, inboxOf, isNoResponders, kindHeaders } from './service-protocol';

/** "No responders" answers in a row that say a client is gone. */
const MISSES = 2;

/** A request watched: when its client was last heard of, its probe out (0: none), 503s in a row. */
interface Watched {
  heard: number;
  probe: number;
  misses: number;
}

export class ClientWatch {
  /** By R. */
  private readonly held = new Map<string, Watched>();
  /** The probes out, by the token ending their reply subject: R. */
  private readonly probes = new Map<number, string>();
  private nextToken = 1;
  private inbox = '';
  private sub: Subscription | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private readonly headers = kindHeaders(Kind.PROBE);
  private readonly body: Buffer;

  /**
   * @param member M, this member's control subject: the probe's body, so the client can tell which member asks
   * @param interval ms between rounds, and without word from a client before its request is probed (`Infinity`: never)
   * @param gone the client of R is gone: drop the request
   */
  constructor(
    private readonly nc: NatsConnection,
    member: string,
    private readonly interval: number,
    private readonly gone: (reply: string) => void,
  ) {
    this.body = Buffer.from(member, 'utf8');
  }

  /** Watches R from now on. */
  add(reply: string): void {
    if (this.interval === Infinity || this.closed) return;
    this.held.set(reply, { heard: performance.now(), probe: 0, misses: 0 });
    this.soon();
  }

  /** The client of R spoke about it: no probe for another `interval`. */
  heard(reply: string): void {
    const watched = this.held.get(reply);
    if (!watched) return;
    watched.heard = performance.now();
    watched.misses = 0;
  }

  /** R has ended here. */
  remove(reply: string): void {
    const watched = this.held.get(reply);
    if (!watched) return;
    this.held.delete(reply);
    if (watched.probe !== 0) this.probes.delete(watched.probe);
    if (this.held.size === 0) this.stopTimer();
  }

  close(): void {
    this.closed = true;
    this.held.clear();
    this.probes.clear();
    this.stopTimer();
    if (this.sub && !this.sub.isClosed()) this.sub.unsubscribe();
  }

  private soon(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(this.round, this.interval);
    this.timer.unref(); // the handlers keep the process up, not this
  }

  private stopTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly round = (): void => {
    this.timer = undefined;
    if (this.closed || this.nc.isClosed()) return;
    // Probes unanswered since the last round: R is subscribed (else the server says so at once), asked again now,
    // and the 503s "in a row" start again (silence between two is not two in a row).
    for (const reply of this.probes.values()) {
      const watched = this.held.get(reply);
      if (watched) watched.probe = watched.misses = 0;
    }
    this.probes.clear();
    const now = performance.now();
    for (const [reply, watched] of this.held) if (now - watched.heard >= this.interval) this.probe(reply, watched);
    if (this.held.size > 0) this.soon();
  };

  private probe(reply: string, watched: Watched): void {
    if (this.sub === undefined) {
      this.inbox = inboxOf(this.nc);
      this.sub = this.nc.subscribe(`${this.inbox}.*`, { callback: (err, msg) => void (err || this.answered(msg)) });
    }
    const token = this.nextToken++;
    try {
      this.nc.publish(reply, this.body, { reply: `${this.inbox}.${token}`, headers: this.headers });
    } catch {
      return; // the connection is closing: the member is abandoned anyway
    }
    watched.probe = token;
    this.probes.set(token, reply);
  }

  private answered(msg: Msg): void {
    const token = Number(msg.subject.slice(this.inbox.length + 1));
    const reply = this.probes.get(token);
    if (reply === undefined) return;
    this.probes.delete(token);
    const watched = this.held.get(reply);
    if (!watched) return;
    watched.probe = 0;
    if (!isNoResponders(msg.headers, msg.data)) {
      watched.heard = performance.now();
      watched.misses = 0;
    } else if (++watched.misses >= MISSES) {
      this.held.delete(reply);
      this.gone(reply);
    }
  }
}
