/**
 * A NATS cluster worker's links to the workers of the other processes
 * (`Config.nats`): the workers' side of runtime/nats-cluster.ts. Runs in the
 * worker thread, made by the runner before the user's function starts, as
 * runtime/cluster.ts does over TCP; the runner treats both alike.
 *
 * Each worker thread has its own NATS connection (a connection cannot cross
 * threads) and opens, per channel and remote peer, one channel over it
 * (runtime/nats-link.ts). It reads the run's control subject:
 *
 * - liveness: every other process beats every `heartbeat.interval` ms; one
 *   not heard for `heartbeat.timeout` ms while some of its workers have not
 *   said `done` is taken for dead. (A check that runs late, because this
 *   thread's event loop was held, judges nothing that round: the beats that
 *   waited behind it are read first.)
 * - `fail` from a process: it failed; the same, at once.
 * - the connection closing (the server gone): the same, at once.
 *
 * Any of these resolves `lost` with a `TransportClosedError`, and the runner
 * ends the worker with it, so `join()` rejects with `WorkerError` in every
 * process, whatever the user's function waits for.
 *
 * Shutdown. When the worker's function has settled, `farewell()` publishes
 * `done` and waits until every remote worker has said `done` (or its process
 * was lost), so this worker stays, and its queued values keep draining, until
 * every peer is finished with it; then it drains its connection.
 */
import { performance } from 'node:perf_hooks';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { NatsWire } from '../transports/nats';
import type { Codec } from '../core/codec';
import { TimeoutError, TransportClosedError } from '../core/errors';
import type { WireOptions, WireSubject } from '../core/wire-subject';
import type { RemoteLinks } from './context';
import { failedWire, listsKeys, neverAllocated } from './link-kinds';
import { channelName, connectCluster, controlSubject, decodeMessage, encodeMessage, type ControlMessage, type NatsWorkerSetup } from './nats-subjects';
import { SilenceClock } from './silence';


export class NatsLinks implements RemoteLinks {
  /** Resolves with a `TransportClosedError` when another process is lost while this worker runs. */
  readonly lost: Promise<Error>;
  private reportLost!: (err: Error) => void;
  private readonly workers: number;
  private readonly first: number;
  /** Remote workers that have not said `done`. */
  private readonly running = new Set<number>();
  private readonly heard: number[];
  private readonly sub: Subscription;
  private readonly timer: ReturnType<typeof setInterval>;
  /** Per remote worker: the channels opened to it here. */
  private readonly opened = new Map<number, Set<string>>();
  /** Per remote worker that said `done`: the channels it allocated (no other will ever pair). */
  private readonly allocatedBy = new Map<number, ReadonlySet<string>>();
  /** Remote workers heard saying `up`. */
  private readonly up = new Set<number>();
  private readonly allUp: Promise<void>;
  private everyoneUp!: () => void;
  private readonly clock: SilenceClock;
  private finishing = false;
  private failed = false;
  private settle: (() => void) | undefined;
  private closing: Promise<void> | undefined;

  private readonly nc: NatsConnection;

  private constructor(
    private readonly conn: NatsWire,
    private readonly setup: NatsWorkerSetup,
    private readonly index: number,
  ) {
    const { nc } = conn;
    this.nc = nc;
    this.lost = new Promise((resolve) => (this.reportLost = resolve));
    this.allUp = new Promise((resolve) => (this.everyoneUp = resolve));
    const { config, process: me } = setup;
    this.workers = config.workers;
    this.first = me * config.workers;
    for (let peer = 0; peer < config.processes * config.workers; peer++) if (this.has(peer)) this.running.add(peer);
    this.heard = new Array(config.processes).fill(performance.now());
    const onMessage = (err: Error | null, msg: Msg) => {
      if (!err) this.onControl(msg.data);
    };
    this.sub = nc.subscribe(controlSubject(config.name, setup.run), { callback: onMessage });
    const { interval, timeout } = config.heartbeat;
    this.clock = new SilenceClock(2 * interval);
    this.timer = setInterval(() => this.check(timeout), Math.max(1, Math.min(interval, Math.floor(timeout / 4))));
    this.say({ type: 'up', worker: index });
    if (this.running.size === 0) this.everyoneUp();
    void nc.closed().then(() => this.processLost(undefined, 'its NATS connection closed (the server is gone?)'));
  }

