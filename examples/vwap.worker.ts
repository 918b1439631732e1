/**
 * The worker side of the VWAP demo (started by `vwap.ts`). It reads trades
 * from one WireSubject, computes each symbol's VWAP, volume and trade count
 * with ordinary RxJS operators, and streams one record per symbol back on a
 * second WireSubject. Nothing here knows about ports, shared memory or bytes:
 * `open` takes an end of either transport (`--transport shm|port` in
 * `vwap.ts`), and a WireSubject is an Observable to read and an Observer to write.
 *
 * When the trades complete, `reduce` emits, `subscribe(results)` sends the
 * records and completes the results wire; with both wires done the thread
 * has nothing left to do and exits by itself.
 */
import { workerData } from 'node:worker_threads';
import { groupBy, map, mergeMap, reduce } from 'rxjs';
import { open } from '../index'; // in your app: from 'rxwire'
import { SymbolStats, Trade } from './trade';

const trades = open(workerData.trades, Trade);
const results = open(workerData.results, SymbolStats);

trades
  .pipe(
    groupBy((trade) => trade.sym),
    mergeMap((bySymbol) =>
      bySymbol.pipe(
        reduce(
          (sum, trade) => ({
            notional: sum.notional + trade.price * trade.qty,
            volume: sum.volume + trade.qty,
            trades: sum.trades + 1,
          }),
          { notional: 0, volume: 0, trades: 0 },
        ),
        map((sum): SymbolStats => ({
          sym: bySymbol.key,
          vwap: sum.notional / sum.volume,
          volume: sum.volume,
          trades: sum.trades,
        })),
      ),
    ),
  )
  .subscribe(results);
