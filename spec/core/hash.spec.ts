import { keyHash, route, type KeyValue } from '../../core/hash';
import { exited, reapWorkers, report, spawn } from '../helpers';

afterEach(async () => {
  expect(await reapWorkers()).toBe(0);
});

/*
 * Pinned hashes. Every thread, process and machine of a cluster must route a
 * key to the same peer, so the function may never change silently: a change
 * here is a breaking change of the wire behaviour, not a test to update.
 */
const PINNED: [KeyValue, number][] = [
  ['', 0xab3e7c0b],
  ['a', 0x1a80b1b3],
  ['ACME', 0xef628625],
  ['hello world', 0xb90456ec],
  ['é漢😀', 0xc75cc003],
  [0, 0xd1c42572],
  [1, 0x3d782f37],
  [-1, 0x58435395],
  [42, 0xe4949d04],
  [2 ** 32, 0xd3618662],
  [-(2 ** 40), 0x6d49b8c0],
  [Number.MAX_SAFE_INTEGER, 0x6c9c271d],
  [1.5, 0xab454482],
  [-0.25, 0x6a409927],
  [Infinity, 0x6640806f],
  [-Infinity, 0x6580e8dc],
  [NaN, 0x59324e54],
  [2 ** 60, 0x15a627a6],
  [0n, 0x8e95b82c],
  [42n, 0xa113ad17],
  [-123456789012345678901234567890n, 0x9b7a5f5f],
  [true, 0x8c03471f],
  [false, 0xbcf51837],
];

const name = (key: KeyValue) => (typeof key === 'string' ? JSON.stringify(key) : `${String(key)}${typeof key === 'bigint' ? 'n' : ''}`);

/** Counts per bucket of `keyHash(key(i)) % buckets` for i in [0, n). */
function spread(n: number, buckets: number, key: (i: number) => KeyValue): number[] {
  const counts = new Array<number>(buckets).fill(0);
  for (let i = 0; i < n; i++) counts[keyHash(key(i)) % buckets]++;
  return counts;
}

describe('keyHash', () => {
  it.each(PINNED.map(([key, hash]) => [name(key), key, hash] as const))('hashes %s to its pinned value', (_, key, hash) => {
    expect(keyHash(key)).toBe(hash);
  });

  it('returns unsigned 32-bit integers', () => {
    for (const [key] of PINNED) {
      const h = keyHash(key);
      expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).toBe(true);
    }
  });

  it('hashes equal values equally, whatever object they came from', () => {
    expect(keyHash(-0)).toBe(keyHash(0));
    expect(keyHash(NaN)).toBe(keyHash(0 / 0));
    expect(keyHash(NaN)).toBe(keyHash(Number('not a number')));
    // A NaN with another payload (from its bits) is still the one NaN.
    const bits = new DataView(new ArrayBuffer(8));
    bits.setUint32(0, 0x7ff00001);
    bits.setUint32(4, 0xdeadbeef);
    const otherNaN = bits.getFloat64(0);
    expect(otherNaN).toBeNaN();
    expect(keyHash(otherNaN)).toBe(keyHash(NaN));
    // Strings built different ways; bigints from different sources.
    expect(keyHash(['AC', 'ME'].join(''))).toBe(keyHash('ACME'));
    expect(keyHash(String.fromCharCode(0x41, 0x43, 0x4d, 0x45))).toBe(keyHash('ACME'));
    expect(keyHash(BigInt('42'))).toBe(keyHash(42n));
    expect(keyHash(2 ** 53 - 1)).toBe(keyHash(Number.MAX_SAFE_INTEGER));
    expect(keyHash(0.1 + 0.2)).toBe(keyHash(0.30000000000000004));
  });

  it('tells apart values that differ only in type or sign', () => {
    const keys: KeyValue[] = [0, 1, -1, '0', '1', 0n, 1n, true, false, 'true', 2 ** 32, 1.5, -1.5, 2 ** 60, -(2 ** 60)];
    expect(new Set(keys.map(keyHash)).size).toBe(keys.length);
  });

  // ±2% of a quarter: each bucket holds 24.5% to 25.5% of the keys.
  it.each([
    ['100k distinct strings', (i: number) => `user-${i}`],
    ['100k consecutive integers', (i: number) => i],
    ['100k integers far from 0', (i: number) => -(2 ** 40) + i * 65536],
    ['100k fractions', (i: number) => i / 8],
  ])('spreads %s evenly over 4 buckets', (_, key) => {
    const n = 100_000;
    for (const count of spread(n, 4, key)) {
      expect(Math.abs(count / n - 0.25)).toBeLessThanOrEqual(0.25 * 0.02);
    }
  });

  it('throws a TypeError naming the type for anything else', () => {
    const message = 'keyHash: a key must be a string, number, bigint or boolean, got';
    expect(() => keyHash({} as never)).toThrow(new TypeError(`${message} object`));
    expect(() => keyHash(undefined as never)).toThrow(new TypeError(`${message} undefined`));
    expect(() => keyHash(null as never)).toThrow(/got null$/);
    expect(() => keyHash(Symbol('k') as never)).toThrow(/got symbol$/);
    expect(() => keyHash(new String('ACME') as never)).toThrow(TypeError);
  });

  it('computes the same hashes in a worker thread', async () => {
    const mixed = Array.from({ length: 1000 }, (_, i) => (i % 2 ? `k${i}` : i * 7919 - 3e6));
    const keys: KeyValue[] = [...PINNED.map(([key]) => key), -0, ...mixed];
    const worker = spawn('hash', { keys });
    expect(await report<number[]>(worker)).toEqual(keys.map(keyHash));
    expect(await exited(worker)).toBe(0);
  });
});

describe('route', () => {
  it('is keyHash modulo peers', () => {
    for (const [key, hash] of PINNED) {
      expect(route(key, 1)).toBe(0);
      expect(route(key, 7)).toBe(hash % 7);
    }
  });

  it('refuses a peer count that is not a positive integer', () => {
    for (const peers of [0, -1, 1.5, NaN, Infinity]) expect(() => route('k', peers)).toThrow(RangeError);
  });
});