  /**
   * Connects, and resolves once every remote worker reads the control
   * subject (so no `done` is missed); rejects with `TimeoutError` past
   * `joinTimeout`, or `TransportClosedError` when a process is lost first,
   * having closed its connection.
   */
  static async start(setup: NatsWorkerSetup, index: number): Promise<NatsLinks> {
    const conn = await connectCluster(setup.config, `w${index}`);
    const links = new NatsLinks(conn, setup, index);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const missing = [...links.running].filter((peer) => !links.up.has(peer));
          reject(new TimeoutError(`NATS cluster ${setup.config.name}: worker ${index} did not hear workers ${missing.join(', ')} within ${setup.config.joinTimeout} ms`));
        }, setup.config.joinTimeout);
      });
      const lost = links.lost.then((err) => Promise.reject(err));
      lost.catch(() => {}); // a loss after the start is the runner's to report
      await Promise.race([links.allUp, lost, timeout]);
      return links;
    } catch (err) {
      links.finishing = true; // no `fail`: the cause is the other side's
      await links.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  has(peer: number): boolean {
    return peer < this.first || peer >= this.first + this.workers;
  }

  /**
   * Channel `channel` to worker `peer`: a NATS channel (`conn.open`) named
   * by `channelName`, which both workers open. Its own heartbeat is off:
   * the cluster's liveness (above) covers every channel of a process at
   * once, from its main thread, which a busy worker thread cannot delay.
   * The ends pair within `joinTimeout` (every worker is up by then).
   */
  open(peer: number, channel: string, codec: Codec<unknown>, options: WireOptions & { window?: number }): WireSubject<unknown> {
    const { config, run } = this.setup;
    const { window, ...wire } = options;
    if (this.allocatedBy.get(peer)?.has(channel) === false) return failedWire(codec, wire, neverAllocated(peer));
    const name = channelName(config.name, run, channel, this.index, peer);
    if (!this.opened.has(peer)) this.opened.set(peer, new Set());
    this.opened.get(peer)!.add(channel);
    return this.conn.open(name, codec, { ...wire, ...(window === undefined ? {} : { windowBytes: window }), heartbeat: false, pairTimeout: config.joinTimeout });
  }

  /** The worker's function has settled: says `done`, waits for every remote worker's, then closes. */
  async farewell(allocated: string[]): Promise<void> {
    this.finishing = true;
    this.say({ type: 'done', worker: this.index, ...(listsKeys(allocated) ? { allocated } : {}) });
    if (this.running.size > 0) await new Promise<void>((resolve) => (this.settle = resolve));
    await this.close();
  }

  /** Closes the connection (draining what was published); says `fail` first if the worker did not finish. */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      // A worker that failed on its own says so; one failed by a lost process does not (the others see that loss themselves).
      if (!this.finishing && !this.failed) this.say({ type: 'fail', process: this.setup.process, worker: this.index, message: `worker ${this.index} failed` });
      this.finishing = true;
      clearInterval(this.timer);
      this.settle?.();
      if (!this.nc.isClosed()) this.sub.unsubscribe();
      await this.conn.close(); // what was published goes out first
    })());
  }

  private say(message: ControlMessage): void {
    if (!this.nc.isClosed()) this.nc.publish(controlSubject(this.setup.config.name, this.setup.run), encodeMessage(message));
  }

  private onControl(data: Uint8Array): void {
    const message = decodeMessage<ControlMessage>(data);
    if (message?.type === 'up') {
      if (!this.running.has(message.worker) || this.up.has(message.worker)) return;
      this.up.add(message.worker);
      this.say({ type: 'up', worker: this.index });
      this.checkAllUp();
    } else if (message?.type === 'beat') {
      if (Number.isInteger(message.process) && message.process >= 0 && message.process < this.heard.length) this.heard[message.process] = performance.now();
    } else if (message?.type === 'done') {
      if (Array.isArray(message.allocated) && this.has(message.worker)) this.peerFinished(message.worker, message.allocated);
      this.running.delete(message.worker);
      if (this.running.size === 0) this.settle?.();
      this.checkAllUp(); // its `done` may come before its `up` (a worker that returns at once), or after others' `up`
    } else if (message?.type === 'fail' && message.process !== this.setup.process) {
      this.processLost(message.process, `it failed: ${message.message}`);
    }
  }

  /** Every remote worker still running has said `up` (one that said `done` needs hearing no more): the start may go on. */
  private checkAllUp(): void {
    for (const peer of this.running) if (!this.up.has(peer)) return;
    this.everyoneUp();
  }

  /** Worker `peer` finished having allocated `allocated`: a channel opened to it of another key fails now. */
  private peerFinished(peer: number, allocated: string[]): void {
    const { config, run } = this.setup;
    const known = new Set(allocated);
    this.allocatedBy.set(peer, known);
    for (const channel of this.opened.get(peer) ?? []) {
      if (!known.has(channel)) this.conn.neverOpened(channelName(config.name, run, channel, this.index, peer), neverAllocated(peer));
    }
  }

  private check(timeout: number): void {
    const now = this.clock.tick();
    if (now === undefined) return; // this thread was held: read the beats that waited first
    this.heard.forEach((at, p) => {
      if (p !== this.setup.process && now - at > timeout) this.processLost(p, `not heard for ${Math.round(now - at)} ms (heartbeat timeout ${timeout} ms)`);
    });
  }

  /** Process `p` (undefined: all of them, the connection is gone) is lost; matters only while some of its workers run. */
  private processLost(p: number | undefined, why: string): void {
    const mine = [...this.running].filter((peer) => p === undefined || Math.floor(peer / this.workers) === p);
    if (mine.length === 0) return;
    for (const peer of mine) this.running.delete(peer);
    if (this.running.size === 0) this.settle?.();
    if (this.finishing || this.failed) return;
    this.failed = true;
    const who = p === undefined ? 'the cluster' : `process ${p}`;
    this.reportLost(
      new TransportClosedError(`NATS cluster ${this.setup.config.name}: worker ${this.index} lost ${who} (workers ${mine.join(', ')} had not finished): ${why}`),
    );
  }
}
