/**
 * The heavy step of the risk demo (`risk.ts`): a small Monte Carlo price of a
 * one-month option on each trade, deterministic (a seeded generator per
 * trade), so the main thread and the workers compute the same numbers. It
 * costs tens of microseconds a trade: the kind of `map` that makes a
 * pipeline outgrow one thread.
 */
import { codec, type Infer } from '../index'; // in your app: from 'rxwire'
import type { Trade } from './trade';

const scoredSchema = {
  type: 'record',
  name: 'Scored',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'sym', type: 'string' },
    { name: 'notional', type: 'double' },
    { name: 'option', type: 'double' }, // simulated value of a 1-month at-the-money call on the position
  ],
} as const;

export type Scored = Infer<typeof scoredSchema>;
export const Scored = codec(scoredSchema);

const PATHS = 32;
const STEPS = 21; // trading days in a month
const VOL = 0.3 / Math.sqrt(252);

/** Prices a month's call on the trade's position along PATHS seeded paths. */
export function score(trade: Trade): Scored {
  let state = (trade.id * 2654435761 + 1) >>> 0;
  const uniform = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return (state + 0.5) / 0x100000000;
  };
  let payoff = 0;
  for (let path = 0; path < PATHS; path++) {
    let price = trade.price;
    for (let step = 0; step < STEPS; step++) {
      // Box–Muller: one normal draw per step.
      const normal = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
      price *= Math.exp(VOL * normal - (VOL * VOL) / 2);
    }
    payoff += Math.max(price - trade.price, 0);
  }
  return { id: trade.id, sym: trade.sym, notional: trade.price * trade.qty, option: (payoff / PATHS) * trade.qty };
}
