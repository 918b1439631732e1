/**
 * Making a cluster worker's links at start: its listener, which accepts the
 * lower remote workers, and `dial`, which connects to the higher ones with
 * retries until the deadline. See runtime/cluster.ts for the design.
 */
import { Subscription } from 'rxjs';
import * as tcp from '../transports/tcp';
import { AuthError, TimeoutError, TransportClosedError } from '../core/errors';
import { Link, type ControlMessage, type Layout } from './cluster-link';
import { formatHost } from './hosts';

/** Backoff between connection attempts. */
const RETRY_FIRST_MS = 50;
const RETRY_MAX_MS = 1000;

/** This worker's listener: accepts the links of the lower remote workers. */
export class Listener {
  private accepting: ((link: Link) => void) | undefined;
  private lastRefused: Error | undefined;
  private readonly subscription = new Subscription();

  private constructor(
    private readonly layout: Layout,
    private readonly server: tcp.TcpServer,
  ) {
    this.subscription.add(server.errors$.subscribe((err) => (this.lastRefused = err)));
    this.subscription.add(
      server.connections$.subscribe((conn) => {
        if (!this.accepting) return void conn.close().catch(() => {}); // none expected any more
        this.accepting(new Link(conn));
      }),
    );
  }

  static async open(layout: Layout): Promise<Listener> {
    const { host, port } = layout.address(layout.index);
    try {
      return new Listener(layout, await tcp.listen({ host, port, secret: layout.config.secret, heartbeat: layout.config.heartbeat }));
    } catch (err) {
      const error = err as Error;
      // Keep the system error's class and code (EADDRINUSE, ...); say who failed where.
      error.message = `cluster: worker ${layout.index} cannot listen on ${formatHost({ host, port })}: ${error.message}`;
      throw error;
    }
  }

  /** Resolves with a handshaken link from every lower remote worker. */
  accept(deadline: number, signal: AbortSignal, opened: Link[], linked: (link: Link) => void): Promise<Link[]> {
    const { layout } = this;
    const missing = new Set(layout.lower);
    const links: Link[] = [];
    return new Promise<Link[]>((resolve, reject) => {
      const stop = (err?: Error) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', aborted);
        this.accepting = undefined;
        if (err) reject(err);
        else resolve(links);
      };
      const aborted = () => stop(signal.reason as Error);
      signal.addEventListener('abort', aborted);
      let misfit: Error | undefined;
      const timer = setTimeout(() => {
        if (misfit) return stop(misfit);
        const who = [...missing].map((peer) => layout.describe(peer)).join(', ');
        const refused = this.lastRefused ? `; last refused connection: ${this.lastRefused.name}: ${this.lastRefused.message}` : '';
        stop(
          new TimeoutError(
            `cluster: worker ${layout.index} (listening on ${formatHost(layout.address(layout.index))}) heard nothing from ${who} ` +
              `within ${layout.config.connectTimeout} ms${refused}; are those processes running, with the same hosts?`,
          ),
        );
      }, deadline - Date.now());
      this.accepting = (link) => {
        opened.push(link);
        link.hello.then(
          (hello) => {
            if (!this.accepting) return void link.close(); // the start is over: a late dialer is no link of this run
            const shape = layout.misfit(hello);
            if (!shape && !missing.has(hello.index)) {
              // Not a lower worker of another process, or one linked already (two processes started with one index):
              // refused at once, unanswered — the dialer fails with TransportClosedError (PROTOCOL.md) instead of
              // starting its run on a link nobody serves. A wrong index (not a duplicate) is this start's failure too,
              // if the right worker never comes.
              if (!links.some((l) => l.peer === hello.index)) {
                misfit ??= new RangeError(
                  `cluster: worker ${layout.index} got a connection from worker ${hello.index}, which is not a lower worker of another process; are the hosts the same in every process?`,
                );
              }
              return void link.close();
            }
            link.say(layout.hello()); // the dialer checks the shape too
            if (shape) {
              // Let the hello reach the dialer, which then fails alike and
              // closes the link: both processes see why.
              misfit ??= shape;
              return void link.settled.then(() => stop(shape));
            }
            link.peer = hello.index;
            missing.delete(hello.index);
            links.push(link);
            linked(link);
            if (missing.size === 0) stop();
          },
          () => void link.close(), // closed before its hello: not one of ours
        );
      };
    });
  }

  async close(): Promise<void> {
    this.accepting = undefined;
    await this.server.close();
    this.subscription.unsubscribe();
  }
}

/** Connects to worker `peer`, retrying until `deadline`, and completes the handshake. */
export async function dial(layout: Layout, peer: number, deadline: number, signal: AbortSignal, opened: Link[]): Promise<Link> {
  const { host, port } = layout.address(peer);
  const { secret, connectTimeout, heartbeat } = layout.config;
  let delay = RETRY_FIRST_MS;
  let last: Error | undefined;
  for (;;) {
    signal.throwIfAborted();
    let conn: tcp.TcpConnection | undefined;
    try {
      conn = await beforeDeadline(tcp.connect({ host, port, secret, heartbeat }), deadline, (late) => void late.close());
    } catch (err) {
      if (err instanceof AuthError) {
        throw new AuthError(`cluster: worker ${layout.index} and ${layout.describe(peer)} do not share the secret: ${err.message}`, { cause: err });
      }
      last = err as Error;
    }
    if (conn) {
      if (signal.aborted) conn.close(); // the start failed meanwhile: this connection is nobody's
      signal.throwIfAborted();
      const link = new Link(conn);
      opened.push(link);
      link.say(layout.hello());
      let hello: ControlMessage;
      try {
        hello = await beforeDeadline(link.hello, deadline);
      } catch (err) {
        if (err instanceof TimeoutError) {
          throw new TimeoutError(`cluster: ${layout.describe(peer)} accepted worker ${layout.index} but did not answer its hello within ${connectTimeout} ms`);
        }
        throw new TransportClosedError(
          `cluster: ${layout.describe(peer)} closed the connection of worker ${layout.index} during the handshake (${(err as Error).message}); does every process run with the same hosts and workers?`,
          { cause: err },
        );
      }
      const problem = layout.misfit(hello);
      if (problem) throw problem;
      if (hello.index !== peer) {
        throw new RangeError(
          `cluster: worker ${layout.index} dialled ${layout.describe(peer)} but worker ${hello.index} answered; are the hosts the same in every process?`,
        );
      }
      link.peer = peer;
      return link;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new TimeoutError(
        `cluster: worker ${layout.index} could not connect to ${layout.describe(peer)} within ${connectTimeout} ms` +
          `${last ? ` (${last.message})` : ''}; is process ${layout.processOf(peer)} running, with the same hosts?`,
        { cause: last },
      );
    }
    await sleep(Math.min(delay, left), signal);
    delay = Math.min(delay * 2, RETRY_MAX_MS);
  }
}

/**
 * `promise`, or a `TimeoutError` at `deadline`; what it resolves to after
 * that goes to `late` (to close a connection nobody will use).
 */
function beforeDeadline<T>(promise: Promise<T>, deadline: number, late?: (value: T) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      reject(new TimeoutError('deadline passed'));
    }, Math.max(0, deadline - Date.now()));
    promise.then(
      (value) => {
        clearTimeout(timer);
        if (expired) late?.(value);
        else resolve(value);
      },
      (err) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      if (signal.aborted) reject(signal.reason);
      else resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
