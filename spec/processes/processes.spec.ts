/** Lightweight processes on a real node: two worker threads and this one, linked by rings. */
import { EncodeError, EntryError, MailboxFullError, NameTakenError, ProcessExitedError, ProcessKilledError, startNode, TimeoutError } from '../../processes';
import type { ProcessNode } from '../../processes';
import { liveThreads, threadsBackTo, until } from '../helpers';
import { HERE, LONG, T0, T1 } from './places';
import { adder, badSender, crasher, failsAtOnce, finder, idle, later, laterTicks, laterTicksSeen, notExported, once, ordered, parent, pinger, quick, recorder, selective, sender, swarm } from './entries';

jest.setTimeout(240_000);


let node: ProcessNode;
let baseline: number;

beforeAll(async () => {
  baseline = liveThreads();
  node = startNode({ threads: 2 });
  // Both workers are up once each has answered.
  expect(await node.spawn(adder, 1, T0).request(1, LONG)).toBe(2);
  expect(await node.spawn(adder, 1, T1).request(1, LONG)).toBe(2);
});

afterAll(async () => {
  await node?.close();
  await threadsBackTo(baseline);
});

describe('spawn, send and request', () => {
  it('runs processes on each worker and on this thread, each answering', async () => {
    const on = [T0, T1, HERE].map((where, i) => node.spawn(adder, 10 * (i + 1), where));
    expect(await Promise.all(on.map((p) => p.request(1, LONG)))).toEqual([11, 21, 31]);
    expect(on.map((p) => p.ref.thread)).toEqual([0, 1, 2]);
    expect(new Set(on.map((p) => p.id)).size).toBe(3);
    for (const p of on) p.kill();
  });

  it('delivers messages from one sender in order across threads (FIFO per sender)', async () => {
    const sink = node.spawn(ordered, 3 * 5000, T1);
    node.spawn(sender, { to: sink.ref, base: 1, count: 5000 }, T0);
    node.spawn(sender, { to: sink.ref, base: 2, count: 5000 }, T0);
    for (let i = 1; i <= 5000; i++) sink.send(3e6 + i); // from this thread
    expect(JSON.parse(await sink.request(0, { ...LONG, tag: 1 }))).toEqual({ bad: 0, senders: 3 });
  });

  it("a node whose threads spin (wait: 'spin') or sleep at once (wait: 'async') delivers in order across threads, and closes", async () => {
    for (const wait of ['spin', 'async'] as const) {
      const other = startNode({ threads: 2, wait });
      try {
        const sink = other.spawn(ordered, 2 * 2000, T1);
        other.spawn(sender, { to: sink.ref, base: 1, count: 2000 }, T0);
        for (let i = 1; i <= 2000; i++) sink.send(2e6 + i); // from this thread
        expect(JSON.parse(await sink.request(0, { ...LONG, tag: 1 }))).toEqual({ bad: 0, senders: 2 });
      } finally {
        await other.close();
      }
    }
  });

  it('takes messages by tag (selective receive), leaving the others queued', async () => {
    for (const where of [T0, HERE]) {
      const p = node.spawn(selective, null, where);
      p.tagSend(1, 10);
      p.tagSend(5, 50);
      p.tagSend(2, 20);
      expect(JSON.parse(await p.request(0, { ...LONG, tag: 3 }))).toEqual([20, 10, 1]);
    }
  });

  it('sendAfter sends once, and never after cancel', async () => {
    for (const where of [T1, HERE]) {
      const p = node.spawn(recorder, null, where);
      const fired = p.sendAfter(5, 20);
      const cancelled = p.sendAfter(6, 30);
      expect(cancelled.cancel()).toBe(true);
      expect(cancelled.cancel()).toBe(false);
      const last = p.sendAfter(7, 80);
      const down = p.monitor();
      // A timer set after the last one with the same delay fires after it (Node fires equal deadlines in the
      // order set), so the request below leaves after the last message, on the same link.
      await new Promise((resolve) => setTimeout(resolve, 80));
      expect(JSON.parse(await p.request(0, { ...LONG, tag: 1 }))).toEqual([5, 7]);
      expect(fired.cancel()).toBe(false);
      expect(last.cancel()).toBe(false);
      p.kill();
      expect((await down.died).reason).toBe('killed');
    }
  });

  it('a request to a process that ends without replying fails with ProcessExitedError; a late one with TimeoutError', async () => {
    const q = node.spawn(idle, null, T0);
    const down = q.monitor();
    const never = node.spawn(recorder, null, T1);
    await expect(never.request(1, { timeout: 200 })).rejects.toBeInstanceOf(TimeoutError);
    q.kill();
    await down.died;
    await expect(q.request(1, LONG)).rejects.toBeInstanceOf(TypeError); // idle declares no reply codec
    const one = node.spawn(once, 1, T0);
    expect(await one.request(1, LONG)).toBe(2);
    const err = await one.request(1, LONG).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProcessExitedError);
    never.kill();
  });

  it('a handle sent inside a message is used from another thread', async () => {
    const target = node.spawn(adder, 1000, T1);
    const via = node.spawn(pinger, null, T0);
    expect(await via.request({ to: target.ref, n: 5 }, LONG)).toBe(1005);
    const json = JSON.parse(JSON.stringify({ h: target }));
    expect(json.h).toEqual({ node: node.id, thread: 1, id: target.id, incarnation: target.ref.incarnation });
    expect(await node.handle(json.h, adder).request(1, LONG)).toBe(1001);
    target.kill();
    via.kill();
  });

  it('is an Observer: source$.subscribe(handle) sends every value', async () => {
    const { from } = await import('rxjs');
    const p = node.spawn(recorder, null, T0);
    from([1, 2, 3]).subscribe(p);
    expect(JSON.parse(await p.request(0, { ...LONG, tag: 1 }))).toEqual([1, 2, 3]);
    expect(await p.isAlive()).toBe(true);
    p.kill();
    expect(await p.isAlive()).toBe(false);
  });
});

