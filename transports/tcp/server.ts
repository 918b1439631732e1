/**
 * The server side: `tcp.listen`. Every accepted socket runs the handshake
 * first; only a client that completes it (authenticated, with `secret`)
 * becomes a `TcpConnection` on `connections$`. A client that comes back to
 * resume its session is not a new connection: its socket goes under the
 * connection it had.
 */
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { Observable, Subject } from 'rxjs';
import { TransportClosedError } from '../../core/errors';
import { TcpConnection } from './connection';
import type { Lifeline } from './connection-types';
import { denyFrame, welcomeFrame } from './handshake-bytes';
import { sayDeny } from './handshake-exchange';
import { serverHandshake, type ServerHello } from './handshake';
import { listenSettings, type ListenOptions, type ListenSettings } from './options';
import { DenyCode, SESSION_BYTES } from './wire';

/**
 * Listens for TCP (or TLS) connections.
 *
 * ## Example
 * ```ts
 * import { tcp } from 'rxwire/transports';
 * const server = await tcp.listen({ port: 7000, secret: 's3cret' });
 * server.connections$.subscribe((conn) => {
 *   const trades = conn.open('trades', Trade);
 *   trades.subscribe((t) => book(t));
 * });
 * server.errors$.subscribe((err) => log.warn(err));   // refused peers, bad frames
 * ```
 *
 * @param options see `ListenOptions`; binds 127.0.0.1 on an ephemeral port by default
 * @returns the server, listening (`server.port` is the port bound)
 */
export async function listen(options: ListenOptions = {}): Promise<TcpServer> {
  const settings = listenSettings(options);
  const server = new TcpServer(settings);
  await server.start();
  return server;
}

/** A listening server: see {@link listen}. */
export class TcpServer {
  /**
   * The connections that completed the handshake: hot, but those accepted
   * before the first subscriber are held for it (and, if it leaves while
   * taking them, the rest for the next one). One that ended before it
   * is handed out (its client closed it at once, or its first frames were
   * malformed: the error is on `errors$`) is not, so the subscriber may
   * `open` channels on what it gets. Completes on `close()`.
   */
  readonly connections$: Observable<TcpConnection>;
  /** Failures of single connections (AuthError, FrameError, a handshake cut short, ...): informational, hot. */
  readonly errors$: Observable<Error>;
  private readonly server: net.Server;
  private readonly accepted = new Subject<TcpConnection>();
  private readonly errors = new Subject<Error>();
  private early: TcpConnection[] | undefined = [];
  /** Every session, live or waiting for its client to resume, by hex id. */
  private readonly sessions = new Map<string, TcpConnection>();
  private readonly resumeTimers = new Map<TcpConnection, ReturnType<typeof setTimeout>>();
  /** Sockets still in the handshake. */
  private readonly handshaking = new Set<net.Socket>();
  private closing: Promise<void> | undefined;

  /** @internal Use `tcp.listen`. */
  constructor(private readonly settings: ListenSettings) {
    const accept = (socket: net.Socket) => this.accept(socket);
    if (settings.tls) {
      this.server = tls.createServer(settings.tls);
      this.server.on('secureConnection', accept);
      this.server.on('tlsClientError', (err: Error) => this.errors.next(err));
    } else {
      this.server = net.createServer(accept);
    }
    this.connections$ = new Observable<TcpConnection>((subscriber) => {
      const early = this.early ?? [];
      this.early = undefined;
      for (let i = 0; i < early.length; i++) {
        // A first subscriber that leaves while taking them (`firstValueFrom`, `take(1)`): the rest wait for the next.
        if (subscriber.closed) {
          this.early = early.slice(i);
          return;
        }
        if (early[i].stats().state !== 'gone') subscriber.next(early[i]);
      }
      return this.accepted.subscribe(subscriber);
    });
    this.errors$ = this.errors.asObservable();
  }

  /** The port bound. */
  get port(): number {
    return (this.server.address() as net.AddressInfo | null)?.port ?? this.settings.port;
  }

