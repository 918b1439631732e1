/**
 * One worker for the port transport's tests; `workerData.mode` picks the
 * behaviour. Reports for the test go over `parentPort` as plain messages, so
 * the transport under test carries nothing but its own traffic.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { interval, map, take } from 'rxjs';
import { codec } from '../../core/codec';
import { open } from '../../transports/open';
import { Trade, tradeAt } from '../fixtures/trade';

const { mode, end, count = 0 } = workerData as { mode: string; end: never; count?: number };
const report = (message: unknown) => parentPort!.postMessage(message);

switch (mode) {
  case 'echo': {
    const wire = open(end, Trade);
    wire.subscribe(wire);
    break;
  }
  case 'verify': {
    // Receives trades, checks they are 0, 1, 2, ... and reports what it saw.
    const wire = open(end, Trade);
    let expected = 0;
    let wrong = 0;
    let qty = 0;
    wire.subscribe({
      next: (t) => {
        if (t.id !== expected || t.sym !== tradeAt(expected).sym) wrong++;
        qty += t.qty;
        expected++;
      },
      complete: () => report({ received: expected, wrong, qty }),
      error: (err) => report({ error: { name: err.name, message: err.message, code: err.code } }),
    });
    break;
  }
  case 'slow': {
    // Reads trades slowly (a little busy work each), checks their order, reports.
    const wire = open(end, Trade);
    let expected = 0;
    let wrong = 0;
    wire.subscribe({
      next: (t) => {
        if (t.id !== expected++) wrong++;
        const until = performance.now() + 0.01;
        while (performance.now() < until);
      },
      complete: () => report({ received: expected, wrong }),
    });
    break;
  }
  case 'produce': {
    // Sends `count` trades with backpressure, then completes.
    const wire = open(end, Trade);
    (async () => {
      for (let i = 0; i < count; i++) await wire.send(tradeAt(i));
      wire.complete();
    })().catch((err) => report({ error: { name: err.name, message: err.message } }));
    break;
  }
  case 'fail': {
    // Fails its stream with a coded error after two values.
    const wire = open(end, Trade);
    wire.next(tradeAt(0));
    wire.next(tradeAt(1));
    wire.error(Object.assign(new TypeError('price feed went away'), { code: 'E_FEED' }));
    break;
  }
  case 'throw': {
    // Throws (uncaught) on the first value it receives.
    const wire = open(end, Trade);
    wire.subscribe(() => {
      setImmediate(() => {
        throw new RangeError('enrichment blew up');
      });
    });
    break;
  }
  case 'lastTurn': {
    // Once its link is up, writes 50 trades and ends its thread in that same turn (exit 5, or an uncaught throw).
    const wire = open(end, Trade);
    wire.next(tradeAt(0));
    setTimeout(() => {
      for (let i = 1; i <= 50; i++) wire.next(tradeAt(i));
      if (workerData.how === 'exit') process.exit(5);
      throw new Error('the last turn');
    }, 200);
    break;
  }
  case 'forever': {
    // Produces until the reader stops it, then reports how sending ended.
    const wire = open(end, Trade);
    (async () => {
      for (let i = 0; ; i++) await wire.send(tradeAt(i));
    })().catch((err) => report({ stoppedWith: err.name, code: err.code }));
    break;
  }
  case 'ticker': {
    // A slow source piped into the wire with `next`; it must stop when the reader leaves.
    const wire = open(end, Trade);
    const sub = interval(1).pipe(map(tradeAt), take(100_000)).subscribe(wire);
    const check = setInterval(() => {
      if (wire.stats().dropped > 0) {
        sub.unsubscribe();
        clearInterval(check);
        report({ dropped: true });
      }
    }, 5);
    break;
  }
  case 'parent': {
    // The worker's parentPort itself as the end: echo upper-cased strings.
    const wire = open(parentPort!, codec('string'));
    wire.pipe(map((s) => s.toUpperCase())).subscribe(wire);
    break;
  }
  default:
    throw new Error(`unknown mode ${mode}`);
}