describe('an async entry that returns an Observable after an await', () => {
  // Before, the Observable it resolved to was ignored: the process ended (normal) as its Promise settled.
  it.each([
    ['a worker', T0],
    ['this thread', HERE],
  ])('on %s: runs it as if returned — it answers until it completes (normal), or fails with its error', async (_, where) => {
    const p = node.spawn(later, 'letters', where);
    const ended = p.monitor().died;
    p.send(10); // what its await takes
    expect(await p.request(1, LONG)).toBe(11);
    expect(await p.request(2, LONG)).toBe(12);
    p.send(0);
    expect(await ended).toMatchObject({ reason: 'normal', error: null });
    const bad = node.spawn(later, 'error', where);
    const failed = bad.monitor().died;
    bad.send(7);
    expect(await failed).toMatchObject({ reason: 'failed', error: { name: 'RangeError', message: 'late: 7' } });
  });

  it('killed while it runs, its Observable is unsubscribed; killed while it awaits, the Observable it then gives is let go at once', async () => {
    const seen = laterTicksSeen;
    const running = node.spawn(laterTicks, null, HERE);
    await until(() => seen.open !== undefined);
    seen.open!();
    await until(() => seen.ticks > 0);
    running.kill();
    await until(() => seen.finalized);
    expect(await running.isAlive()).toBe(false);
    Object.assign(seen, { ticks: 0, finalized: false, open: undefined });
    const awaiting = node.spawn(laterTicks, null, HERE);
    await until(() => seen.open !== undefined);
    awaiting.kill();
    seen.open!();
    await until(() => seen.finalized);
    expect(seen.ticks).toBe(0);
  });
});

