/**
 * The rxwire NATS connection: a NATS connection (`@nats-io/transport-node`)
 * that opens point-to-point channels (WireSubjects on the one session) and
 * that the rest of rxwire's NATS support (subjects, services, JetStream, the
 * cluster) builds on through `conn.nc`.
 */
import { AuthorizationError, connect as natsConnect, nuid, type NatsConnection } from '@nats-io/transport-node';
import type { ChannelSink } from '../../core/channel';
import { isCodec, type Codec } from '../../core/codec';
import { AuthError, TransportClosedError } from '../../core/errors';
import { helloOf } from '../../core/frame';
import { Session } from '../../core/session';
import { WireSubject } from '../../core/wire-subject';
import { checkKnown } from '../../core/options';
import { NatsTransport } from './channel';
import { openSettings, type NatsConnectOptions, type NatsOpenOptions, type NatsWireOptions } from './options';
import { Pairing } from './pairing';
import { flushed } from './flush';
import { ChannelSubjects, checkChannelName, checkPrefix, MESSAGE_HEADER } from './wire';

/**
 * One connection to NATS, from `connect`.
 *
 * ## Example
 * ```ts
 * import { codec } from 'rxwire';
 * import { connect } from 'rxwire/nats';
 * const conn = await connect({ servers: 'nats://127.0.0.1:4222' });
 * const trades = conn.open('trades', Trade);   // another process opens 'trades' too
 * trades.subscribe(console.log);
 * await trades.send({ id: 1, sym: 'ACME', price: 1, qty: 1 });
 * await conn.close();
 * ```
 */
export class NatsWire {
  /** The subject prefix of everything rxwire puts on NATS through this connection (`'rxwire.'` by default). */
  readonly prefix: string;
  /** Settles when `close()` is over (and, when this wrapper made the connection, the connection is closed). */
  readonly closed: Promise<void>;
  private readonly transports = new Set<NatsTransport>();
  private readonly status: { stop?: () => void };
  private ending: Error | undefined;
  private resolveClosed!: () => void;

  /**
   * @internal Made by `connect`.
   * @param nc the NATS connection (`conn.nc`)
   * @param owned whether `close()` closes `nc` (this wrapper made it)
   */
  constructor(
    readonly nc: NatsConnection,
    private readonly owned: boolean,
    options: NatsWireOptions,
  ) {
    this.prefix = checkPrefix(options.prefix ?? 'rxwire.');
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    const status = nc.status();
    this.status = status as { stop?: () => void };
    void this.watch(status);
    void nc.closed().then((err) => {
      this.endAll(new TransportClosedError(`the NATS connection closed${err ? `: ${err.message}` : ''}`, { cause: err }));
      this.resolveClosed();
    });
  }

  /**
   * Opens the point-to-point channel `name` as a WireSubject. Another end
   * (in this process or any other on the same NATS) opens the same name,
   * with its own codec: the schemas are resolved by Avro's rules, or both
   * ends fail with `SchemaMismatchError`. Values sent before the other end
   * has opened wait, as on a full window. A third end of a name that has
   * its two fails with `ChannelTakenError`.
   *
   * NATS core may drop messages (a slow consumer, a server restart): every
   * message is numbered, and a hole ends the channel with `GapError` after
   * the values before it; a dropped connection to the server ends every
   * channel with `TransportClosedError`; a vanished peer is noticed by the
   * heartbeat. A value larger than the server's `max_payload` (less 10
   * bytes of headers) is refused with `FrameError` naming both sizes.
   *
   * @param name dot-separated tokens of letters, digits, `-` and `_`
   * @param codec the schema of the values both ways
   * @param options see `NatsOpenOptions` and `WireOptions`
   * @throws TypeError for a bad name or codec
   * @throws RangeError for a bad option
   * @throws TransportClosedError when the connection is closed
   */
  open<T, In = never>(name: string, codec: Codec<T, In>, options: NatsOpenOptions = {}): WireSubject<T, In> {
    checkChannelName(name);
    if (!isCodec(codec)) throw new TypeError('conn.open: codec must be a Codec (from codec(), raw, ...)');
    const settings = openSettings(options);
    if (this.ending) throw new TransportClosedError(`conn.open("${name}"): ${this.ending.message}`);
    if (this.nc.isClosed()) throw new TransportClosedError(`conn.open("${name}"): the NATS connection is closed`);
    const maxPayload = this.nc.info?.max_payload ?? 1 << 20;
    if (maxPayload <= MESSAGE_HEADER + 5) throw new RangeError(`conn.open: the server's max_payload of ${maxPayload} bytes leaves no room for a value`);
    const subjects = new ChannelSubjects(this.prefix, name);
    const id = nuid.next();
    let transport!: NatsTransport;
    let pairing!: Pairing;
    const wire = new WireSubject<T, In>(
      (sink) => {
        transport = new NatsTransport(
          {
            nc: this.nc,
            subjects,
            id,
            batchBytes: settings.batchBytes,
            maxPayload,
            heartbeat: settings.heartbeat,
            released: () => {
              pairing.stop();
              this.transports.delete(transport);
            },
          },
          sink as ChannelSink<unknown>,
        );
        const session = new Session(transport, codec as Codec<T>, sink, {
          window: settings.window,
          announces: 'send',
          maxFrame: transport.maxValueBytes,
          nextOverhead: 5,
        });
        transport.start(session as Session<unknown>, helloOf(codec, settings.window));
        return session;
      },
      codec,
      options,
    );
    this.transports.add(transport);
    pairing = new Pairing(this.nc, subjects, id, name, settings.pairTimeout, {
      paired: (partner) => transport.paired(partner),
      failed: (err) => transport.lost(err),
    });
    pairing.start();
    return wire;
  }

