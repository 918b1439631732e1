/**
 * The Trade record every suite measures, and a fixed pool of distinct trades
 * that the cases cycle through, so case and baseline move the same objects.
 */
import { Trade } from '../examples/trade';

/** The Trade record of the issues: the demo's own schema, defined once. */
export { Trade };

/** Trades in the pool; a power of two, so `i & POOL_MASK` picks one. */
export const POOL_SIZE = 4096;
export const POOL_MASK = POOL_SIZE - 1;

const SYMBOLS = ['ACME', 'GLOBEX', 'INITECH', 'UMBRELLA', 'HOOLI', 'STARK', 'WAYNE', 'TYRELL'];

/** The i-th trade of a deterministic sequence; `id` is `i`. */
export function tradeAt(i: number): Trade {
  return {
    id: i,
    ts: 1_700_000_000_000 + i * 0.25,
    sym: SYMBOLS[i % SYMBOLS.length],
    price: 100 + (i % 1000) / 100,
    qty: 1 + (i % 50),
  };
}

/** `POOL_SIZE` distinct trades; the one at `i & POOL_MASK` has id `i & POOL_MASK`. */
export function tradePool(): Trade[] {
  return Array.from({ length: POOL_SIZE }, (_, i) => tradeAt(i));
}
