/**
 * A cluster worker's links to the workers of the other processes, over TCP
 * (`Config.cluster`). Runs in the worker thread, made by the runner before the
 * user's function starts.
 *
 * Topology: each worker thread owns its own sockets. Node cannot share a
 * socket between threads nor hand one to another thread, so the two choices
 * were this or one connection per pair of processes owned by the main thread,
 * which relays every value to and from its worker threads. The relay would
 * add two thread crossings per value, a second flow control to keep in step
 * with the first, and a main thread that knows no codec, so schemas could
 * only be checked between a worker and its relay, not end to end. Per-thread
 * sockets need nothing of the kind: a channel between workers of two
 * processes is a plain TCP channel between the two threads, with its HELLO
 * schema check, its credit window and its errors, as any `tcp` channel. The
 * price is more connections (one per pair of workers in different
 * processes, where timely has one per pair of processes) and a port per
 * worker.
 *
 * Ports. Worker `t` of process `p` (global index `p × workers + t`) listens on
 * `hosts[p].host`, port `hosts[p].port + t`, when some worker of a lower
 * process will connect to it; process 0 listens on nothing. For every two
 * workers `i < j` of different processes, `i` connects to `j`: one connection
 * per pair, carrying a control channel (`rxwire:cluster`) and one channel per
 * allocated channel, named by its channel key (`s:words`, `n:3`).
 *
 * Start. Each worker listens, then dials its higher peers, retrying a refused
 * connection (backoff 50 ms doubling to 1 s) until `connectTimeout` after it
 * started, since a peer process may start later; past it, `TimeoutError`
 * naming the peer and its address. On each connection the dialer says
 * `hello` (its index, the cluster's size and workers per process) and the
 * listener answers with its own; a cluster of another shape, an unexpected
 * index, or a connection that closes during the handshake fails the start
 * (`RangeError`, `TransportClosedError`), as does a link that closes while
 * the others are still being made (its process failed: no need to wait out
 * the deadline). The user's function runs once every link is up, so no
 * channel ever waits for a connection. The code is in cluster-connect.ts.
 *
 * Failure. A link that closes before its peer said `done` while this worker
 * is still running means the peer's process died or failed: `lost` gives a
 * `TransportClosedError` naming the peer, the runner ends the worker with it
 * (so `join()` rejects with `WorkerError`) whatever the user's function is
 * waiting for, and the link's own channels error with it too. Nothing waits
 * on a dead peer. A peer that goes silent with its sockets open (its process
 * stopped, its machine gone from the network) is the same: the TCP heartbeat
 * (`ClusterConfig.heartbeat`) ends its links with `TransportClosedError`
 * once it has said nothing for the heartbeat's timeout.
 *
 * Shutdown. When the worker's function has settled (its senders completed),
 * it says `done` on every link and waits, per link, for the peer's `done` or
 * for the connection to close, then closes every connection and its
 * listener. A worker thus stays (and its queued values keep draining) until
 * every remote peer is finished with it, and no socket outlives the worker's
 * result. A `done` from a peer means it will read nothing more, so closing
 * then loses nothing either way.
 */
import type { Codec } from '../core/codec';
import { TransportClosedError } from '../core/errors';
import { WireSubject, type WireOptions } from '../core/wire-subject';
import { dial, Listener } from './cluster-connect';
import { Layout, type Link } from './cluster-link';
import type { ClusterConfig } from './config';
import type { RemoteLinks } from './context';
import { failedWire, listsKeys, neverAllocated, TCP_DONE_KEYS_BYTES } from './link-kinds';

/**
 * The links of one cluster worker (see the top of this file). Made by
 * `ClusterLinks.start`, which resolves once every link is up.
 */
export class ClusterLinks implements RemoteLinks {
  /**
   * Resolves with a `TransportClosedError` when a link goes before its peer
   * finished while this worker still runs (never after `farewell()` began).
   */
  readonly lost: Promise<Error>;
  private readonly links = new Map<number, Link>();
  private finishing = false;
  private failed = false;
  private closing: Promise<void> | undefined;
  private readonly reportLost: (err: Error) => void;