  /** @internal The other end of `name` will never open (a cluster worker that finished): an unpaired end of it here fails with `err`. */
  neverOpened(name: string, err: Error): void {
    const subjects = new ChannelSubjects(this.prefix, name);
    for (const transport of [...this.transports]) if (transport.unpairedOn(subjects)) transport.lost(err);
  }

  /**
   * Ends every open channel with `TransportClosedError` at both ends (what
   * was sent before goes out first) and, when `connect` made the NATS
   * connection, closes it. A connection given to `connect` stays open: it
   * is the caller's. Resolves when that is done.
   */
  async close(): Promise<void> {
    if (!this.ending) {
      this.endAll(new TransportClosedError('this end closed its NATS connection'), 'the other end closed its NATS connection');
      try {
        if (this.owned && !this.nc.isClosed()) {
          // What was published goes out first if the server is there. A failed flush (the server down) used to
          // skip the close: the client went on reconnecting, its timers kept the process alive, and close()
          // rejected with the client's own error. Now the flush is bounded and the close always happens.
          await flushed(this.nc);
          await this.nc.close().catch(() => undefined); // closed either way: nc.closed() ends the channels
        }
      } finally {
        this.resolveClosed();
      }
    }
    return this.closed;
  }

  /** Ends every channel with `err`; no channel opens after. */
  private endAll(err: Error, bye?: string): void {
    this.ending ??= err;
    this.status.stop?.();
    for (const transport of [...this.transports]) transport.lost(err, bye);
    if (!this.owned) this.resolveClosed();
  }

  /** A dropped connection to the server may have lost messages in either direction: every channel ends. */
  private async watch(status: AsyncIterable<{ type: string }>): Promise<void> {
    for await (const event of status) {
      if (event.type !== 'disconnect') continue;
      const err = new TransportClosedError('the connection to the NATS server dropped: NATS core may have lost messages of the open channels, so they end');
      for (const transport of [...this.transports]) transport.lost(err);
    }
  }
}

/**
 * Connects to NATS (or wraps a connection the caller made) for rxwire.
 *
 * ## Example
 * ```ts
 * import { connect } from 'rxwire/nats';
 * const conn = await connect({ servers: 'nats://127.0.0.1:4222', user: 'app', pass: process.env.NATS_PASS });
 * const wire = conn.open('prices', Price);
 * ```
 *
 * @param options the @nats-io client's connection options (`servers`,
 *   `user`, `pass`, `token`, `name`, `tls`, …) and `prefix`; or a
 *   `NatsConnection` already open (then `close()` leaves it open)
 * @param wireOptions `prefix` when `options` is a connection
 * @throws AuthError when the server refuses the credentials
 * @throws TransportClosedError when no server can be reached
 */
export async function connect(options: NatsConnectOptions | NatsConnection = {}, wireOptions: NatsWireOptions = {}): Promise<NatsWire> {
  checkKnown(wireOptions, { prefix: true }, 'connect: the second argument');
  if (isNatsConnection(options)) return new NatsWire(options, false, wireOptions);
  const { prefix, ...natsOptions } = options;
  checkPrefix(prefix ?? wireOptions.prefix ?? 'rxwire.');
  let nc: NatsConnection;
  try {
    nc = await natsConnect(natsOptions);
  } catch (err) {
    if (err instanceof AuthorizationError) throw new AuthError(`the NATS server refused the credentials: ${(err as Error).message}`, { cause: err });
    throw new TransportClosedError(`cannot connect to NATS at ${serversOf(natsOptions.servers)}: ${(err as Error).message}`, { cause: err });
  }
  return new NatsWire(nc, true, { prefix: prefix ?? wireOptions.prefix });
}

function isNatsConnection(x: unknown): x is NatsConnection {
  return typeof x === 'object' && x !== null && typeof (x as NatsConnection).publish === 'function' && typeof (x as NatsConnection).subscribe === 'function';
}

function serversOf(servers: string | string[] | undefined): string {
  if (servers === undefined) return '127.0.0.1:4222';
  return Array.isArray(servers) ? servers.join(', ') : servers;
}