  /** The address bound. */
  get host(): string {
    return this.settings.host;
  }

  /** @internal Binds and starts listening. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.settings.port, this.settings.host, () => {
        this.server.off('error', reject);
        this.server.on('error', (err) => this.errors.next(err));
        resolve();
      });
    });
  }

  /**
   * Stops listening and closes every connection (and session kept for a
   * resume); resolves when every socket is gone. `connections$` and
   * `errors$` complete.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.handshaking) socket.destroy();
    const conns = [...this.sessions.values()];
    await Promise.all([stopped, ...conns.map((conn) => conn.close())]);
    this.accepted.complete();
    this.errors.complete();
  }

  private accept(socket: net.Socket): void {
    if (this.closing) return void socket.destroy();
    this.handshaking.add(socket);
    socket.once('close', () => this.handshaking.delete(socket));
    serverHandshake(socket, { secret: this.settings.secret, maxFrame: this.settings.maxFrame }).then(
      (hello) => {
        this.handshaking.delete(socket);
        this.admit(socket, hello);
      },
      (err: Error) => this.errors.next(err),
    );
  }

  /** A client proved itself: a new session, or its old one resumed. */
  private admit(socket: net.Socket, hello: ServerHello): void {
    if (this.closing) return void socket.destroy();
    if (hello.resumeId) return this.resume(socket, hello, hello.resumeId);
    const sessionId = randomBytes(SESSION_BYTES);
    const conn = new TcpConnection({
      settings: this.settings,
      sessionId,
      resumable: hello.resumable,
      peerMaxFrame: hello.peerMaxFrame,
      lifeline: this.lifeline(),
    });
    this.sessions.set(sessionId.toString('hex'), conn);
    socket.write(welcomeFrame(sessionId, false, 0, hello.proof));
    conn.attach(socket, hello.leftover, hello.received);
    // The frames that came with the handshake may have ended it already (a FrameError, on errors$).
    if (conn.stats().state === 'gone') return;
    if (this.early) this.early.push(conn);
    else this.accepted.next(conn);
  }

  private resume(socket: net.Socket, hello: ServerHello, id: Buffer): void {
    const conn = this.sessions.get(id.toString('hex'));
    // A session that keeps no replay cannot be resumed: what the client had not received would be lost, unsaid.
    if (!conn || !conn.resumable || !hello.resumable) {
      this.handshaking.add(socket); // until it closes: close() does not wait out the DENY's grace
      sayDeny(socket, denyFrame(DenyCode.UNKNOWN_SESSION, 'no such session (it expired or was closed)'));
      const what = !conn ? 'a session this server does not have' : !conn.resumable ? 'a session that keeps no replay' : 'a session in a CONNECT not RESUMABLE';
      this.errors.next(new TransportClosedError(`a client asked to resume ${what}`));
      return;
    }
    const timer = this.resumeTimers.get(conn);
    if (timer) clearTimeout(timer);
    this.resumeTimers.delete(conn);
    socket.write(welcomeFrame(conn.sessionId, true, conn.receivedBytes, hello.proof));
    conn.attach(socket, hello.leftover, hello.received);
  }

  /** A dropped resumable session waits `resumeTimeout` ms for its client; its end is reported on errors$. */
  private lifeline(): Lifeline<TcpConnection> {
    return {
      dropped: (conn) => {
        if (this.closing) return false;
        const { resumeTimeout } = this.settings;
        this.resumeTimers.set(
          conn,
          setTimeout(() => conn.abandon(new TransportClosedError(`the client did not resume within ${resumeTimeout} ms`)), resumeTimeout),
        );
        return true;
      },
      gone: (conn, err) => {
        const timer = this.resumeTimers.get(conn);
        if (timer) clearTimeout(timer);
        this.resumeTimers.delete(conn);
        this.sessions.delete(conn.sessionId.toString('hex'));
        if (!(err instanceof TransportClosedError)) this.errors.next(err);
      },
    };
  }
}
