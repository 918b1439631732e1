/**
 * The worker module of the WorkerPool tests; `args.mode` picks the program.
 * The codecs are exported for the spec.
 */
import { concatMap, count, lastValueFrom, map, range, throwError } from 'rxjs';
import { codec, type ValueOf } from '../../core/codec';
import type { PoolSender, PoolWorker } from '../../pool/types';

/** Down: `to` is the worker it was sent to, or -1 for a broadcast. */
export const Down = codec({
  type: 'record',
  name: 'Down',
  fields: [
    { name: 'seq', type: 'long' },
    { name: 'to', type: 'int' },
  ],
} as const);

/** Up: which worker sent it and its sequence number there (or the echoed `Down`). */
export const Mark = codec({
  type: 'record',
  name: 'Mark',
  fields: [
    { name: 'worker', type: 'int' },
    { name: 'seq', type: 'long' },
    { name: 'to', type: 'int' },
  ],
} as const);

export type Down = ValueOf<typeof Down>;
export type Mark = ValueOf<typeof Mark>;

/** Counters: slots 0..15 count sends begun, FULL.. FULL + 15 count full trySends. */
export const FULL = 16;
export const COUNTER_SLOTS = 32;

/** How a flooding worker sends. */
export type How = 'send' | 'try' | 'next';

export interface PoolArgs {
  mode: 'echo' | 'flood' | 'throw' | 'exit' | 'up-error' | 'up-huge';
  /** flood: values per worker. */
  count?: number;
  /** flood: per worker index, how it sends (default 'send'). */
  how?: How[];
  /**
   * flood: the buffer of an Int32Array of COUNTER_SLOTS. Slot `index` counts
   * the values worker `index` began to send (bumped before each send); slot
   * `FULL + index` counts the times its `trySend` found the queue full.
   */
  counters?: SharedArrayBuffer;
  /** throw / exit / up-error: the worker that fails. */
  failing?: number;
}

export interface FloodResult {
  index: number;
  sent: number;
  /** How many times `trySend` returned false. */
  full: number;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export default async function (worker: PoolWorker<Down, Mark>, args: PoolArgs) {
  const { index } = worker;
  switch (args.mode) {
    case 'echo': {
      // Every value down goes back up, tagged with this worker; the result is how many.
      const received = await lastValueFrom(
        worker.down$.pipe(
          concatMap((d) => worker.up.send({ worker: index, seq: d.seq, to: d.to })),
          count(),
        ),
      );
      return { index, received };
    }
    case 'flood': {
      const { count: n = 1000, how = [], counters } = args;
      const cells = new Int32Array(counters ?? new SharedArrayBuffer(COUNTER_SLOTS * 4));
      const mark = (seq: number): Mark => ({ worker: index, seq, to: -1 });
      const way = how[index] ?? 'send';
      let full = 0;
      if (way === 'next') {
        // The Observer path: queued here in order, forwarded as credits come.
        range(0, n)
          .pipe(map((seq) => (Atomics.add(cells, index, 1), mark(seq))))
          .subscribe(worker.up);
      } else {
        for (let seq = 0; seq < n; seq++) {
          Atomics.add(cells, index, 1); // before sending: the spec's clock of what may have arrived
          if (way === 'send') {
            await worker.up.send(mark(seq));
            continue;
          }
          while (!worker.up.trySend(mark(seq))) {
            full++;
            Atomics.add(cells, FULL + index, 1);
            await turn();
          }
        }
      }
      return { index, sent: n, full } satisfies FloodResult;
    }
    case 'throw': {
      if (index !== args.failing) return lastValueFrom(worker.down$, { defaultValue: undefined });
      for (let seq = 0; seq < 3; seq++) await worker.up.send({ worker: index, seq, to: -1 });
      throw new RangeError(`worker ${index} refuses`);
    }
    case 'exit': {
      if (index !== args.failing) return lastValueFrom(worker.down$, { defaultValue: undefined });
      await turn();
      process.exit(3);
    }
    case 'up-huge': {
      // The pool's up codec is `raw` here: five values of 100 bytes (the 256-byte ring holds two), then one of 300.
      const up = worker.up as unknown as PoolSender<Buffer>;
      for (let i = 0; i < 5; i++) up.next(Buffer.alloc(100, i));
      const refused = await up.send(Buffer.alloc(300)).then(
        () => 'sent',
        (err: Error) => err.name,
      );
      await up.send(Buffer.from([9]));
      return { index, refused };
    }
    case 'up-error': {
      if (index !== args.failing) return lastValueFrom(worker.down$, { defaultValue: undefined });
      throwError(() => new TypeError('the source failed')).subscribe(worker.up);
      return 'returned normally';
    }
  }
}
