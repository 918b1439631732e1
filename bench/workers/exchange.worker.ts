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
 * Check (both rounds): bench/keyed.ts, shared with the suite's floor
 * (bench/workers/floor-exchange.worker.ts), which does the same work bare.
 */
import { Observable } from 'rxjs';
import { codec, type WorkerContext } from '../../index';
import { exchange } from '../../operators';
import { KEY_MASK, keyTable, keyedChecker, keyedSchema, type Keyed, type RoundCheck } from '../keyed';

/** The record routed (bench/keyed.ts), with rxwire's codec. */
const KeyedCodec = codec(keyedSchema);

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

/** Each worker's result, back on the main thread. */
export interface ExchangeResult {
  readonly index: number;
  readonly warmup: RoundCheck;
  readonly timed: RoundCheck;
  /** The timed round, ms, in this worker. */
  readonly elapsedMs: number;
}

export default async function exchangeBench(worker: WorkerContext, args: ExchangeArgs): Promise<ExchangeResult> {
  const { keys, owner } = keyTable(worker.peers);
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
  const checker = keyedChecker(me, peers, n, keys, owner);

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
    source.pipe(exchange({ worker, channel, codec: KeyedCodec, key: (r) => r.key, transport: args.transport })).subscribe({
      next: checker.check,
      error: reject,
      complete: () => resolve(checker.result()),
    });
  });
}
