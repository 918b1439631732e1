/**
 * What keeps an shm round trip's tail short, as rules that can be checked
 * without a clock (speed itself is the bench's business):
 *   - a ring's pages are mapped when it is made (`prefault`), not one fault
 *     per 4 KiB on its first lap;
 *   - the pump hops through as few microtasks after a delivery as the
 *     answers need (each hop is garbage), probing the full depth every 64
 *     deliveries.
 */
import { Pump, type Step } from '../../transports/shm/wait';
import { shm } from '../../transports';

const MIB = 1 << 20;

/** RSS growth (bytes) while `make` runs; the rings it makes are kept alive until measured. */
function rssGrowth(make: () => unknown): number {
  const before = process.memoryUsage().rss;
  const kept = make();
  const grown = process.memoryUsage().rss - before;
  expect(kept).toBeDefined();
  return grown;
}

describe('ring prefault', () => {
  it('maps every page of a ring when it is made, by default; prefault: false leaves them to the first lap', () => {
    // 64 MiB: above glibc's largest mmap threshold, so each ring is fresh zeroed pages, never a reused heap block.
    const lazy = rssGrowth(() => shm.ring({ bytes: 64 * MIB, prefault: false }));
    const mapped = rssGrowth(() => shm.ring({ bytes: 64 * MIB }));
    expect(mapped).toBeGreaterThan(56 * MIB);
    expect(lazy).toBeLessThan(8 * MIB);
  });

  it('shm.pair passes prefault to both rings, and a wrong type is a TypeError naming the option', () => {
    const lazy = rssGrowth(() => shm.pair({ bytes: 64 * MIB, prefault: false }));
    const mapped = rssGrowth(() => shm.pair({ bytes: 64 * MIB, prefault: true }));
    expect(mapped).toBeGreaterThan(112 * MIB);
    expect(lazy).toBeLessThan(16 * MIB);
    expect(() => shm.pair({ prefault: 'yes' as unknown as boolean })).toThrow(new TypeError('options.prefault must be a boolean'));
    expect(() => shm.ring({ prefault: 1 as unknown as boolean })).toThrow(TypeError);
  });
});

/**
 * Drives a Pump whose every step delivers (until `deliveries`), and whose
 * reading half publishes something at hop `publishAt` after each delivery
 * (0: never); resolves with the number of hops after each delivery.
 */
function hopsPerDelivery(publishAt: number, deliveries: number): Promise<number[]> {
  return new Promise((resolve) => {
    const counts: number[] = [];
    let hops = 0;
    let delivered = 0;
    const header = new Int32Array(new SharedArrayBuffer(16));
    const step = (): Step => {
      if (delivered > 0) counts.push(hops);
      hops = 0;
      if (delivered === deliveries) {
        resolve(counts);
        return 'done';
      }
      delivered++;
      return 'progress';
    };
    const hopped = (): boolean => ++hops === publishAt;
    const pump = new Pump(
      header,
      { strategy: 'auto', spinMicros: 50, sliceMs: 100, keepAlive: false },
      step,
      () => true,
      () => ({ index: 0, waiters: 1 }),
      hopped,
    );
    pump.start();
  });
}

describe('microtask hops after a delivery', () => {
  it('start at 16; a reading half that answers at the first hop gets 2 after the first probe, and every 64th delivery probes 16 again', async () => {
    const counts = await hopsPerDelivery(1, 300);
    expect(counts.slice(0, 64)).toEqual(new Array(64).fill(16));
    for (let k = 64; k < 300; k++) expect([k, counts[k]]).toEqual([k, (k + 1) % 64 === 0 ? 16 : 2]);
  });

  it('an answer at hop 5 (an await chain) gets 10; one deeper than 8 gets all 16; none at all gets 2', async () => {
    expect((await hopsPerDelivery(5, 200)).slice(64, 127)).toEqual(new Array(63).fill(10));
    expect((await hopsPerDelivery(9, 200)).slice(64, 127)).toEqual(new Array(63).fill(16));
    expect((await hopsPerDelivery(0, 200)).slice(64, 127)).toEqual(new Array(63).fill(2));
  });
});