describe('kill, links and monitors', () => {
  const seen = async (p: ReturnType<typeof spawnParent>) => JSON.parse(await p.request({ op: 'seen', n: 0 }, LONG));
  const spawnParent = (trap: boolean, where = T0) => node.spawn(parent, { trap }, where);

  it('a monitor set right after a spawn on another thread tells how the process ended, even when it ended before the monitor arrived', async () => {
    // The spawn is a message to thread 0, the monitor another after it: a process that ends at once is often gone
    // by then (before: 'noproc' in most of these runs, the error lost).
    for (let i = 0; i < 100; i++) {
      const ok = node.spawn(quick, null, T0);
      const bad = node.spawn(failsAtOnce, null, T0);
      const [okDied, badDied] = await Promise.all([ok.monitor().died, bad.monitor().died]);
      expect(okDied).toMatchObject({ reason: 'normal', error: null, process: ok.ref });
      expect(badDied).toMatchObject({ reason: 'failed', error: { message: 'failed at once' }, process: bad.ref });
    }
  });

  it('kill takes effect at the next receive: receive rejects, monitors see killed', async () => {
    const p = node.spawn(crasher, null, T1);
    const down = p.monitor();
    p.kill();
    const died = await down.died;
    expect(died).toMatchObject({ type: 'ProcessDied', reason: 'killed', process: p.ref, monitor: down.id });
    expect(ProcessKilledError).toBeDefined();
  });

  it.each([
    ['a throw', 'crasher', 'failed', 'crash 0'],
    ['a throw on another thread', 'crasherFar', 'failed', 'crash 0'],
  ] as const)('%s kills a linked process that does not trap exits', async (_, op, reason, error) => {
    const p = spawnParent(false);
    const down = p.monitor();
    await p.request({ op, n: 0 }, LONG);
    await p.request({ op: 'poke', n: 0 }, LONG);
    const died = await down.died;
    expect(died.reason).toBe('linked');
    expect(died.error?.message).toBe(error);
    void reason;
  });

  it.each([
    ['a throw', 'crasher', 'poke', 'failed', 'crash 0'],
    ['a throw on another thread', 'crasherFar', 'poke', 'failed', 'crash 0'],
    ['kill', 'idle', 'kill', 'killed', undefined],
    ['kill on another thread', 'idleFar', 'kill', 'killed', undefined],
  ] as const)('%s arrives as LinkDied (with its tag) to a process that traps exits', async (_, op, then, reason, error) => {
    const p = spawnParent(true);
    const down = p.monitor();
    await p.request({ op, n: 7 }, LONG);
    await p.request({ op: then, n: 0 }, LONG);
    let got: { type: string; reason: string; tag: number; error?: string }[] = [];
    while (got.length === 0) got = await seen(p); // polls the process's own record; each poll is a round trip
    expect(got).toEqual([{ type: 'LinkDied', reason, tag: 7, error }]);
    expect(await p.isAlive()).toBe(true);
    p.kill();
    await down.died;
  });

  it('a normal exit does not kill a linked process; a trapping one hears of it', async () => {
    const plain = spawnParent(false);
    const trapping = spawnParent(true);
    for (const p of [plain, trapping]) await p.request({ op: 'quick', n: 3 }, LONG);
    let got: unknown[] = [];
    while (got.length === 0) got = await seen(trapping);
    expect(got).toEqual([{ type: 'LinkDied', reason: 'normal', tag: 3 }]);
    expect(await plain.isAlive()).toBe(true);
    plain.kill();
    trapping.kill();
  });

  it('a monitor delivers ProcessDied for every ending and kills no one; on an ended process, noproc (or how it ended, while its thread remembers)', async () => {
    const ok = node.spawn(quick, null, T0);
    const bad = node.spawn(crasher, null, T1);
    const [okDown, badDown] = [ok.monitor(), bad.monitor()];
    bad.send(1);
    expect((await okDown.died).reason).toBe('normal');
    const died = await badDown.died;
    expect(died.reason).toBe('failed');
    expect(died.error?.message).toBe('crash 1');
    expect((await ok.monitor().died).reason).toBe('normal'); // spawned from here, ended there: its thread remembers how
    const local = node.spawn(quick, null, HERE); // spawned on its own thread: its end is not kept
    expect((await local.monitor().died).reason).toBe('normal');
    expect((await local.monitor().died).reason).toBe('noproc');
    const cancelled = node.spawn(idle, null, T0);
    const m = cancelled.monitor();
    m.cancel();
    const after = cancelled.monitor();
    cancelled.kill();
    expect((await after.died).reason).toBe('killed');
  });
});

