/**
 * Exchange suite worker, run by `initialize(Config.process(peers), ...)` on
 * every worker (not through worker-host.ts: the runtime starts it). Each
 * worker produces `n` keyed records itself and routes them with `exchange`;
 * the records this worker owns come back out of the operator and are
 * checked one by one.
 *
 * Two rounds on two channels, the same program on both: `warm-up`
 * (`warmup` records per worker, untimed: JIT, first allocations; it also
 * ends only once every worker has finished producing it, so it lines the
 * workers up) and `timed` (`n` records per worker), timed here in the
 * worker, from just before the source is subscribed to the operator's
 * completion, so worker start-up and teardown are outside the clock. The
 * timed channel's links are made inside the clock (one MessagePort hop to
 * hand the peer its end), on both transports alike.
 *
 * Check (both rounds): record i of worker w carries `value = i * peers + w`
 * and key `keys[i & KEY_MASK]`; a worker must receive only keys it owns
 * (`route(key, peers)`), each sender's values in increasing order, and from
 * each sender exactly as many as that sender produced for it. Strictly
 * increasing values drawn from a set, as many as the set holds, are the set:
 * nothing lost, repeated, reordered or misrouted.
 */
import { Observable } from 'rxjs';
import { codec, route, type Infer, type WorkerContext } from '../../index';
import { exchange } from '../../operators';

const keyedSchema = {
  type: 'record',
  name: 'Keyed',
  fields: [
    { name: 'key', type: 'string' },
    { name: 'value', type: 'long' },
  ],
} as const;

/** The record routed: a short string key and a long. */
const Keyed = codec(keyedSchema);
type Keyed = Infer<typeof keyedSchema>;

/**
 * Distinct keys the records cycle through (a power of two). `key-0000` to
 * `key-4095` split 2021 / 2075 between 2 workers (`route`), near even.
 */
export const KEY_COUNT = 4096;
const KEY_MASK = KEY_COUNT - 1;

/** The i-th key (`key-0042`); the same in every worker. */
export function keyAt(i: number): string {
  return `key-${String(i & KEY_MASK).padStart(4, '0')}`;
}

/** How a worker's source emits its records. */
export type SourceMode =
  /** All `n` in one synchronous loop, as `from(array)` or `range` would: what the links cannot take yet waits in the senders' queues. */
  | 'sync'
  /** `chunk` records per turn of the event loop (`setImmediate` between chunks), as a source fed by I/O would. */
  | 'turns';

/** `args` of `initialize`, the same for every worker. */
export interface ExchangeArgs {
  readonly transport: 'shm' | 'port';
  /** Records each worker produces in the timed round. */
  readonly n: number;
  /** Records each worker produces in the warm-up round. */
  readonly warmup: number;
  readonly source: SourceMode;
  /** Records per turn (`turns` only). */
  readonly chunk: number;
}

/** What a round's check found in this worker. */
export interface RoundCheck {
  /** Records this worker received. */
  readonly received: number;
  /** Records it should have received (from all senders together). */
  readonly expected: number;
  /** The first problem seen, if any (misrouted, reordered, short count). */
  readonly problem: string | undefined;
}

/** Each worker's result, back on the main thread. */
export interface ExchangeResult {
  readonly index: number;
  readonly warmup: RoundCheck;
  readonly timed: RoundCheck;
  /** The timed round, ms, in this worker. */
  readonly elapsedMs: number;
}

export default async function exchangeBench(worker: WorkerContext, args: ExchangeArgs): Promise<ExchangeResult> {
  const keys = Array.from({ length: KEY_COUNT }, (_, i) => keyAt(i));
  const owner = keys.map((k) => route(k, worker.peers));
  const warmup = await round(worker, 'warm-up', args.warmup, args, keys, owner);
  const started = performance.now();
  const timed = await round(worker, 'timed', args.n, args, keys, owner);
  const elapsedMs = performance.now() - started;
  return { index: worker.index, warmup, timed, elapsedMs };
}

/** One round: `n` records from this worker through `exchange` on `channel`; resolves when the output completes. */
function round(
  worker: WorkerContext,
  channel: string,
  n: number,
  args: ExchangeArgs,
  keys: readonly string[],
  owner: readonly number[],
): Promise<RoundCheck> {
  const { index: me, peers } = worker;
  // Records each sender produces for this worker: `n` records cycle through the keys.
  const mineInCycle = owner.filter((o) => o === me).length;
  let fromEach = Math.floor(n / KEY_COUNT) * mineInCycle;
  for (let i = 0; i < n % KEY_COUNT; i++) if (owner[i] === me) fromEach++;

  const last = new Array<number>(peers).fill(-1);
  const counts = new Array<number>(peers).fill(0);
  let received = 0;
  let problem: string | undefined;
  const check = (r: Keyed) => {
    received++;
    const sender = r.value % peers;
    const i = (r.value - sender) / peers;
    counts[sender]++;
    if (problem) return;
    if (r.key !== keys[i & KEY_MASK]) problem = `record ${i} of worker ${sender} has key ${r.key}, not ${keys[i & KEY_MASK]}`;
    else if (owner[i & KEY_MASK] !== me) problem = `key ${r.key} (worker ${owner[i & KEY_MASK]}'s) arrived at worker ${me}`;
    else if (i <= last[sender]) problem = `record ${i} of worker ${sender} arrived after its record ${last[sender]}`;
    last[sender] = i;
  };

  const source = new Observable<Keyed>((subscriber) => {
    const base = me;
    if (args.source === 'sync') {
      for (let i = 0; i < n && !subscriber.closed; i++) subscriber.next({ key: keys[i & KEY_MASK], value: i * peers + base });
      subscriber.complete();
      return;
    }
    let i = 0;
    let timer: ReturnType<typeof setImmediate> | undefined;
    const emitChunk = () => {
      const end = Math.min(n, i + args.chunk);
      for (; i < end && !subscriber.closed; i++) subscriber.next({ key: keys[i & KEY_MASK], value: i * peers + base });
      if (i >= n) subscriber.complete();
      else if (!subscriber.closed) timer = setImmediate(emitChunk);
    };
    emitChunk();
    return () => {
      if (timer) clearImmediate(timer);
    };
  });

  return new Promise<RoundCheck>((resolve, reject) => {
    source.pipe(exchange({ worker, channel, codec: Keyed, key: (r) => r.key, transport: args.transport })).subscribe({
      next: check,
      error: reject,
      complete: () => {
        const expected = fromEach * peers;
        if (!problem) {
          const short = counts.findIndex((c) => c !== fromEach);
          if (short >= 0) problem = `${counts[short]} records from worker ${short}, expected ${fromEach}`;
        }
        resolve({ received, expected, problem });
      },
    });
  });
}
