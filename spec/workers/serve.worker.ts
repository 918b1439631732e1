/**
 * A request/reply server for spec/operators/request.spec.ts. The request's
 * `op` picks what the handler does; reports for the test (a signal fired, a
 * stream stopped) go over `parentPort`, so the wire carries only its own traffic.
 *
 * workerData: `end`, `concurrency` (of `serve`), `stopAfter` (the server's
 * incoming stream completes after that many envelopes: "told to stop"),
 * `maxQueue` and `windowBytes` (of the server's wire; `windowBytes` on a port end only).
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { EMPTY, Observable, finalize, interval, map, range, take } from 'rxjs';
import { codec, type ValueOf } from '../../core/codec';
import { open } from '../../transports/open';
import { rpcCodec } from '../../operators/request-internals';
import { serve } from '../../operators/serve';

/** The request of these tests (the spec imports it from here; only a worker thread serves). */
export const Ask = codec({
  type: 'record',
  name: 'Ask',
  fields: [
    { name: 'op', type: 'string' },
    { name: 'n', type: 'long' },
    { name: 'ms', type: 'int' },
  ],
} as const);
export type AskValue = ValueOf<typeof Ask>;
/** The reply of these tests. */
export const Answer = codec('long');

const report = (message: unknown) => parentPort!.postMessage(message);

let active = 0;
let maxActive = 0;
/** What the 'random' handlers did: started, settled (replied or failed), stopped by their signal. */
const random = { started: 0, settled: 0, aborted: 0 };

const delay = <T>(ms: number, signal: AbortSignal, value: () => T): Promise<T> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      try {
        resolve(value());
      } catch (err) {
        reject(err);
      }
    }, ms);
    signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  });

function handle(q: AskValue, signal: AbortSignal): number | Promise<number> | Observable<number> {
  signal.addEventListener('abort', () => {
    if (q.op !== 'random') report({ aborted: q.n });
  });
  switch (q.op) {
    case 'double':
      return q.n * 2;
    case 'promise':
      return delay(q.ms, signal, () => q.n + 1);
    case 'stream':
      // q.n values, one a millisecond; n = 0: forever.
      return interval(1).pipe(
        q.n > 0 ? take(q.n) : map((i) => i),
        finalize(() => report({ streamStopped: q.n })),
      );
    case 'range':
      // q.n values at once, synchronously: far more than the wire holds.
      return range(0, q.n).pipe(finalize(() => report({ streamStopped: q.n })));
    case 'empty':
      // A streamed reply with no value: COMPLETE alone.
      return EMPTY;
    case 'fail':
      throw Object.assign(new TypeError(`no price for ${q.n}`), { code: 'E_PRICE' });
    case 'failOddText':
      // Text the codec refuses in any string (a lone surrogate): the failure must still reach the client.
      throw new Error(`no user named "ab\uD83D" (${q.n})`);
    case 'reject':
      return delay(q.ms, signal, () => {
        throw new RangeError('too late');
      });
    case 'hang':
      return new Promise<number>(() => {});
    case 'exit':
      process.exit(3);
    case 'random':
      // ms: the delay; n < 0: fail, else reply n.
      random.started++;
      signal.addEventListener('abort', () => random.aborted++, { once: true });
      return delay(q.ms, signal, () => {
        random.settled++;
        if (q.n < 0) throw new Error(`failed ${q.n}`);
        return q.n;
      });
    case 'randomStats':
      report({ random: { ...random } });
      return 0;
    case 'busy': {
      // Counts handlers running at once, for the concurrency bound.
      active++;
      maxActive = Math.max(maxActive, active);
      return delay(q.ms, signal, () => q.n).finally(() => active--);
    }
    case 'maxActive':
      return maxActive;
    default:
      throw new Error(`unknown op ${q.op}`);
  }
}

if (!isMainThread) {
  const { end, concurrency, stopAfter, maxQueue, windowBytes } = workerData as {
    end: never;
    concurrency?: number;
    stopAfter?: number;
    maxQueue?: number;
    windowBytes?: number;
  };
  const wire = open(end, rpcCodec(), windowBytes === undefined ? { maxQueue } : { maxQueue, windowBytes });
  const incoming = stopAfter === undefined ? wire : wire.pipe(take(stopAfter));
  incoming.pipe(serve(handle, { request: Ask, reply: Answer, concurrency })).subscribe(wire);
}
