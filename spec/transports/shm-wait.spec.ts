/**
 * `auto`'s spin window (transports/shm/wait.ts, SpinBudget) as a state
 * machine with the clock passed in, and request round trips over shm with
 * `auto` at both ends while a CPU hog competes for the cores: every reply
 * arrives, in order (the point of backing off is that the link keeps
 * working when it does; speed is the bench's business, never asserted here).
 */
import { spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { firstValueFrom } from 'rxjs';
import { SpinBudget } from '../../transports/shm/spin-budget';
import { client, request, type RequestClient } from '../../operators';
import { Answer, Ask, type AskValue } from '../workers/serve.worker';
import { exited, reapWorkers, spawnWith } from '../helpers';
import { open } from '../../transports/open';
import { rpcCodec } from '../../operators/request-internals';
import { codec } from '../../core/codec';
import { shm } from '../../transports';
import { RingReader, mapRing } from '../../transports/shm';

describe('SpinBudget (auto wait)', () => {
  it('starts at spinMicros and doubles after sleeps that data ends soon, up to 1 ms with 3 cores or more', () => {
    const budget = new SpinBudget(0.05, 8);
    expect(budget.window(0)).toBe(0.05);
    for (let i = 0; i < 10; i++) budget.slept('ok', 0.01, 0);
    expect(budget.window(0)).toBe(1);
  });

  it('grows to 0.2 ms at most with 2 cores, and halves back to spinMicros after sleeps that time out', () => {
    const budget = new SpinBudget(0.05, 2);
    for (let i = 0; i < 10; i++) budget.slept('ok', 0.01, 0);
    expect(budget.window(0)).toBe(0.2);
    for (let i = 0; i < 10; i++) budget.slept('timed-out', 100, 0);
    expect(budget.window(0)).toBe(0.05);
  });

  it('never spins with one core, nor with spinMicros 0', () => {
    for (const budget of [new SpinBudget(0.05, 1), new SpinBudget(0, 8)]) {
      budget.slept('ok', 0.001, 0);
      expect(budget.window(0)).toBe(0);
    }
  });

  it('a user window above the cap is kept as it is', () => {
    expect(new SpinBudget(5, 2).window(0)).toBe(5);
  });

  it('a thread preempted while polling stops spinning for 200 ms, starting over at spinMicros after', () => {
    const budget = new SpinBudget(0.05, 2);
    for (let i = 0; i < 10; i++) budget.slept('ok', 0.01, 0);
    budget.polled(0.004, 1000); // polls a few µs apart: it has its core
    expect(budget.window(1000)).toBe(0.2);
    budget.polled(3, 1000); // a 3 ms gap between two polls: its core was taken
    expect(budget.window(1000)).toBe(0);
    expect(budget.window(1199)).toBe(0);
    expect(budget.window(1200)).toBe(0.05);
  });

  it('short sleeps while contended do not grow the window it returns to', () => {
    const budget = new SpinBudget(0.05, 2);
    budget.polled(3, 1000);
    for (let i = 0; i < 10; i++) budget.slept('ok', 0.01, 1000 + i);
    expect(budget.window(1200)).toBe(0.05);
    budget.slept('ok', 0.01, 1200); // contention over: a short sleep grows it again
    expect(budget.window(1200)).toBe(0.1);
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
