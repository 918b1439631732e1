/**
 * The client side: `tcp.connect`, and the reconnect loop of a resumable
 * session (backoff, resume, give up).
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { AuthError, FrameError, TransportClosedError } from '../../core/errors';
import { TcpConnection } from './connection';
import type { Lifeline } from './connection-types';
import { clientHandshake } from './handshake';
import { HANDSHAKE_TIMEOUT_MS } from './handshake-exchange';
import { NO_SESSION, isSessionRefusal } from './handshake-bytes';
import { connectSettings, type ConnectOptions, type ConnectSettings } from './options';

/**
 * Connects to a `tcp.listen` server and runs the handshake (and the
 * authentication, with `secret`).
 *
 * ## Example
 * ```ts
 * import { tcp } from 'rxwire/transports';
 * const conn = await tcp.connect({ port: 7000, secret: 's3cret', reconnect: true });
 * const trades = conn.open('trades', Trade);
 * ```
 *
 * @param options see `ConnectOptions`
 * @returns the connection, authenticated
 * @throws (rejects) AuthError for a wrong or missing secret, or a TLS
 *   certificate that does not verify; TransportClosedError when the server
 *   cannot be reached, is not connected to (TLS: verified) within 10 s, does
 *   not finish the handshake within 10 s, or closes; FrameError when it does
 *   not speak this protocol (the connection it answered is closed, not returned)
 */
export async function connect(options: ConnectOptions): Promise<TcpConnection> {
  const settings = connectSettings(options);
  const resumable = settings.reconnect !== undefined;
  const { socket, ready } = dial(settings);
  await ready;
  const hello = await clientHandshake(socket, { secret: settings.secret, maxFrame: settings.maxFrame, resumable, sessionId: NO_SESSION, received: 0 });
  // The first end of the connection, if WELCOME or what came with it ends it at once (a FrameError: a count of
  // ours received that a new session cannot have, a malformed frame): `connect` rejects with it.
  let failure: Error | undefined;
  const reconnector = resumable ? new Reconnector(settings) : undefined;
  const conn = new TcpConnection({
    settings,
    sessionId: hello.sessionId,
    resumable,
    peerMaxFrame: hello.peerMaxFrame,
    lifeline: {
      dropped: (c) => reconnector?.dropped(c) ?? false,
      gone: (_conn, err) => {
        failure ??= err;
        reconnector?.gone();
      },
    },
  });
  if (hello.resumed) {
    socket.destroy();
    conn.abandon(new FrameError('the server answered a new session with WELCOME flagged RESUMED'));
  } else conn.attach(socket, hello.leftover, hello.received);
  if (conn.stats().state === 'gone') throw failure;
  return conn;
}

/** Opens a socket to the server; `ready` settles once it is connected (TLS: verified). */
function dial(settings: ConnectSettings): { socket: net.Socket; ready: Promise<void> } {
  const { host, port } = settings;
  const socket = settings.tls ? tls.connect({ ...settings.tls, host, port }) : net.connect({ host, port });
  const ready = new Promise<void>((resolve, reject) => {
    const onError = (err: Error & { code?: string }) => {
      clearTimeout(timer);
      socket.destroy();
      if (settings.tls && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(err.code ?? '')) {
        reject(new AuthError(`the server's TLS certificate does not verify: ${err.message}`, { cause: err }));
      } else {
        reject(new TransportClosedError(`cannot connect to ${host}:${port}: ${err.message}`, { cause: err }));
      }
    };
    // A peer that takes the TCP connection and then says nothing (no TLS handshake) must not hold `ready` for ever.
    const timer = setTimeout(() => onError(new Error(`not connected within ${HANDSHAKE_TIMEOUT_MS} ms`)), HANDSHAKE_TIMEOUT_MS);
    socket.once('error', onError);
    // Destroyed while it dials (a reconnect given up, `conn.close()`): no error comes, and the timer must not stay.
    const onClose = () => onError(new Error('the socket was closed before it connected'));
    socket.once('close', onClose);
    socket.once(settings.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off('close', onClose);
      resolve();
    });
  });
  return { socket, ready };
}

/**
 * Resumes a dropped session: tries again after `initialDelay`, then waits
 * `factor` times longer each time (at most `maxDelay`), until it resumes or
 * `giveUpAfter` ms have passed since the drop. An AuthError, a FrameError,
 * or a server that no longer has the session end it at once.
 */
class Reconnector implements Lifeline<TcpConnection> {
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** `giveUpAfter` ms after the drop, whatever an attempt is doing then (one may be stuck in its handshake). */
  private deadline: ReturnType<typeof setTimeout> | undefined;
  private socket: net.Socket | undefined;
  private conn: TcpConnection | undefined;
  private droppedAt = 0;
  private delay = 0;
  private stopped = false;

  constructor(private readonly settings: ConnectSettings) {}

  dropped(conn: TcpConnection): boolean {
    this.conn = conn;
    this.droppedAt = Date.now();
    this.delay = this.settings.reconnect!.initialDelay;
    const { giveUpAfter } = this.settings.reconnect!;
    clearTimeout(this.deadline);
    this.deadline = setTimeout(() => {
      this.socket?.destroy();
      this.socket = undefined;
      this.giveUp(new TransportClosedError(`the connection dropped and could not be resumed within ${giveUpAfter} ms`));
    }, giveUpAfter);
    this.schedule();
    return !this.stopped;
  }

  gone(): void {
    this.stopped = true;
    clearTimeout(this.deadline);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.socket?.destroy();
    this.socket = undefined;
  }

  private schedule(): void {
    const { giveUpAfter, maxDelay, factor } = this.settings.reconnect!;
    if (Date.now() - this.droppedAt + this.delay > giveUpAfter) {
      this.giveUp(new TransportClosedError(`the connection dropped and could not be resumed within ${giveUpAfter} ms`));
      return;
    }
    this.timer = setTimeout(() => void this.attempt(), this.delay);
    this.delay = Math.min(this.delay * factor, maxDelay);
  }

  private async attempt(): Promise<void> {
    this.timer = undefined;
    const conn = this.conn!;
    const { socket, ready } = dial(this.settings);
    this.socket = socket;
    try {
      await ready;
      if (this.stopped) return void socket.destroy();
      const hello = await clientHandshake(socket, {
        secret: this.settings.secret,
        maxFrame: this.settings.maxFrame,
        resumable: true,
        sessionId: conn.sessionId,
        received: conn.receivedBytes,
      });
      this.socket = undefined;
      if (this.stopped) return void socket.destroy();
      if (!hello.resumed || !hello.sessionId.equals(conn.sessionId)) {
        socket.destroy();
        return this.giveUp(new TransportClosedError('the server did not resume the session'));
      }
      clearTimeout(this.deadline);
      conn.attach(socket, hello.leftover, hello.received);
    } catch (err) {
      this.socket = undefined;
      if (this.stopped) return;
      if (err instanceof AuthError || err instanceof FrameError || isSessionRefusal(err)) return this.giveUp(err as Error);
      this.schedule();
    }
  }

  private giveUp(err: Error): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    clearTimeout(this.deadline);
    // Deferred: `dropped` may be running inside the connection's own close handling.
    setImmediate(() => this.conn?.abandon(err));
  }
}