  private constructor(
    private readonly layout: Layout,
    private readonly listener: Listener | undefined,
    links: Link[],
  ) {
    let reportLost!: (err: Error) => void;
    this.lost = new Promise((resolve) => (reportLost = resolve));
    this.reportLost = reportLost;
    for (const link of links) {
      this.links.set(link.peer, link);
      link.onLost = (err) => this.linkLost(link, err);
      if (link.goneError && !link.peerDone) this.linkLost(link, link.goneError);
    }
  }

  /**
   * Listens (if a lower process will connect), dials every higher remote
   * worker and completes every handshake; rejects with `TimeoutError`,
   * `AuthError`, `TransportClosedError` or `RangeError` (see the top of this
   * file), having closed whatever it opened.
   */
  static async start(config: ClusterConfig, index: number): Promise<ClusterLinks> {
    const layout = new Layout(config, index);
    const deadline = Date.now() + config.connectTimeout;
    const abort = new AbortController();
    const opened: Link[] = [];
    let listener: Listener | undefined;
    // A link that goes while the others are still being made means its peer
    // failed: the start fails at once rather than wait out the deadline.
    const linked = (link: Link) => {
      link.onLost = (err) =>
        abort.abort(
          new TransportClosedError(
            `cluster: the link of worker ${index} to ${layout.describe(link.peer)} closed during the start (${err.message}); did process ${layout.processOf(link.peer)} fail or exit?`,
            { cause: err },
          ),
        );
      if (link.goneError) link.onLost(link.goneError);
    };
    const aborted = new Promise<never>((_, reject) => abort.signal.addEventListener('abort', () => reject(abort.signal.reason)));
    aborted.catch(() => {}); // it may never be raced
    try {
      if (layout.lower.length > 0) listener = await Listener.open(layout);
      const links = Promise.all([
        listener ? listener.accept(deadline, abort.signal, opened, linked) : [],
        Promise.all(layout.higher.map((peer) => dial(layout, peer, deadline, abort.signal, opened).then((link) => (linked(link), link)))),
      ]);
      const [accepted, dialed] = await Promise.race([links, aborted]);
      return new ClusterLinks(layout, listener, [...accepted, ...dialed]);
    } catch (err) {
      if (!abort.signal.aborted) abort.abort(err);
      for (const link of opened) link.onLost = undefined;
      await Promise.all(opened.map((link) => link.close()));
      await listener?.close();
      throw err;
    }
  }

  has(peer: number): boolean {
    return this.links.has(peer);
  }

  open(peer: number, channel: string, codec: Codec<unknown>, options: WireOptions & { window?: number }): WireSubject<unknown> {
    const link = this.links.get(peer)!;
    if (link.peerAllocated && !link.peerAllocated.has(channel)) return failedWire(codec, options, neverAllocated(peer));
    let gone = link.goneError;
    if (!gone) {
      try {
        const wire = link.conn.open(channel, codec, options);
        link.opened.add(channel);
        return wire;
      } catch (err) {
        if (!(err instanceof TransportClosedError)) throw err; // a bad option: the caller's to see
        gone = err;
      }
    }
    const failure = new TransportClosedError(`cluster: ${this.layout.describe(peer)} is gone: ${gone.message}`, { cause: gone });
    return failedWire(codec, options, failure);
  }

  /**
   * The worker's function has settled: says `done` on every link, waits for
   * each peer's `done` (or its connection to go), then closes everything.
   */
  async farewell(allocated: string[]): Promise<void> {
    this.finishing = true;
    const links = [...this.links.values()];
    const listed = listsKeys(allocated, TCP_DONE_KEYS_BYTES);
    for (const link of links) if (!link.goneError) link.say({ ...this.layout.hello(), kind: 'done', allocated: listed ? allocated : [], listed });
    await Promise.all(links.map((link) => link.settled));
    await this.close();
  }

  /** Closes every connection and the listener now; idempotent. */
  close(): Promise<void> {
    this.finishing = true;
    return (this.closing ??= (async () => {
      await Promise.all([...this.links.values()].map((link) => link.close()));
      await this.listener?.close();
    })());
  }

  private linkLost(link: Link, err: Error): void {
    if (this.finishing || this.failed) return;
    this.failed = true;
    const peer = this.layout.describe(link.peer);
    this.reportLost(
      new TransportClosedError(
        `cluster: the link of worker ${this.layout.index} to ${peer} closed before that worker finished (${err.message}); did process ${this.layout.processOf(link.peer)} fail or exit?`,
        { cause: err },
      ),
    );
  }
}
