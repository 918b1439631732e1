/**
 * Process and monitor ids are never reused, and never run over, and a
 * timed-out request is forgotten by its target (white box:
 * a thread's counts set near their ends, which a real node reaches after
 * days of spawns or monitors — 2^31 monitors took 13 minutes of one loop).
 * Before, monitors used up process ids, and past 2^31 a thread's own ids ran
 * into other nodes' spawns (a message reached the wrong process); past 2^32,
 * into the next thread's (two monitors shared one key, one never fired).
 */
import { startNode } from '../../processes';
import { ID_SPAN, REMOTE_IDS } from '../../processes/ids';
import { askersOf, echo, ignorer } from './careless-entries';
import { LONG, T0 } from './places';
import { liveThreads, threadsBackTo } from '../helpers';

type Counts = { lastId: number; lastMonitor: number };

test('a thread that made its last process id refuses the next spawn (RangeError); monitors count apart and refuse past their own last', async () => {
  const baseline = liveThreads();
  const node = startNode({ threads: 0 });
  try {
    const here = (node as unknown as { here: { scheduler: Counts } }).here.scheduler;
    const p = node.spawn(echo, null);
    const monitors = Array.from({ length: 5 }, () => p.monitor());
    expect(here.lastMonitor).toBe(5);
    const spawned = here.lastId; // monitors took no process ids
    here.lastId = REMOTE_IDS - 2;
    const last = node.spawn(echo, null);
    expect(last.id).toBe(REMOTE_IDS - 1);
    expect(await last.request(1, LONG)).toBe(2);
    expect(() => node.spawn(echo, null)).toThrow(RangeError);
    expect(here.lastId).toBe(REMOTE_IDS - 1);
    here.lastMonitor = ID_SPAN - 2;
    const lastMonitor = p.monitor();
    expect(() => p.monitor()).toThrow(RangeError);
    p.kill();
    for (const m of [...monitors, lastMonitor]) expect((await m.died).reason).toBe('killed');
    expect(spawned).toBe(1);
  } finally {
    await node.close();
    await threadsBackTo(baseline);
  }
});

/** 200 requests to `deaf` (which answers none), each timing out after 20 ms: how each ended, by error name. */
function timeOut200(deaf: { request(message: number, options: { timeout: number }): Promise<unknown> }): Promise<unknown[]> {
  return Promise.all(Array.from({ length: 200 }, () => deaf.request(1, { timeout: 20 }).catch((e: Error) => e.name)));
}

test('a request to a process on the same thread that answers none is forgotten when it times out (the askers of such a process grew for ever)', async () => {
  const baseline = liveThreads();
  const node = startNode({ threads: 0 });
  try {
    const deaf = node.spawn(ignorer, null);
    const here = (node as unknown as { here: { scheduler: { procs: { get(id: number): { asked: Set<unknown> | null } | undefined } } } }).here.scheduler;
    const asked = () => here.procs.get(deaf.id)?.asked?.size ?? 0;
    const timedOut = await timeOut200(deaf);
    expect(timedOut).toEqual(Array(200).fill('TimeoutError'));
    expect(asked()).toBe(0);
    const waiting = deaf.request(1, { timeout: 60_000 }).catch((e: Error) => e.name);
    expect(asked()).toBe(1); // one still open is still owed: the process's end answers it
    deaf.kill();
    expect(await waiting).toBe('ProcessExitedError');
  } finally {
    await node.close();
    await threadsBackTo(baseline);
  }
});

test('a request from another thread to a process that answers none is forgotten there when it times out (FORGET: its thread kept every asker until the process ended)', async () => {
  const baseline = liveThreads();
  const node = startNode({ threads: 1 });
  try {
    expect(await node.spawn(echo, null, T0).request(1, LONG)).toBe(2); // the worker is up
    const deaf = node.spawn(ignorer, null, T0);
    const askers = node.spawn(askersOf, null, T0); // on the worker, beside it
    const timedOut = await timeOut200(deaf);
    expect(timedOut).toEqual(Array(200).fill('TimeoutError'));
    // Each FORGET went at its request's time-out, on the ring this request follows them on: read before it.
    expect(await askers.request(deaf.id, LONG)).toBe(0);
    const waiting = deaf.request(1, LONG).catch((e: Error) => e.name);
    expect(await askers.request(deaf.id, LONG)).toBe(1); // one still open is still owed: the process's end answers it
    deaf.kill();
    expect(await waiting).toBe('ProcessExitedError');
  } finally {
    await node.close();
    await threadsBackTo(baseline);
  }
});
