/**
 * The member's watch over the clients whose requests it holds (docs/PROTOCOL.md,
 * "NATS services and subjects", `probe`): the mirror of service-watch.ts,
 * where clients watch members.
 *
 * A client that closes or dies with requests open sends no cancel. So a
 * request from an rxwire client (`Rxwire-Ack: 1`) that this member has held
 * for `interval` ms without word about it from its client (the request sent
 * again, a `credit`, a `ping` listing it) is probed: a NATS request to its
 * reply subject R, body M. "No responders" means nobody subscribes R any
 * more: the client is gone, and the request is dropped as on `cancel`. An
 * answer, or none in time, means the client is still there (a client that
 * no longer waits on R from this member says so with `cancel`). Requests
 * from plain NATS clients are never probed: their inbox would take the
 * probe for the reply.
 */
import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import type { NatsConnection } from '@nats-io/transport-node';
import { Kind, isNoRespondersError, kindHeaders } from './service-protocol';

/** A request watched: when its client was last heard of, and whether a probe is out. */
interface Watched {
  heard: number;
  probing: boolean;
}

export class ClientWatch {
  /** By R. */
  private readonly held = new Map<string, Watched>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private readonly headers = kindHeaders(Kind.PROBE);
  private readonly body: Buffer;

  /**
   * @param member M, this member's control subject: the probe's body, so the client can tell which member asks
   * @param interval ms without word from a client before its request is probed (`Infinity`: never)
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
    this.held.set(reply, { heard: performance.now(), probing: false });
    this.soon();
  }

  /** The client of R spoke about it: no probe for another `interval`. */
  heard(reply: string): void {
    const watched = this.held.get(reply);
    if (watched) watched.heard = performance.now();
  }

  /** R has ended here. */
  remove(reply: string): void {
    this.held.delete(reply);
    if (this.held.size === 0) this.stopTimer();
  }

  close(): void {
    this.closed = true;
    this.held.clear();
    this.stopTimer();
  }

  private soon(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(this.tick, this.interval);
    this.timer.unref(); // the handlers keep the process up, not this
  }

  private stopTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    if (this.closed || this.nc.isClosed()) return;
    const now = performance.now();
    for (const [reply, watched] of this.held) if (!watched.probing && now - watched.heard >= this.interval) this.probe(reply, watched);
    if (this.held.size > 0) this.soon();
  };

  private probe(reply: string, watched: Watched): void {
    let answered: Promise<unknown>;
    try {
      answered = this.nc.request(reply, this.body, { timeout: this.interval, headers: this.headers });
    } catch {
      return; // the connection is closing: the member is abandoned anyway
    }
    watched.probing = true;
    answered.then(
      () => {
        watched.probing = false;
        watched.heard = performance.now();
      },
      (err: unknown) => {
        watched.probing = false;
        // A timeout says nothing but that R is subscribed: probed again next round.
        if (isNoRespondersError(err) && !this.closed && this.held.get(reply) === watched) {
          this.held.delete(reply);
          this.gone(reply);
        }
      },
    );
  }
}
