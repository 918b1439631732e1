/**
 * The two record types of the VWAP demo (`vwap.ts`, `vwap.worker.ts`), in one
 * module so the main thread and the worker share a single definition. Each
 * schema is written once, `as const`, and its TypeScript type follows from it.
 */
import { codec, type Infer } from '../index'; // in your app: from 'rxwire'

const tradeSchema = {
  type: 'record',
  name: 'Trade',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'ts', type: 'double' }, // epoch milliseconds
    { name: 'sym', type: 'string' },
    { name: 'price', type: 'double' },
    { name: 'qty', type: 'int' },
  ],
} as const;

const symbolStatsSchema = {
  type: 'record',
  name: 'SymbolStats',
  fields: [
    { name: 'sym', type: 'string' },
    { name: 'vwap', type: 'double' }, // sum(price * qty) / sum(qty)
    { name: 'volume', type: 'long' }, // sum(qty)
    { name: 'trades', type: 'int' },
  ],
} as const;

/** One trade: main thread → worker. */
export type Trade = Infer<typeof tradeSchema>;
export const Trade = codec(tradeSchema);

/** One symbol's result: worker → main thread. */
export type SymbolStats = Infer<typeof symbolStatsSchema>;
export const SymbolStats = codec(symbolStatsSchema);
