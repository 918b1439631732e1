/**
 * The worker module of the runtime's tests, run by `initialize` in every
 * config; `args.mode` picks the program.
 */
import { from, lastValueFrom, toArray, map, reduce } from 'rxjs';
import { exchange } from '../../operators/exchange';
import { codec } from '../../core/codec';
import type { WorkerContext } from '../../runtime/context';

const Mark = codec({
  type: 'record',
  name: 'Mark',
  fields: [
    { name: 'from', type: 'int' },
    { name: 'seq', type: 'long' },
  ],
} as const);

const Keyed = codec({
  type: 'record',
  name: 'Keyed',
  fields: [
    { name: 'key', type: 'string' },
    { name: 'from', type: 'int' },
    { name: 'seq', type: 'long' },
  ],
} as const);

export interface AllToAll {
  index: number;
  peers: number;
  /** Per sender: how many arrived, and whether they came 0, 1, 2, ... */
  perSender: { count: number; inOrder: boolean }[];
  completed: boolean;
}

/** What mode 'allocate-after' saw (Config.thread(): the worker runs in the test's thread). */
export const allocatedAfter: { outcome?: string } = {};

export default async function (worker: WorkerContext, args: { mode: string; count?: number; keys?: string }) {
  const { mode, count = 1000 } = args;
  switch (mode) {
    case 'all-to-all': {
      // Every worker sends `count` marks to every worker (itself included),
      // half with `next`, half with `await send`, then completes.
      const { senders, receiver } = worker.allocate('marks', Mark);
      const got = lastValueFrom(
        receiver.pipe(
          reduce(
            (acc, m) => {
              const s = acc[m.from];
              if (m.seq !== s.count) s.inOrder = false;
              s.count++;
              return acc;
            },
            Array.from({ length: worker.peers }, () => ({ count: 0, inOrder: true })),
          ),
        ),
        { defaultValue: [] },
      );
      for (let seq = 0; seq < count; seq++) {
        for (let peer = 0; peer < worker.peers; peer++) {
          const mark = { from: worker.index, seq };
          if (seq % 2 === 0) senders[peer].next(mark);
          else await senders[peer].send(mark);
        }
      }
      for (const sender of senders) sender.complete();
      const perSender = await got;
      return { index: worker.index, peers: worker.peers, perSender, completed: true } satisfies AllToAll;
    }
    case 'throw': {
      worker.allocate('marks', Mark);
      if (worker.index === 1 || worker.peers === 1) throw new RangeError(`worker ${worker.index} refuses`);
      return new Promise(() => {}); // the others would wait forever
    }
    case 'exit': {
      worker.allocate('marks', Mark);
      if (worker.index === 1) process.exit(2);
      return new Promise(() => {});
    }
    case 'bad-key':
      return from([1, 2, 3]).pipe(exchange({ worker, channel: 'bad', codec: codec('long'), key: () => ({}) as never }));
    case 'bad-key-0': {
      // Only worker 0's key fails (on its third value); the others fail because it did (its error, passed on).
      const key = (n: number) => {
        if (worker.index === 0 && n === 3) throw new RangeError('no key for 3');
        return n;
      };
      return lastValueFrom(from([1, 2, 3, 4]).pipe(exchange({ worker, channel: 'bad', codec: codec('long'), key }), toArray()));
    }
    case 'uncloneable':
      return () => 'a function cannot cross threads';
    case 'forever':
      worker.allocate('marks', Mark);
      return new Promise(() => {});
    case 'late': {
      // Worker 1 allocates, sends and returns at once; worker 0 allocates only after that (its function has settled).
      if (worker.index === 1) {
        const { senders } = worker.allocate('marks', Mark);
        senders[0].next({ from: 1, seq: 0 });
        senders[0].next({ from: 1, seq: 1 });
        for (const sender of senders) sender.complete();
        return 'sent';
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      const { senders, receiver } = worker.allocate('marks', Mark);
      for (const sender of senders) sender.complete();
      return lastValueFrom(receiver.pipe(toArray()));
    }
    case 'skip':
    case 'skip-late': {
      // Worker `args.count` returns without allocating the channel the others read; with skip-late, the others
      // allocate it only after 300 ms, once they have heard that it finished.
      if (worker.index === count) return 'skipped';
      if (mode === 'skip-late') await new Promise((resolve) => setTimeout(resolve, 300));
      return lastValueFrom(worker.allocate('marks', Mark).receiver, { defaultValue: null });
    }
    case 'allocate-after': {
      // Returns at once, then allocates (a careless worker that did not return its work's Promise): what that did.
      setTimeout(() => {
        try {
          worker.allocate('marks', Mark);
          allocatedAfter.outcome = 'allocated';
        } catch (err) {
          allocatedAfter.outcome = `${(err as Error).name}: ${(err as Error).message}`;
        }
      }, 50);
      return 'returned';
    }
    case 'allocate-twice': {
      worker.allocate('marks', Mark);
      worker.allocate('marks', Mark);
      return 'unreachable';
    }
    case 'keys': {
      // Every worker emits `count` values for each of `keys` keys (string or
      // numeric), exchanges them by key, and reports what it got per key:
      // for each (key, sender), the sequence numbers in arrival order.
      const numeric = args.keys === 'number';
      const { keyCount = 50 } = args as { keyCount?: number };
      const values = function* () {
        for (let seq = 0; seq < count; seq++) {
          for (let k = 0; k < keyCount; k++) {
            yield { key: numeric ? String(k * 7919 - 1000) : `key-${k}`, from: worker.index, seq };
          }
        }
      };
      const got = new Map<string, number[][]>();
      return from(values()).pipe(
        exchange({ worker, channel: 'keyed', codec: Keyed, key: (v) => (numeric ? Number(v.key) : v.key) }),
        reduce((acc, v) => {
          let perSender = acc.get(v.key);
          if (!perSender) acc.set(v.key, (perSender = Array.from({ length: worker.peers }, () => [])));
          perSender[v.from].push(v.seq);
          return acc;
        }, got),
        map((acc) => [...acc]),
      );
    }
    case 'observable': {
      const { senders, receiver } = worker.allocate('n', 'long');
      for (const s of senders) {
        s.next(worker.index);
        s.complete();
      }
      return receiver.pipe(toArray(), map((xs) => xs.sort()));
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}
