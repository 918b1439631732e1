/**
 * A stable hash of a routing key: the same key value gives the same 32-bit
 * hash in every thread, process and machine, so `exchange` and keyed stages
 * agree on which worker a key belongs to (`keyHash(k) % peers`).
 *
 * Contract. The hash depends on the key's value only, never on object
 * identity, insertion order, the V8 version or the byte order of the machine.
 * Changing any constant below re-routes every key of a running cluster: the
 * values are pinned by spec/core/hash.spec.ts.
 *
 * - string: FNV-1a over its UTF-16 code units, then murmur3's `fmix32`
 *   avalanche, so `% n` spreads well even for small `n`.
 * - number: a safe integer from its 64-bit two's-complement value (low and
 *   high 32 bits mixed; `-0` is the integer 0); any other number from its
 *   IEEE-754 float64 bits, every NaN as one NaN.
 * - bigint: its decimal string, with a seed of its own (`5n` and `'5'` differ).
 * - boolean: two constants.
 */

/** A value `keyHash` accepts: a key that is equal across threads by value. */
export type KeyValue = string | number | bigint | boolean;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** FNV offset for bigints: a string and a bigint with the same digits hash apart. */
const BIGINT_OFFSET = FNV_OFFSET ^ 0x9e3779b9;
/** Seeds of the two number paths, so an integer and a float with equal words hash apart. */
const INT_SEED = 0x1b873593;
const FLOAT_SEED = 0x5bd1e995;
const TRUE_HASH = fmix32(0x27d4eb2f);
const FALSE_HASH = fmix32(0x165667b1);
const NAN_HASH = fmix32(FLOAT_SEED ^ 0x7ff80000);
const TWO_32 = 4294967296;

/*
 * Scratch for a float's bits, module-level so hashing a number allocates
 * nothing. It holds no state between calls (each call writes before it
 * reads, and JS runs one call at a time per thread). A DataView with an
 * explicit byte order, not a Uint32Array over a Float64Array, so the low and
 * high words are the same on a big-endian machine.
 */
const floatBits = new DataView(new ArrayBuffer(8));

/**
 * The stable 32-bit hash of a routing key.
 *
 * ## Example
 * ```ts
 * import { keyHash } from 'rxwire';
 * keyHash('ACME');  // the same unsigned 32-bit integer in every thread and process
 * ```
 *
 * @param key a string, number, bigint or boolean
 * @returns an unsigned 32-bit integer
 * @throws TypeError when `key` is of any other type
 */
export function keyHash(key: KeyValue): number {
  switch (typeof key) {
    case 'string':
      return fmix32(fnv1a(key, FNV_OFFSET));
    case 'number':
      return numberHash(key);
    case 'bigint':
      return fmix32(fnv1a(key.toString(), BIGINT_OFFSET));
    case 'boolean':
      return key ? TRUE_HASH : FALSE_HASH;
    default:
      throw new TypeError(`keyHash: a key must be a string, number, bigint or boolean, got ${key === null ? 'null' : typeof key}`);
  }
}

/**
 * The peer a key is routed to: `keyHash(key) % peers`.
 *
 * ## Example
 * ```ts
 * import { route } from 'rxwire';
 * route('ACME', 4);  // 0, 1, 2 or 3, the same everywhere
 * ```
 *
 * @param key a string, number, bigint or boolean
 * @param peers how many peers share the keys, a positive integer
 * @returns an integer from 0 to `peers - 1`
 * @throws TypeError when `key` is not a KeyValue
 * @throws RangeError when `peers` is not a positive integer
 */
export function route(key: KeyValue, peers: number): number {
  if (!Number.isInteger(peers) || peers < 1) throw new RangeError('route: peers must be a positive integer');
  return keyHash(key) % peers;
}

function fnv1a(s: string, offset: number): number {
  let h = offset;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h;
}

function numberHash(n: number): number {
  if (Number.isSafeInteger(n)) {
    // `>>> 0` is the value modulo 2^32 (ToUint32), and the floor division the
    // high word, so -1 gives 0xffffffff / -1 as in 64-bit two's complement.
    // -0 lands here as 0 in both words.
    return fmix32(mixWord(mixWord(INT_SEED, n >>> 0), Math.floor(n / TWO_32) >>> 0) ^ 8);
  }
  if (n !== n) return NAN_HASH;
  floatBits.setFloat64(0, n, true);
  return fmix32(mixWord(mixWord(FLOAT_SEED, floatBits.getUint32(0, true)), floatBits.getUint32(4, true)) ^ 8);
}

/** One 32-bit block of murmur3: mixes `k` into `h`. */
function mixWord(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** murmur3's finaliser: every input bit affects every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
