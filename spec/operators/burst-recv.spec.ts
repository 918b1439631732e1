import {
  EMPTY,
  NEVER,
  Observable,
  Subject,
  asapScheduler,
  queueScheduler,
  concat,
  lastValueFrom,
  map,
  of,
  range,
  take,
  throwError,
  toArray,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { codec } from '../../core/codec';
import { open } from '../../transports/open';
import { burstRecv } from '../../operators/burst-recv';
import { TRANSPORTS, exited, pairOf, reapWorkers, report, spawnWith, tick, until } from '../helpers';

afterEach(async () => {
  expect(await reapWorkers()).toBe(0);
});

/** Subscribes and records bursts, a copy of each as emitted, and the ending. */
function record<T>(source: Observable<T[]>) {
  const bursts: T[][] = [];
  const asEmitted: T[][] = [];
  const seen = { completed: false, error: undefined as unknown };
  const subscription = source.subscribe({
    next: (burst) => {
      bursts.push(burst);
      asEmitted.push([...burst]);
    },
    error: (err) => (seen.error = err),
    complete: () => (seen.completed = true),
  });
  return { bursts, asEmitted, seen, subscription };
}

/** Busy work for about `ms` milliseconds. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('burstRecv on any Observable', () => {
  it('keeps emitting bursts with a scheduler that runs at once (queueScheduler): one value each', () => {
    // The burst ran inside schedule(), which then returned its spent action: kept as pending, no burst came again.
    const source = new Subject<number>();
    const { bursts, seen } = record(source.pipe(burstRecv({ scheduler: queueScheduler })));
    for (let i = 0; i < 5; i++) source.next(i);
    source.complete();
    expect(bursts).toEqual([[0], [1], [2], [3], [4]]);
    expect(seen.completed).toBe(true);
  });

  it('emits what arrived since the last burst, one array per turn', async () => {
    const source = new Subject<number>();
    const { bursts, seen } = record(source.pipe(burstRecv()));
    source.next(1);
    source.next(2);
    source.next(3);
    expect(bursts).toEqual([]); // the burst ends on the scheduler, not inside next
    await tick(0);
    source.next(4);
    await tick(0);
    source.next(5);
    source.next(6);
    source.complete();
    expect(bursts).toEqual([[1, 2, 3], [4], [5, 6]]);
    expect(seen.completed).toBe(true);
  });

  it('delivers what is gathered, then the source error', async () => {
    const boom = new Error('boom');
    const { bursts, seen } = record(concat(of(1, 2), throwError(() => boom)).pipe(burstRecv()));
    expect(bursts).toEqual([[1, 2]]);
    expect(seen.error).toBe(boom);

    const source = new Subject<number>();
    const later = record(source.pipe(burstRecv()));
    source.next(1);
    await tick(0);
    source.next(2);
    source.error(boom);
    expect(later.bursts).toEqual([[1], [2]]);
    expect(later.seen.error).toBe(boom);
  });

  it('completes without a burst on an empty source, and emits nothing on a silent one', async () => {
    const empty = record(EMPTY.pipe(burstRecv()));
    expect(empty.bursts).toEqual([]);
    expect(empty.seen.completed).toBe(true);
    const silent = record(NEVER.pipe(burstRecv()));
    await tick(5);
    expect(silent.bursts).toEqual([]);
    expect(silent.seen.completed).toBe(false);
    silent.subscription.unsubscribe();
  });

  it('early unsubscribe cancels the scheduled burst and unsubscribes the source', async () => {
    const scheduled: Subscription[] = [];
    // asapScheduler, keeping what it schedules.
    const schedule = asapScheduler.schedule.bind(asapScheduler) as (...args: unknown[]) => Subscription;
    const spy = {
      now: () => asapScheduler.now(),
      schedule: (...args: unknown[]) => {
        const action = schedule(...args);
        scheduled.push(action);
        return action;
      },
    } as SchedulerLike;
    const source = new Subject<number>();
    const { bursts, subscription } = record(source.pipe(burstRecv({ scheduler: spy })));
    source.next(1);
    expect(scheduled.length).toBe(1);
    expect(scheduled[0].closed).toBe(false);
    subscription.unsubscribe();
    expect(scheduled[0].closed).toBe(true);
    expect(source.observed).toBe(false);
    await tick(5);
    expect(bursts).toEqual([]);
  });

  it('a synchronous source is stopped by take', () => {
    // RxJS's own case: a loop that stops when its subscriber closes.
    let emitted = 0;
    let tornDown = false;
    const synchronous = new Observable<number>((subscriber) => {
      for (let i = 0; !subscriber.closed && i < 10; i++) {
        emitted++;
        subscriber.next(i);
      }
      subscriber.complete();
      return () => (tornDown = true);
    });
    expect(record(synchronous.pipe(burstRecv(), take(1))).bursts).toEqual([[...Array(10).keys()]]);
    expect(tornDown).toBe(true);
    expect(emitted).toBe(10); // a synchronous loop has no burst boundary: it runs to its end

    // A scheduler that emits each burst at once: take(1) leaves during the source's subscribe call, which stops it.
    let pulled = 0;
    const endless = new Observable<number>((subscriber) => {
      while (!subscriber.closed && pulled < 1_000_000) subscriber.next(pulled++);
    });
    expect(record(endless.pipe(burstRecv({ scheduler: queueScheduler }), take(1))).bursts).toEqual([[0]]);
    expect(pulled).toBe(1);

    // Split bursts of a synchronous source: take stops the emission loop.
    const split = record(range(0, 100).pipe(burstRecv({ maxSize: 10 }), take(2)));
    expect(split.bursts).toEqual([
      [...Array(10).keys()],
      [...Array(10).keys()].map((i) => i + 10),
    ]);
    expect(split.seen.completed).toBe(true);
  });

  it('groups by the scheduler in virtual time (marbles)', () => {
    const testScheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    testScheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const source = hot('  -a-b-(cd)-e--(f|)');
      const expected = '    -w-x-y----z--(v|)';
      expectObservable(source.pipe(burstRecv({ scheduler: testScheduler }))).toBe(expected, {
        w: ['a'],
        x: ['b'],
        y: ['c', 'd'],
        z: ['e'],
        v: ['f'],
      });

      const failing = cold(' a-(bc#)', undefined, new Error('boom'));
      const values = { x: ['a'], y: ['b', 'c'] };
      expectObservable(failing.pipe(burstRecv({ scheduler: testScheduler }))).toBe('x-(y#)', values, new Error('boom'));
      expectSubscriptions(failing.subscriptions).toBe('^-!');

      const split = cold('   -(abcde)|');
      expectObservable(split.pipe(burstRecv({ scheduler: testScheduler, maxSize: 2 }))).toBe('-(xyz)--|', {
        x: ['a', 'b'],
        y: ['c', 'd'],
        z: ['e'],
      });

      // Unsubscribed at frame 3: `b` never comes out, and the source is left.
      const early = hot('    --a-b-');
      expectObservable(early.pipe(burstRecv({ scheduler: testScheduler })), '^--!').toBe('--x', { x: ['a'] });
      expectSubscriptions(early.subscriptions).toBe('^--!');
    });
  });

  it('a value pushed while a burst is handled goes in a later burst, never in the one emitted', async () => {
    const source = new Subject<number>();
    const bursts: number[][] = [];
    const asEmitted: number[][] = [];
    const afterPush: number[][] = [];
    source.pipe(burstRecv()).subscribe((burst) => {
      const k = bursts.length;
      bursts.push(burst);
      asEmitted.push([...burst]);
      // The consumer itself feeds the source: the marker of burst k.
      if (k < 20) source.next(-(k + 1));
      afterPush.push([...burst]);
    });
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 5; i++) source.next(round * 5 + i);
      await tick(0);
    }
    await tick(0);
    source.complete();
    // The arrays emitted never change: not by the push, nor after the handlers returned.
    expect(afterPush).toEqual(asEmitted);
    expect(bursts).toEqual(asEmitted);
    bursts.forEach((burst, index) => expect(burst).not.toContain(-(index + 1)));
    for (let index = 0; index < 20; index++) {
      const at = bursts.findIndex((burst) => burst.includes(-(index + 1)));
      expect(at).toBeGreaterThan(index);
    }
    expect(bursts.flat().filter((v) => v >= 0)).toEqual([...Array(100).keys()]);
  });

  it('the source ending while a burst is handled: the rest of that burst, then what was pushed, then the ending', () => {
    const source = new Subject<string>();
    const bursts: string[][] = [];
    let done = false;
    const scheduler = new TestScheduler(() => undefined);
    source.pipe(burstRecv({ maxSize: 2, scheduler })).subscribe({
      next: (burst) => {
        bursts.push(burst);
        if (burst[0] === 'a') {
          source.next('x');
          source.complete();
        }
      },
      complete: () => (done = true),
    });
    for (const v of ['a', 'b', 'c']) source.next(v);
    scheduler.flush();
    expect(bursts).toEqual([['a', 'b'], ['c'], ['x']]);
    expect(done).toBe(true);
  });

  it('maxSize splits a burst into consecutive ones, in order', () => {
    const { bursts, seen } = record(range(1, 10).pipe(burstRecv({ maxSize: 3 })));
    expect(bursts).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10]]);
    expect(seen.completed).toBe(true);
  });

  it('refuses a maxSize that is not a positive integer or Infinity', () => {
    for (const maxSize of [0, -1, 1.5, NaN]) {
      expect(() => burstRecv({ maxSize })).toThrow(new RangeError('options.maxSize must be a positive integer or Infinity'));
    }
    expect(() => burstRecv({ maxSize: Infinity })).not.toThrow();
  });

  it('refuses a scheduler that is not one, at the call (it threw later, inside the source\'s next, uncaught)', () => {
    for (const scheduler of ['nope', null, {}, { schedule: 1 }]) {
      expect(() => burstRecv({ scheduler: scheduler as never })).toThrow(new TypeError('burstRecv: options.scheduler must be an RxJS scheduler'));
    }
  });
});

describe.each(TRANSPORTS)('burstRecv on a WireSubject over %s', (transport) => {
  it("takes the transport's drains: one burst per drain, every value once and in order", async () => {
    const [a, b] = pairOf(transport);
    const tx = open(a, codec('int'));
    const rx = open(b, codec('int'));
    const bursts: number[][] = [];
    const done = new Promise<void>((resolve) => rx.pipe(burstRecv()).subscribe({ next: (x) => bursts.push(x), complete: resolve }));
    for (let i = 0; i < 10; i++) tx.next(i);
    // The first ten, sent in one turn, arrive as one drain (once the reader has accepted the schema).
    await until(() => bursts.length > 0);
    for (let i = 10; i < 20; i++) tx.next(i);
    tx.complete();
    await done;
    expect(bursts[0]).toEqual([...Array(10).keys()]);
    expect(bursts.flat()).toEqual([...Array(20).keys()]);
    rx.complete();
  });

  it('splits drains at maxSize', async () => {
    const [a, b] = pairOf(transport);
    const tx = open(a, codec('int'));
    const rx = open(b, codec('int'));
    const all = lastValueFrom(rx.pipe(burstRecv({ maxSize: 7 }), toArray()));
    for (let i = 0; i < 100; i++) tx.next(i);
    tx.complete();
    const bursts = await all;
    expect(bursts[0]).toEqual([...Array(7).keys()]);
    for (const burst of bursts) expect(burst.length).toBeGreaterThan(0);
    for (const burst of bursts) expect(burst.length).toBeLessThanOrEqual(7);
    expect(bursts.flat()).toEqual([...Array(100).keys()]);
    rx.complete();
  });

  it("carries the peer's error after the values before it", async () => {
    const [a, b] = pairOf(transport);
    const tx = open(a, codec('int'));
    const rx = open(b, codec('int'));
    const { bursts, seen } = record(rx.pipe(burstRecv()));
    tx.next(1);
    tx.next(2);
    tx.error(new Error('upstream broke'));
    await new Promise<void>((resolve) => rx.subscribe({ error: () => resolve() }));
    expect(bursts.flat()).toEqual([1, 2]);
    expect((seen.error as Error).message).toBe('upstream broke');
  });

  describe.each([
    ['its drains', false],
    ['a pipe in between (gathered bursts)', true],
  ])('a flooding worker, read through %s', (_, throughMap) => {
    const N = 200_000;
    // A small window, so bursts are many and their bound means something.
    const WINDOW = 16 * 1024;
    // The fewest bytes one `long` takes in the window: an 8-byte record header
    // and a body padded to 8 (shm); a 5-byte frame header and a 1-byte body (port).
    const LEAST_RECORD = transport === 'shm' ? 16 : 6;

    it('gets every value once and in order, in bounded bursts that never hold the marker sent during them', async () => {
      const flag = new Int32Array(new SharedArrayBuffer(4));
      const { here, worker } = spawnWith(transport, 'burst', { count: N, flag: flag.buffer, windowBytes: WINDOW }, WINDOW);
      const wire = open(here, codec('long'), { worker, ...(transport === 'port' && { windowBytes: WINDOW }) });
      const sent = report<{ markers: number }>(worker);
      const source = throughMap ? wire.pipe(map((v) => v)) : wire;
      const bursts: number[][] = [];
      const asEmitted: number[][] = [];
      await new Promise<void>((resolve, reject) =>
        source.pipe(burstRecv()).subscribe({
          next: (burst) => {
            const k = bursts.length;
            bursts.push(burst);
            asEmitted.push(burst.slice());
            // Tell the worker: it sends the marker -(k + 1) as soon as it sees this.
            Atomics.store(flag, 0, k + 1);
            spin(0.2);
          },
          error: reject,
          complete: resolve,
        }),
      );
      expect(await sent).toMatchObject({ markers: expect.any(Number) });
      const { markers } = await sent;

      // Bursts are non-empty and unchanged since emitted; a drain is bounded
      // by what the window holds (gathered bursts depend on when the
      // transport yields to microtasks, which is not burstRecv's contract).
      for (const burst of bursts) expect(burst.length).toBeGreaterThan(0);
      if (!throughMap) {
        const bound = Math.floor(WINDOW / LEAST_RECORD) + 1;
        for (const burst of bursts) expect(burst.length).toBeLessThanOrEqual(bound);
      }
      expect(bursts).toEqual(asEmitted);

      // The sequence is complete and in order.
      const values = bursts.flat();
      const sequence = values.filter((v) => v >= 0);
      expect(sequence.length).toBe(N);
      let wrong = 0;
      for (let i = 0; i < N; i++) if (sequence[i] !== i) wrong++;
      expect(wrong).toBe(0);

      // No burst holds its own marker; each marker arrives in a later burst, in order.
      expect(markers).toBeGreaterThan(0);
      const marked = values.filter((v) => v < 0).map((v) => -v - 1);
      expect(marked.length).toBe(markers);
      expect([...marked].sort((x, y) => x - y)).toEqual(marked);
      const own = bursts.filter((burst, k) => burst.includes(-(k + 1))).length;
      expect(own).toBe(0);
      bursts.forEach((burst, k) => {
        for (const v of burst) if (v < 0) expect(-v - 1).toBeLessThan(k);
      });

      wire.complete();
      expect(await exited(worker)).toBe(0);
    });
  });
});