describe('registry', () => {
  it('names work across threads; a taken name is a NameTakenError; a name is free again once its process ends', async () => {
    const first = node.spawn(adder, 1, T0);
    await first.register('acct');
    await expect(node.spawn(adder, 2, T1).register('acct')).rejects.toBeInstanceOf(NameTakenError);
    const found = await node.lookup('acct', adder);
    expect(found?.ref).toEqual(first.ref);
    const finderOn1 = node.spawn(finder, 'acct', T1);
    expect(await finderOn1.request(10, LONG)).toBe(11);
    const down = first.monitor();
    first.kill();
    await down.died;
    const second = node.spawn(adder, 2, T1);
    await second.register('acct');
    expect(await finderOn1.request(10, LONG)).toBe(12);
    second.kill();
    await second.monitor().died;
    expect(await node.lookup('acct', adder)).toBeUndefined();
    const named = node.spawn(adder, 3, { ...T0, name: 'named' });
    expect(await named.request(1, LONG)).toBe(4); // it runs once the name is its
    expect((await node.lookup('named', adder))?.id).toBe(named.id);
    const twice = node.spawn(adder, 3, { ...T1, name: 'named' });
    const d = await twice.monitor().died;
    expect(d.reason).toBe('noproc');
    expect(d.error?.name).toBe('NameTakenError');
    named.kill();
    finderOn1.kill();
  });
});

describe('bad input', () => {
  it('an entry that is not exported is an EntryError; nothing is spawned', () => {
    expect(() => node.spawn(notExported, null, T0)).toThrow(EntryError);
    expect(() => node.spawn({ module: __filename, name: 'nothing' }, null, T0)).toThrow(EntryError);
  });

  it('a capture that does not fit its schema is an EncodeError, here and on a worker', () => {
    expect(() => node.spawn(adder, 'x' as unknown as number, T0)).toThrow(EncodeError);
    expect(() => node.spawn(adder, 'x' as unknown as number, HERE)).toThrow(EncodeError);
  });

  it('a message that does not fit the mailbox is an EncodeError to the sender; sender and target live on', async () => {
    const target = node.spawn(adder, 1, T1);
    const local = node.spawn(adder, 1, HERE);
    expect(() => target.send('x' as unknown as number)).toThrow(EncodeError);
    expect(() => local.send('x' as unknown as number)).toThrow(EncodeError);
    await expect(target.request('x' as unknown as number, LONG)).rejects.toBeInstanceOf(EncodeError);
    const from = node.spawn(badSender, null, T0);
    expect(await from.request({ to: target.ref, n: 0 }, LONG)).toBe('EncodeError');
    expect(await from.request({ to: local.ref, n: 0 }, LONG)).toBe('EncodeError');
    expect(await target.request(1, LONG)).toBe(2);
    expect(await local.request(1, LONG)).toBe(2);
    for (const p of [target, local, from]) p.kill();
  });

  it('a full mailbox refuses a send with MailboxFullError, and takes more once drained', async () => {
    const small = node.spawn(recorder, null, { ...HERE, mailboxBound: 2 });
    small.send(1);
    small.send(2); // it has not had its first turn yet: both wait in its mailbox
    expect(() => small.send(3)).toThrow(MailboxFullError);
    await new Promise(setImmediate); // its turn: it takes both
    expect(JSON.parse(await small.request(0, { ...LONG, tag: 1 }))).toEqual([1, 2]);
    small.kill();
  });

  it('options are checked at the door', () => {
    expect(() => node.spawn(adder, 1, { placement: { thread: 3 } })).toThrow(RangeError);
    expect(() => node.spawn(adder, 1, { link: true })).toThrow(TypeError);
    const ownerless = node.spawn(adder, 1, T0); // a node's handle has no owner process: nothing to link, nothing to unlink
    expect(() => ownerless.link()).toThrow(TypeError);
    expect(() => ownerless.unlink()).toThrow('unlink: this handle has no owner process');
    ownerless.kill();
    expect(() => node.spawn(adder, 1, { mailboxBound: 0 })).toThrow(RangeError);
    expect(() => startNode({ threads: -1 })).toThrow(RangeError);
    // @ts-expect-error: 'block' would stop the timers of a thread's processes
    expect(() => startNode({ threads: 0, wait: 'block' })).toThrow(TypeError);
    expect(() => startNode({ threads: 0, spinMicros: -1 })).toThrow(RangeError);
    expect(() => startNode({ threads: 0, spinMicros: '5' as never })).toThrow('startNode: options.spinMicros must be a non-negative finite number');
  });
});

describe('scale', () => {
  it('100,000 live processes on one node, each answering a message', async () => {
    // Each worker spawns 50,000 on its own thread, keeps them all alive, then asks each one.
    const swarms = [T0, T1].map((where) => node.spawn(swarm, 50_000, where));
    expect(await Promise.all(swarms.map((s) => s.request(0, { timeout: 170_000 })))).toEqual([50_000, 50_000]);
  });
});
