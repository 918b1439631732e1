/**
 * The exchange suite's records and their check, shared by its rxwire worker
 * (bench/workers/exchange.worker.ts) and its floor (bench/workers/floor-exchange.worker.ts),
 * so both do the same work per record: the same schema, keys and owner
 * table, and the same check of what arrived.
 *
 * Record i of worker w carries `value = i * peers + w` and key
 * `keys[i & KEY_MASK]`; a worker must receive only keys it owns
 * (`route(key, peers)`), each sender's values in increasing order, and from
 * each sender exactly as many as that sender produced for it. Strictly
 * increasing values drawn from a set, as many as the set holds, are the set:
 * nothing lost, repeated, reordered or misrouted.
 */
import { route } from '../core/hash';

export const keyedSchema = {
  type: 'record',
  name: 'Keyed',
  fields: [
    { name: 'key', type: 'string' },
    { name: 'value', type: 'long' },
  ],
} as const;

/** Workers in every exchange case, and in its floor (two workers, a ring each way). */
export const EXCHANGE_PEERS = 2;

/** Sizes of one exchange repetition, per worker. */
export interface ExchangeSize {
  /** Records each worker produces in the timed round. */
  readonly n: number;
  /** Records each worker produces in the untimed warm-up round. */
  readonly warmup: number;
}

/** The record routed: a short string key and a long. */
export interface Keyed {
  key: string;
  value: number;
}

/**
 * Keys cycle through this many distinct strings: few enough to stay in the
 * caches, many enough that routing is real work (not one branch predicted).
 */
export const KEY_COUNT = 4096;
export const KEY_MASK = KEY_COUNT - 1;

/** The i-th key (`key-0042`); the same in every worker. */
export function keyAt(i: number): string {
  return `key-${String(i & KEY_MASK).padStart(4, '0')}`;
}

/** Every key, and the worker each one is routed to among `peers`. */
export function keyTable(peers: number): { readonly keys: readonly string[]; readonly owner: readonly number[] } {
  const keys = Array.from({ length: KEY_COUNT }, (_, i) => keyAt(i));
  return { keys, owner: keys.map((k) => route(k, peers)) };
}

/** What a round's check found in one worker. */
export interface RoundCheck {
  /** Records this worker received. */
  readonly received: number;
  /** Records it should have received (from all senders together). */
  readonly expected: number;
  /** The first problem seen, if any (misrouted, reordered, short count). */
  readonly problem: string | undefined;
}

/** A round's check in worker `me`: `check` each record received, then `result()`. */
export interface KeyedChecker {
  /** Records each sender produces for this worker in the round (itself included). */
  readonly fromEach: number;
  check(r: Keyed): void;
  result(): RoundCheck;
}

/** The check of one round of `n` records per worker, in worker `me` of `peers`. */
export function keyedChecker(me: number, peers: number, n: number, keys: readonly string[], owner: readonly number[]): KeyedChecker {
  const mineInCycle = owner.filter((o) => o === me).length;
  let fromEach = Math.floor(n / KEY_COUNT) * mineInCycle;
  for (let i = 0; i < n % KEY_COUNT; i++) if (owner[i] === me) fromEach++;

  const last = new Array<number>(peers).fill(-1);
  const counts = new Array<number>(peers).fill(0);
  let received = 0;
  let problem: string | undefined;
  return {
    fromEach,
    check(r: Keyed): void {
      received++;
      const sender = r.value % peers;
      const i = (r.value - sender) / peers;
      counts[sender]++;
      if (problem) return;
      if (r.key !== keys[i & KEY_MASK]) problem = `record ${i} of worker ${sender} has key ${r.key}, not ${keys[i & KEY_MASK]}`;
      else if (owner[i & KEY_MASK] !== me) problem = `key ${r.key} (worker ${owner[i & KEY_MASK]}'s) arrived at worker ${me}`;
      else if (i <= last[sender]) problem = `record ${i} of worker ${sender} arrived after its record ${last[sender]}`;
      last[sender] = i;
    },
    result(): RoundCheck {
      if (!problem) {
        const short = counts.findIndex((c) => c !== fromEach);
        if (short >= 0) problem = `${counts[short]} records from worker ${short}, expected ${fromEach}`;
      }
      return { received, expected: fromEach * peers, problem };
    },
  };
}

/** Throws unless every worker got exactly what it should have and the totals add up to `peers × n`. */
export function checkRound<R extends { readonly index: number }>(results: readonly R[], name: string, n: number, of: (r: R) => RoundCheck, peers = EXCHANGE_PEERS): number {
  const problems: string[] = [];
  let total = 0;
  for (const result of results) {
    const round = of(result);
    total += round.received;
    if (round.problem) problems.push(`worker ${result.index}: ${round.problem}`);
    else if (round.received !== round.expected) problems.push(`worker ${result.index}: received ${round.received}, expected ${round.expected}`);
  }
  if (total !== peers * n) problems.push(`${total} records received in all, ${peers * n} sent`);
  if (problems.length > 0) throw new Error(`exchange ${name} round: ${problems.join('; ')}`);
  return total;
}
