/**
 * `startNode`: a node of lightweight processes — N worker threads, each
 * hosting many processes, plus the calling thread, all linked by
 * shared-memory rings. Workers start through the one worker start-up
 * (threads/start.ts) and end through its Crew.
 */
import { checkOptions, OPTIONS } from './checks';
import { checkSpinMicros } from '../transports/shm/channel';
import { randomInt, randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { MessagePort } from 'node:worker_threads';
import { meshOf } from '../runtime/initialize';
import { startWorkers } from '../threads/start';
import { runnerPath } from '../threads/worker';
import type { WorkerSetup } from './runner';
import { LINK_COUNTERS } from './remote-frame';
import { joinNode, type Joined, type NodeWait } from './thread';
import { directRings } from './direct-rings';
import type { EntryCodecs, EntryLike, LookupOptions, NodeOptions, Process, ProcessNode, ProcessRef, SpawnOptions } from './types';

/**
 * Starts a node: `options.threads` worker threads (default: the machine's
 * parallelism) and this thread, linked by rings. Processes are spawned
 * with `node.spawn` (and from a process, `self.spawn`).
 *
 * ## Example
 * ```ts
 * import { startNode } from 'rxwire/processes';
 * import { counter } from './counter';
 * const node = startNode({ threads: 2 });
 * const c = node.spawn(counter, 0);
 * c.send(5);
 * console.log(await c.request(1)); // 6
 * await node.close();
 * ```
 *
 * @throws RangeError for a `threads` or `ringBytes` that is not an allowed integer, or a negative `spinMicros`
 * @throws TypeError for an `id` that is not a non-empty string, or an unknown `wait`
 */
export function startNode(options?: NodeOptions): ProcessNode {
  return startLocalNode(options);
}

/** NodeOptions.wait's strategies. */
const WAITS: readonly NodeWait[] = ['auto', 'spin', 'yield', 'async'];

/** @internal `startNode`, giving the node's class (remote.ts reaches its own thread through it). */
export function startLocalNode(options: NodeOptions | undefined): Node {
  const given = checkOptions(options, 'startNode: options', OPTIONS.node) as NodeOptions;
  const { threads = availableParallelism(), id = randomUUID(), ringBytes = 1 << 20, wait = 'auto', spinMicros = 50 } = given;
  if (!Number.isInteger(threads) || threads < 0 || threads > 1024) throw new RangeError('startNode: options.threads must be an integer from 0 to 1024');
  if (!Number.isInteger(ringBytes) || ringBytes < 4096 || ringBytes > 2 ** 30 || (ringBytes & (ringBytes - 1)) !== 0) {
    throw new RangeError('startNode: options.ringBytes must be a power of two from 4096 to 2^30');
  }
  if (typeof id !== 'string' || id === '') throw new TypeError('startNode: options.id must be a non-empty string');
  if (!WAITS.includes(wait)) throw new TypeError(`startNode: options.wait must be one of ${WAITS.join(', ')}`);
  checkSpinMicros(spinMicros, 'startNode: options.spinMicros');
  const counts = new SharedArrayBuffer(4 * (threads + 1 + LINK_COUNTERS)); // live processes per thread, then the spawn counters of links to other nodes
  const mesh = meshOf(threads + 1);
  const runner = runnerPath(__dirname, 'runner');
  const ports = (row: (MessagePort | null)[]) => row.filter((port): port is MessagePort => port !== null);
  const rings = directRings(threads + 1, ringBytes);
  // ProcessRef.incarnation: refs kept from an earlier run under the same id reach no process of this one (processes/gone.ts).
  const setup = { node: id, incarnation: randomInt(1, 2 ** 31), threads, counts, ringBytes, rings, wait, spinMicros };
  const crew = startWorkers({
    runner,
    plans: mesh.slice(0, threads).map((row, index) => {
      const workerSetup: WorkerSetup = { ...setup, mesh: row };
      return { module: runner, index, setup: workerSetup, transferList: ports(row) };
    }),
    ports: mesh.flatMap(ports),
  });
  return new Node(id, threads, new Int32Array(counts, 0, threads + 1), joinNode(setup, threads, mesh[threads]), crew);
}

/** @internal */
export class Node implements ProcessNode {
  private closing: Promise<void> | undefined;

  constructor(
    readonly id: string,
    readonly threads: number,
    private readonly live: Int32Array,
    /** @internal The calling thread's share of the node (remote.ts links it to other nodes). */
    readonly here: Joined,
    private readonly crew: { end(graceful: boolean): Promise<void> },
  ) {}

  spawn<C, M, R = never>(entry: EntryLike<C, M, R>, capture: C, options: SpawnOptions = {}): Process<M, R> {
    return this.here.scheduler.spawn(entry, capture, options, null);
  }

  handle<M, R = never>(ref: ProcessRef, entry: EntryCodecs<unknown, M, R>): Process<M, R> {
    return this.here.scheduler.handle(ref, entry, null);
  }

  lookup<M, R = never>(name: string, entry: EntryCodecs<unknown, M, R>, options?: LookupOptions): Promise<Process<M, R> | undefined> {
    return this.here.scheduler.lookup(name, entry, null, options);
  }

  counts(): Promise<number[]> {
    // A dead thread's count stays where its death left it (its own decrements never came): it hosts none.
    const { scheduler } = this.here;
    return Promise.resolve(Array.from(this.live, (_, t) => (scheduler.isGone(t) ? 0 : Atomics.load(this.live, t))));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.here.scheduler.close();
      await this.crew.end(true);
      this.here.close();
    })();
    return this.closing;
  }
}
