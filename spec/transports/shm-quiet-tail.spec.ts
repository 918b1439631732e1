/**
 * What keeps an shm round trip's tail short, as rules that can be checked
 * without a clock (speed itself is the bench's business):
 *   - a ring's pages are mapped when it is made (`prefault`), not one fault
 *     per 4 KiB on its first lap;
 *   - the pump hops through as few microtasks after a delivery as the
 *     answers need (each hop is garbage), probing the full depth every 64
 *     deliveries.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Pump, type Step } from '../../transports/shm/wait';
import { shm } from '../../transports';

const run = promisify(execFile);

const root = join(__dirname, '..', '..');
const RING_RSS = join(root, 'spec', 'workers', 'ring-rss.process.ts');
const MIB = 1 << 20;

/** RSS growth per ring made, measured in a fresh process that forces a GC before each (see the script). */
async function ringRssGrowth(): Promise<Record<'ringLazy' | 'ringMapped' | 'pairLazy' | 'pairMapped', number>> {
  const args = ['--expose-gc', '-r', 'ts-node/register/transpile-only', RING_RSS, String(64 * MIB)];
  const { stdout } = await run(process.execPath, args, { cwd: root, timeout: 60_000 });
  return JSON.parse(stdout);
}

describe('ring prefault', () => {
  // 64 MiB: above glibc's largest mmap threshold, so each ring is fresh zeroed pages, never a reused heap block.
  it('maps every page of a ring when it is made, by default; prefault: false leaves them to the first lap; shm.pair passes it to both rings', async () => {
    const growth = await ringRssGrowth();
    // Each measurement is within ~4 MB of the ring's own pages (freed heap pages show as less): margins of 8–16 MiB.
    expect(growth.ringMapped).toBeGreaterThan(56 * MIB);
    expect(growth.ringLazy).toBeLessThan(8 * MIB);
    expect(growth.pairMapped).toBeGreaterThan(112 * MIB);
    expect(growth.pairLazy).toBeLessThan(16 * MIB);
  }, 70_000);

  it('a prefault that is not a boolean is a TypeError naming the option', () => {
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
