/**
 * The server under fuzzing (spec/transports/tcp/fuzz.spec.ts), in a thread
 * of its own so its heap can be measured apart from the fuzzer's, and
 * bounded (the spec starts it with `resourceLimits`).
 *
 * Every connection gets two channels: `echo` (a Msg back with its text
 * upper-cased) and `sum` (a Nums back with one item, the sum). Every error
 * the server reports on `errors$`, and every error a channel or connection
 * ends with, is counted by name, with a separate count of those that are not
 * rxwire's own typed errors.
 *
 * Commands on parentPort:
 *   { cmd: 'stats' } → FuzzStats, after a full garbage collection
 *   { cmd: 'close' } → closes the server, answers { closed: true }, and the
 *                      thread exits by itself (nothing left on its loop)
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort } from 'node:worker_threads';
import { RxwireError } from '../../core/errors';
import { tcp } from '../../transports';
import { Msg, Nums, type FuzzStats } from '../fixtures/tcp-fuzz';

// A gc() of our own, so heap figures are of live objects, not of garbage
// waiting for a collection (the flag must be set before the context is made).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function main(): Promise<void> {
  const server = await tcp.listen({ port: 0, maxFrame: 256 * 1024 });
  const errors: Record<string, number> = {};
  const untyped: string[] = [];
  const count = (err: Error) => {
    errors[err.name] = (errors[err.name] ?? 0) + 1;
    if (!(err instanceof RxwireError) && untyped.length < 20) untyped.push(`${err.name}: ${err.message}`);
  };
  let accepted = 0;
  let live = 0;
  let echoed = 0;
  let summed = 0;
  server.errors$.subscribe(count);
  server.connections$.subscribe((conn) => {
    accepted++;
    live++;
    void conn.closed.then(() => live--);
    const echo = conn.open('echo', Msg);
    echo.subscribe({
      next: (m) => {
        echoed++;
        echo.next({ id: m.id, text: m.text.toUpperCase() });
      },
      error: count,
      complete: () => echo.complete(),
    });
    const sum = conn.open('sum', Nums);
    sum.subscribe({
      next: (n) => {
        summed++;
        sum.next({ id: n.id, xs: [n.xs.reduce((a, b) => (a + b) | 0, 0)] });
      },
      error: count,
      complete: () => sum.complete(),
    });
  });

  parentPort!.on('message', (msg: { cmd: 'stats' | 'close' }) => {
    if (msg.cmd === 'stats') {
      gc();
      const stats: FuzzStats = { heapUsed: process.memoryUsage().heapUsed, accepted, live, echoed, summed, errors: { ...errors }, untyped };
      parentPort!.postMessage(stats);
    } else {
      void server.close().then(() => {
        parentPort!.postMessage({ closed: true });
        parentPort!.close();
      });
    }
  });
  parentPort!.postMessage({ port: server.port });
}

void main();
