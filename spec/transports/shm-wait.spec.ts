/**
 * `auto`'s spin window (transports/shm/wait.ts, SpinBudget) as a state
 * machine with the clock passed in, and request round trips over shm with
 * `auto` at both ends while a CPU hog competes for the cores: every reply
 * arrives, in order (the point of backing off is that the link keeps
 * working when it does; speed is the bench's business, never asserted here).
 */
import { spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { firstValueFrom } from 'rxjs';
import { Contention, SpinBudget } from '../../transports/shm/spin-budget';
import { Pump, type Step } from '../../transports/shm/wait';
import { WATCH_MS, lostWakeUps } from '../../transports/shm/watchdog';
import { DATA_WAITERS, PUBLISHED, createRing } from '../../transports/shm/layout';
import { client, request, type RequestClient } from '../../operators';
import { Answer, Ask, type AskValue } from '../workers/serve.worker';
import { exited, reapWorkers, spawnWith } from '../helpers';
import { open } from '../../transports/open';
import { rpcCodec } from '../../operators/request-internals';
import { codec } from '../../core/codec';
import { shm } from '../../transports';
import { RingReader, mapRing } from '../../transports/shm';

describe('SpinBudget (auto wait)', () => {
  const quiet = (): number => 0.5;

  it('starts at spinMicros and doubles after sleeps that data ends soon, up to 1 ms', () => {
    for (const cores of [2, 8]) {
      const budget = new SpinBudget(0.05, cores, quiet, null);
      expect(budget.window(0)).toBe(0.05);
      for (let i = 0; i < 10; i++) budget.slept('ok', 0.01, 0);
      expect(budget.window(0)).toBe(1);
    }
  });

  it('halves back to spinMicros after sleeps that time out', () => {
    const budget = new SpinBudget(0.05, 2, quiet, null);
    for (let i = 0; i < 10; i++) budget.slept('ok', 0.01, 0);
    for (let i = 0; i < 10; i++) budget.slept('timed-out', 100, 0);
    expect(budget.window(0)).toBe(0.05);
  });

  it('halves back after long sleeps that a notify ended too (the channels sleep with no timeout: 100 ms idle counts as one)', () => {
    const budget = new SpinBudget(0.05, 2, quiet, null);
    for (let i = 0; i < 10; i++) budget.slept('ok', 0.01, 0);
    expect(budget.window(0)).toBe(1);
    budget.slept('ok', 99, 0);
    expect(budget.window(0)).toBe(1);
    for (let i = 0; i < 10; i++) budget.slept('ok', 100, 0);
    expect(budget.window(0)).toBe(0.05);
  });

  it('never spins with one core, nor with spinMicros 0', () => {
    for (const budget of [new SpinBudget(0.05, 1, quiet, null), new SpinBudget(0, 8, quiet, null)]) {
      budget.slept('ok', 0.001, 0);
      expect(budget.window(0)).toBe(0);
    }
  });

  it('a user window above the cap is kept as it is, loaded or not', () => {
    expect(new SpinBudget(5, 2, quiet, null).window(0)).toBe(5);
    expect(new SpinBudget(5, 2, () => 50, null).window(0)).toBe(5);
  });

  it('spins 0.2 ms at most while the load average is above the cores plus two, read at most once a second', () => {
    let load = 0.5;
    let reads = 0;
    const budget = new SpinBudget(0.05, 2, () => (reads++, load), null);
    for (let i = 0; i < 10; i++) budget.slept('ok', 0.01, 0);
    expect(budget.window(0)).toBe(1);
    load = 4.5; // on 2 cores: more runnable threads than the link's two ends and two more
    expect(budget.window(999)).toBe(1); // not read again yet
    expect(budget.window(1000)).toBe(0.2);
    expect(budget.window(1500)).toBe(0.2);
    load = 4; // the link's own two ends and two more: not loaded
    expect(budget.window(2000)).toBe(1); // the window it had grows back at once
    expect(reads).toBe(3);
  });

  it('short sleeps while loaded do not grow the window; sleeps that time out still shrink it', () => {
    let load = 8;
    const budget = new SpinBudget(0.05, 2, () => load, null);
    for (let i = 0; i < 10; i++) budget.slept('ok', 0.01, i);
    expect(budget.window(10)).toBe(0.05);
    load = 1;
    budget.slept('ok', 0.01, 1010); // the load is gone: a short sleep grows it again
    expect(budget.window(1010)).toBe(0.1);
    load = 8;
    budget.slept('timed-out', 100, 2020);
    expect(budget.window(2020)).toBe(0.05);
  });
});

describe('Contention (auto wait: is this thread short of a core?)', () => {
  /** A thread's scheduler delay, moved by hand. */
  function clock() {
    let delay = 0;
    return { contention: new Contention(() => delay), wait: (ms: number) => (delay += ms) };
  }

  it('four periods in a row with over 0.7 of them spent waiting for a core: contended for 100 ms', () => {
    const { contention, wait } = clock();
    expect(contention.contended(0)).toBe(false);
    for (const t of [5, 10, 15]) {
      wait(4); // 4 ms of 5 waiting for a core
      expect(contention.contended(t)).toBe(false); // fewer than four: ridden out
    }
    wait(4);
    expect(contention.contended(20)).toBe(true);
    expect(contention.contended(119)).toBe(true); // read again at 25, 30, ...: no more waiting, still held
    expect(contention.contended(121)).toBe(false);
  });

  it('a third of each period waiting (one CPU hog beside a spinning link on 2 cores) is not contention', () => {
    const { contention, wait } = clock();
    for (let t = 0; t <= 100; t += 5) {
      expect(contention.contended(t)).toBe(false);
      wait(5 / 3);
    }
  });

  it('three fifths of each period waiting (bursts of a request round trip beside one hog) is not contention', () => {
    const { contention, wait } = clock();
    for (let t = 0; t <= 100; t += 5) {
      expect(contention.contended(t)).toBe(false);
      wait(3);
    }
    expect(contention.pressed(100)).toBe(true);
  });

  it('one long stall between quiet periods is not contention', () => {
    const { contention, wait } = clock();
    expect(contention.contended(0)).toBe(false);
    wait(4);
    expect(contention.contended(5)).toBe(false);
    wait(0.5); // a tenth of the next period
    expect(contention.contended(10)).toBe(false);
    wait(4);
    expect(contention.contended(15)).toBe(false);
  });

  it('a time slice lost (1 ms or more of a period) makes the thread pressed for a second, renewed at each one', () => {
    const { contention, wait } = clock();
    contention.contended(0);
    wait(0.9); // under a millisecond: a helper thread's turn, not a slice
    contention.contended(5);
    expect(contention.pressed(5)).toBe(false);
    wait(2);
    contention.contended(10);
    expect(contention.pressed(10)).toBe(true);
    wait(1.5); // over a millisecond, but under a tenth of the 590 ms since the last read: not a slice lost
    contention.contended(600);
    expect(contention.pressed(1009)).toBe(true);
    expect(contention.pressed(1011)).toBe(false);
    contention.contended(1100);
    wait(1.5);
    contention.contended(1105);
    expect(contention.pressed(2104)).toBe(true); // pressed again at 1105, for a second
    expect(contention.pressed(2106)).toBe(false);
  });

  it('scheduler delay gathered over a long sleep (a little at each wake-up) does not press', () => {
    const { contention, wait } = clock();
    contention.contended(0);
    wait(5); // 5 ms over 10 s
    contention.contended(10_000);
    expect(contention.pressed(10_000)).toBe(false);
  });

  it('reads the delay at most every 5 ms', () => {
    let reads = 0;
    const contention = new Contention(() => (reads++, 0));
    for (let t = 0; t < 20; t += 0.5) contention.contended(t);
    expect(reads).toBe(4);
  });

  it('a contended thread does not spin, unless its user asked for more than the 1 ms cap', () => {
    const { contention, wait } = clock();
    const quiet = (): number => 0.5;
    const budget = new SpinBudget(0.05, 2, quiet, contention);
    const own = new SpinBudget(5, 2, quiet, contention);
    expect(budget.window(0)).toBe(0.05);
    for (const t of [5, 10, 15]) {
      wait(4);
      budget.window(t);
    }
    wait(4);
    expect(budget.window(20)).toBe(0);
    expect(own.window(20)).toBe(5);
    for (let i = 0; i < 10; i++) budget.slept('ok', 0.01, 30); // short sleeps while contended do not grow it
    expect(budget.window(1200)).toBe(0.05); // neither contended nor pressed any more
  });

  it('a pressed thread polls 10 ms before it sleeps, unless the machine is loaded, it has one core, or its user chose no spin or a window above the cap', () => {
    const { contention, wait } = clock();
    let load = 0.5;
    const budget = new SpinBudget(0.05, 2, () => load, contention);
    const atCap = new SpinBudget(1, 2, () => load, contention);
    const own = new SpinBudget(5, 2, () => load, contention);
    const none = new SpinBudget(0, 2, () => load, contention);
    const oneCore = new SpinBudget(0.05, 1, () => load, contention);
    expect(budget.window(0)).toBe(0.05);
    wait(2); // a slice lost
    expect(budget.window(5)).toBe(10);
    expect(atCap.window(5)).toBe(10);
    expect(own.window(5)).toBe(5); // a window of the user's own above 1 ms is kept as it is, in every state
    expect(none.window(5)).toBe(0);
    expect(oneCore.window(5)).toBe(0);
    expect(budget.window(900)).toBe(10);
    load = 50;
    expect(budget.window(1895)).toBe(0.05); // loaded (the load is read once a second), and pressed no more
    wait(2); // another slice lost
    expect(budget.window(1900)).toBe(0.05); // pressed again, but loaded: at most 0.2 ms
    expect(contention.pressed(1900)).toBe(true);
    load = 0.5;
    expect(budget.window(2896)).toBe(10); // the load read again: not loaded; still pressed (until 2900)
    expect(budget.window(2905)).toBe(0.05); // a second with no slice lost
  });

  it('0.7 of a period is the line for contention: 3.5 ms of 5 four times is not, 3.6 ms is', () => {
    for (const [ms, contended] of [[3.5, false], [3.6, true]] as const) {
      const { contention, wait } = clock();
      contention.contended(0);
      for (const t of [5, 10, 15, 20]) {
        wait(ms);
        contention.contended(t);
      }
      expect(contention.contended(20)).toBe(contended);
    }
  });
});

describe('a pump asleep (no timeout: it waits for a notify)', () => {
  /** Resolves once `done()` holds, polling each turn; fails after 5 s. */
  async function until(done: () => boolean): Promise<void> {
    const give = Date.now() + 5000;
    while (!done()) {
      if (Date.now() > give) throw new Error('timed out');
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  function sleeper() {
    const header = new Int32Array(createRing({ bytes: 256 }), 0, 64);
    const state = { steps: 0, ready: false };
    const pump = new Pump(
      header,
      // A minute: were the sleep to time out, these tests would time out first.
      { strategy: 'async', spinMicros: 0, sliceMs: 60_000, keepAlive: false },
      (): Step => (state.steps++, state.ready ? 'done' : 'idle'),
      () => state.ready,
      () => ({ index: PUBLISHED, waiters: DATA_WAITERS }),
    );
    return { header, state, pump };
  }

  it('is woken by stop(), and then does nothing', async () => {
    const { header, state, pump } = sleeper();
    pump.start();
    await until(() => Atomics.load(header, DATA_WAITERS) === 1);
    const steps = state.steps;
    pump.stop();
    await until(() => Atomics.load(header, DATA_WAITERS) === 0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(state.steps).toBe(steps);
  });

  it('is woken by start(): what became ready without a notify is seen', async () => {
    const { header, state, pump } = sleeper();
    pump.start();
    await until(() => Atomics.load(header, DATA_WAITERS) === 1);
    state.ready = true; // no store to PUBLISHED, no notify: only the pump's own wake reaches it
    pump.start(); // still asleep: start() must wake it
    await until(() => !pump.running);
    expect(state.steps).toBeGreaterThan(1);
    expect(Atomics.load(header, DATA_WAITERS)).toBe(0);
  });

  it('whose wake-up never comes is woken by the watchdog, counted, and reported once as RXWIRE_LOST_WAKEUP', async () => {
    const { header, state, pump } = sleeper();
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const before = lostWakeUps();
      pump.start();
      await until(() => Atomics.load(header, DATA_WAITERS) === 1);
      state.ready = true; // a lost wake-up: ready, and neither a notify nor start() comes
      await until(() => !pump.running);
      expect(state.steps).toBeGreaterThan(1);
      expect(lostWakeUps()).toBe(before + 1);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('no wake-up'), { code: 'RXWIRE_LOST_WAKEUP' });
    } finally {
      warn.mockRestore();
      pump.stop();
    }
  });

  it('with nothing ready is left asleep by the watchdog', async () => {
    const { header, state, pump } = sleeper();
    try {
      const before = lostWakeUps();
      pump.start();
      await until(() => Atomics.load(header, DATA_WAITERS) === 1);
      const steps = state.steps;
      await new Promise((resolve) => setTimeout(resolve, 4 * WATCH_MS)); // four of its ticks
      expect(state.steps).toBe(steps);
      expect(Atomics.load(header, DATA_WAITERS)).toBe(1);
      expect(lostWakeUps()).toBe(before);
    } finally {
      pump.stop();
    }
  });
});

describe('a reply written after an await on a delivered value', () => {
  it('is published within a microtask of being written, not at the end of the pump\'s hops or of the turn', async () => {
    const [a, b] = shm.pair();
    const asker = open(a, codec('int'));
    const echo = open(b, codec('int'));
    // Never reads: available() is every byte the echo end has published so far.
    const published = new RingReader(mapRing(b.tx), 0);
    const seen: number[] = [];
    const atWrite: number[] = [];
    const soonAfter: number[] = [];
    echo.subscribe({
      next: async (v) => {
        await Promise.resolve(); // a continuation a few ticks after the delivery, as `await` makes
        await null;
        echo.next(v + 1);
        atWrite.push(published.available());
        // Three ticks later: the pump, hopping, has published it (it would at hop 16 or the turn's end).
        queueMicrotask(() => queueMicrotask(() => queueMicrotask(() => soonAfter.push(published.available()))));
      },
    });
    asker.subscribe((v) => seen.push(v));
    try {
      for (const v of [1, 2, 3]) {
        asker.next(v);
        const want = seen.length + 1;
        await new Promise<void>((resolve) => {
          const poll = (): unknown => (seen.length >= want ? resolve() : setImmediate(poll));
          poll();
        });
      }
      expect(seen).toEqual([2, 3, 4]);
      for (let i = 0; i < 3; i++) expect(soonAfter[i]).toBeGreaterThan(atWrite[i]);
    } finally {
      asker.close();
      echo.close();
    }
  });
});

describe('request round trips over shm, auto wait, with a CPU hog on the machine', () => {
  let hog: ChildProcess | undefined;

  afterEach(async () => {
    if (hog && hog.exitCode === null && hog.signalCode === null) {
      const gone = new Promise((resolve) => hog!.once('exit', resolve));
      hog.kill('SIGKILL');
      await gone;
    }
    hog = undefined;
    expect(await reapWorkers()).toBe(0);
  });

  it('5000 requests one after another each get their own reply, in order', async () => {
    hog = spawnProcess(process.execPath, ['-e', 'process.send("spinning"); for (;;) {}'], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    await new Promise<void>((resolve, reject) => {
      hog!.once('message', () => resolve());
      hog!.once('error', reject);
    });
    const { here, worker } = spawnWith('shm', 'serve');
    const rpc: RequestClient<AskValue, number> = client(open(here, rpcCodec(), { worker }), { request: Ask, reply: Answer });
    const replies: number[] = [];
    for (let n = 0; n < 5000; n++) replies.push(await firstValueFrom(request(rpc, { op: 'double', n, ms: 0 })));
    expect(replies).toEqual(Array.from({ length: 5000 }, (_, n) => 2 * n));
    rpc.close();
    expect(await exited(worker)).toBe(0);
  }, 120_000);
});
