/**
 * Cluster nodes that meet over NATS: the same NodeFrames as over TCP, on a
 * NATS channel (transports/nats: the one session, with its pairing and
 * heartbeat) instead of a TCP connection. docs/PROTOCOL.md, "Remote
 * processes over NATS", gives the subjects.
 *
 * Each node subscribes to `P node.ID.knock` (P the connection's prefix,
 * ID its node id). To link to node B, node A opens the channel
 * `node.LO.HI` (the two ids in byte order) and sends B a NATS request on
 * B's knock subject, its payload A's id (UTF-8): B opens the same channel
 * and answers `ok` (or `taken` when it is A or already linked to it). The
 * channel's two ends pair, and each side then says HELLO as over TCP. No
 * responders (B is not on NATS) or no answer within the pairing timeout:
 * `NodeUnreachableError`. A node that goes silent is noticed by the
 * channel's heartbeat, one whose NATS connection drops by the channel
 * ending: either way its link drops (`noconnection`).
 */
import { NodeUnreachableError } from '../core/errors';
import type { WireSubject } from '../core/wire-subject';
import type { HeartbeatOptions } from '../transports/tcp';
import { connect as natsConnect, NatsWire, type NatsConnectOptions } from '../transports/nats';
import { NodeFrameCodec, type NodeFrame } from './remote-frame';
import type { ClusterNats } from './remote-types';

/** One link's carrier: the channel of NodeFrames, and how to end it. */
export interface Carrier {
  readonly wire: WireSubject<NodeFrame>;
  close(): Promise<void> | void;
}

/** What a cluster node does with a carrier: says HELLO on it; resolves with the other node's id. */
export type Join = (carrier: Carrier, where: string) => Promise<string>;

/** A node id usable on NATS: one subject token. */
const TOKEN = /^[A-Za-z0-9-][A-Za-z0-9_-]{0,63}$/;

/** How long a knock waits for its answer, ms. */
const KNOCK_TIMEOUT = 5000;

/** A cluster node's place on NATS. */
export class NatsMeeting {
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();
  /** The links under way, by node id. */
  private readonly connecting = new Map<string, Promise<string>>();
  private knocks: { unsubscribe(): void } | undefined;

  private constructor(
    private readonly conn: NatsWire,
    private readonly owned: boolean,
    private readonly id: string,
    private readonly heartbeat: boolean | HeartbeatOptions | undefined,
    private readonly join: Join,
    private readonly linked: (id: string) => boolean,
  ) {}

  /**
   * Connects to NATS (or uses `nats`, a connection from rxwire/nats
   * `connect`, which `close` leaves open) and answers knocks for node `id`.
   * @throws TypeError (rejects) when `id` is not a NATS subject token (1 to 64 of `[A-Za-z0-9_-]`, not starting with `_`)
   * @throws NodeUnreachableError (rejects) when NATS cannot be reached
   */
  static async start(
    nats: ClusterNats,
    id: string,
    heartbeat: boolean | HeartbeatOptions | undefined,
    join: Join,
    linked: (id: string) => boolean,
  ): Promise<NatsMeeting> {
    if (!TOKEN.test(id)) throw new TypeError(`startClusterNode: options.id ${JSON.stringify(id)} cannot meet over NATS: it must be 1 to 64 of [A-Za-z0-9_-], not starting with _`);
    let conn: NatsWire;
    const owned = !(nats instanceof NatsWire);
    try {
      conn = nats instanceof NatsWire ? nats : await natsConnect(nats as NatsConnectOptions);
    } catch (err) {
      if (err instanceof RangeError || err instanceof TypeError) throw err;
      throw new NodeUnreachableError('nats', `startClusterNode: cannot reach NATS: ${(err as Error).message}`, { cause: err });
    }
    const meeting = new NatsMeeting(conn, owned, id, heartbeat, join, linked);
    await meeting.listen();
    return meeting;
  }

  /** The knock subject of node `id`. */
  private knockSubject(id: string): string {
    return `${this.conn.prefix}node.${id}.knock`;
  }

  /** The carrier of the link between this node and node `other`. */
  private open(other: string): Carrier {
    const [lo, hi] = this.id < other ? [this.id, other] : [other, this.id];
    const wire = this.conn.open(`node.${lo}.${hi}`, NodeFrameCodec, { heartbeat: this.heartbeat });
    return { wire, close: () => wire.close() };
  }

  private async listen(): Promise<void> {
    this.knocks = this.conn.nc.subscribe(this.knockSubject(this.id), {
      callback: (err, msg) => {
        if (err) return;
        const other = this.decoder.decode(msg.data);
        if (!TOKEN.test(other) || other === this.id || this.linked(other)) return void msg.respond(this.encoder.encode('taken'));
        let carrier: Carrier;
        try {
          carrier = this.open(other);
        } catch {
          return; // the connection is closing
        }
        msg.respond(this.encoder.encode('ok'));
        this.join(carrier, `nats:${other}`).catch(() => carrier.close());
      },
    });
    await this.conn.nc.flush();
  }

  /**
   * Links to node `other` over NATS; resolves with its id once both said HELLO.
   * @throws NodeUnreachableError (rejects) when it does not answer (not on NATS, no answer in time), refuses (`taken`), or its HELLO fails
   */
  connect(other: string): Promise<string> {
    // A second connect to a node while the first is under way waits for the first: each opened the same
    // channel, and this node's two ends paired with each other (both failed, naming this node).
    const pending = this.connecting.get(other);
    if (pending) return pending;
    const linked = this.link(other).finally(() => this.connecting.delete(other));
    this.connecting.set(other, linked);
    return linked;
  }

  private async link(other: string): Promise<string> {
    if (!TOKEN.test(other)) throw new TypeError(`connect: ${JSON.stringify(other)} is not a node id usable on NATS`);
    const where = `nats:${other}`;
    const carrier = this.open(other);
    const joined = this.join(carrier, where);
    joined.catch(() => undefined); // reported below
    let answer: string;
    try {
      answer = this.decoder.decode((await this.conn.nc.request(this.knockSubject(other), this.encoder.encode(this.id), { timeout: KNOCK_TIMEOUT })).data);
    } catch (err) {
      await carrier.close();
      throw new NodeUnreachableError(other, `connect: node ${JSON.stringify(other)} did not answer on NATS: ${(err as Error).message}`, { cause: err });
    }
    if (answer !== 'ok') {
      await carrier.close();
      throw new NodeUnreachableError(other, `connect: node ${JSON.stringify(other)} refused the link (${answer}): it is this node or already linked`);
    }
    return joined;
  }

  /** Stops answering knocks; closes the NATS connection when this node made it. */
  async close(): Promise<void> {
    this.knocks?.unsubscribe();
    if (this.owned) await this.conn.close();
  }
}
