/**
 * Remote processes from every thread, and placement on the other node:
 * this jest process is node `a` with two real worker threads; nodes `b`
 * (two workers, `w-adder` on worker 0) and `c` are real child processes
 * (spec/processes/remote-child.ts) linked over TCP on 127.0.0.1.
 * Processes on a's workers call b's and c's processes through a's own
 * thread (the gateway).
 */
import { FrameError, ProcessExitedError } from '../../core/errors';
import { startClusterNode, type ClusterNode } from '../../processes/remote';
import { liveThreads, threadsBackTo } from '../helpers';
import { absent } from './remote-absent';
import { adder, idle, sizer, watcher } from './remote-entries';
import { HEARTBEAT, killChild, startChild, stopChild, type Child } from './remote-nodes';
import { farAsker, farUser, greeter, linkedThreadKiller, placedParent, refTaker } from './remote-thread-entries';
import { LONG, T0, T1 } from './places';

jest.setTimeout(180_000);

let a: ClusterNode | undefined;
let b: Child | undefined;
let c: Child | undefined;
let baseline = 0;

beforeAll(async () => {
  baseline = liveThreads();
  b = await startChild('b', 2);
  a = await startClusterNode({ id: 'a', threads: 2, listen: { port: 0 }, peers: [{ port: b.port }], heartbeat: HEARTBEAT });
  // Both workers are up once each has answered.
  expect(await a.spawn(adder, 1, T0).request(1, LONG)).toBe(2);
  expect(await a.spawn(adder, 1, T1).request(1, LONG)).toBe(2);
});

afterAll(async () => {
  await a?.close();
  await Promise.all([stopChild(b), stopChild(c)]);
  await threadsBackTo(baseline);
});

describe('values too large for the other node', () => {
  test("a message, request or capture larger than the other node's rings is a FrameError at the call; one that fits arrives", async () => {
    const big = Buffer.alloc(2 << 20); // over b's rings (1 MiB each), under TCP's default maxFrame (4 MiB)
    const fits = Buffer.alloc((1 << 20) - 4096);
    expect(() => a!.spawn(sizer, big, { node: 'b', placement: { thread: 0 } })).toThrow(FrameError);
    for (const placement of [{ thread: 0 }, { thread: 2 }]) {
      // b's worker (a frame for it crosses a ring there), b's own thread
      const p = a!.spawn(sizer, Buffer.alloc(1), { node: 'b', placement });
      expect(() => p.send(big)).toThrow(FrameError);
      await expect(p.request(big, LONG)).rejects.toBeInstanceOf(FrameError);
      p.send(fits);
      expect(await p.request(fits, LONG)).toBe(fits.length + 1);
      p.kill();
    }
    expect(await a!.spawn(adder, 1, { node: 'b', placement: { thread: 0 } }).request(1, LONG)).toBe(2); // b unharmed
  });
});

describe('calls to another node from a worker thread', () => {
  test('spawn, request, lookup, monitor, kill and isAlive on another node, from processes on both workers', async () => {
    const users = [T0, T1].map((where) => a!.spawn(farUser, 'b', where));
    const answers = await Promise.all(users.map((u, i) => u.request(10 * (i + 1), LONG)));
    expect(answers.map((text) => JSON.parse(text))).toEqual([
      { here: 0, there: 'b', sum: 11, same: true, reason: 'killed', alive: false },
      { here: 1, there: 'b', sum: 21, same: true, reason: 'killed', alive: false },
    ]);
    // A process of b's worker, found by name and asked from a's worker.
    const asker = a!.spawn(farAsker, 'b', T1);
    expect(await asker.request(5, LONG)).toBe('105');
    // A node this node has no link to: a typed error on the worker too.
    const lost = a!.spawn(farAsker, 'zz', T0);
    expect(await lost.request(5, LONG)).toBe('UnknownNodeError');
    for (const p of [...users, asker, lost]) p.kill();
  });

  test('a handle sent in a message by a process of another node is used by a process on a worker', async () => {
    const taker = a!.spawn(refTaker, null, T0);
    const g = a!.spawn(greeter, taker.ref, { node: 'b' }); // sends its own ref to taker, from b
    expect(await taker.request(taker.ref, LONG)).toBe(42);
    g.kill();
    taker.kill();
  });

  test('links across nodes from a worker: trapped (LinkDied), untrapped (killed), and a failing parent on a worker kills its child there', async () => {
    const target = a!.spawn(idle, null, { node: 'b' });
    const trapped = a!.spawn(watcher, { target: target.ref, trap: true, tag: 7 }, T0);
    const plain = a!.spawn(watcher, { target: target.ref, trap: false, tag: 8 }, T1);
    expect(await trapped.request(0, LONG)).toBe('[]');
    expect(await plain.request(0, LONG)).toBe('[]');
    const plainDied = plain.monitor().died;
    target.kill();
    const seen = JSON.parse(await trapped.request(2, LONG)) as unknown[];
    expect(seen).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'LinkDied', reason: 'killed', tag: 7, node: 'b' }),
        expect.objectContaining({ type: 'ProcessDied', reason: 'killed', node: 'b' }),
      ]),
    );
    expect((await plainDied).reason).toBe('linked');
    trapped.kill();

    const parent = a!.spawn(placedParent, { node: 'b', thread: 0 }, T1);
    const childRef = await parent.request(0, LONG);
    expect(childRef).toMatchObject({ node: 'b', thread: 0 });
    const childDied = a!.handle(childRef, idle).monitor().died;
    parent.send(1);
    expect(await childDied).toMatchObject({ reason: 'linked', process: childRef });
  });

  test('a node killed: a trapping process on a worker gets LinkDied (noconnection), one not trapping is killed, b unharmed', async () => {
    c = await startChild('c', 0);
    expect(await a!.connect({ port: c.port })).toBe('c');
    const target = a!.spawn(idle, null, { node: 'c' });
    const trapped = a!.spawn(watcher, { target: target.ref, trap: true, tag: 3 }, T0);
    const plain = a!.spawn(watcher, { target: target.ref, trap: false, tag: 4 }, T1);
    expect(await trapped.request(0, LONG)).toBe('[]');
    expect(await plain.request(0, LONG)).toBe('[]');
    const plainDied = plain.monitor().died;
    await killChild(c);

    const seen = JSON.parse(await trapped.request(2, LONG)) as unknown[];
    expect(seen).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'LinkDied', reason: 'noconnection', tag: 3, node: 'c' }),
        expect.objectContaining({ type: 'ProcessDied', reason: 'noconnection', node: 'c' }),
      ]),
    );
    expect(await trapped.isAlive()).toBe(true);
    expect((await plainDied).reason).toBe('linked');
    expect(a!.nodes()).toEqual(['b']);
    trapped.kill();

    const asker = a!.spawn(farAsker, 'b', T0);
    expect(await asker.request(1, LONG)).toBe('101');
    asker.kill();
  });
});

describe('placement on the other node', () => {
  test('{ thread } and least-loaded put the process on that node\'s worker; names, requests and kills reach it there', async () => {
    const p = a!.spawn(adder, 3, { node: 'b', placement: { thread: 0 }, name: 'placed' });
    expect(p.ref).toMatchObject({ node: 'b', thread: 0 });
    expect(await p.request(1, LONG)).toBe(4);
    expect((await a!.lookup('placed', adder, { node: 'b' }))?.ref).toEqual(p.ref);
    const died = p.monitor().died;
    p.kill();
    expect(await died).toMatchObject({ reason: 'killed', process: p.ref });
    expect(await a!.lookup('placed', adder, { node: 'b' })).toBeUndefined();

    // Spread over b's two workers (never its own thread): each spawn counts where the ones before it went.
    const spread = Array.from({ length: 12 }, (_, i) => a!.spawn(adder, i, { node: 'b', placement: 'least-loaded' }));
    const threads = new Set(spread.map((p) => p.ref.thread));
    expect([...threads].sort()).toEqual([0, 1]);
    expect(await Promise.all(spread.map((p) => p.request(1, LONG)))).toEqual(spread.map((_, i) => i + 1));
    const home = a!.spawn(adder, 5, { node: 'b', placement: 'same' });
    expect(home.ref.thread).toBe(2); // b's own thread
    expect(await home.request(1, LONG)).toBe(6);
    for (const p of [...spread, home]) p.kill();
  });

  test('bad placement and an entry the node lacks: typed errors, nothing else harmed', async () => {
    expect(() => a!.spawn(adder, 1, { node: 'b', placement: { thread: 3 } })).toThrow(RangeError); // b has threads 0, 1 and 2
    expect(() => a!.spawn(adder, 1, { node: 'b', placement: 'anywhere' as never })).toThrow(RangeError);
    const missing = a!.spawn(absent, 0, { node: 'b', placement: { thread: 0 } });
    const gone = await missing.monitor().died;
    expect(gone).toMatchObject({ reason: 'noproc', error: expect.objectContaining({ name: 'EntryError' }) });
    await expect(missing.request(1)).rejects.toBeInstanceOf(ProcessExitedError);
    const fine = a!.spawn(adder, 1, { node: 'b', placement: { thread: 0 } });
    expect(await fine.request(1, LONG)).toBe(2);
    fine.kill();
  });
});

describe('a worker thread that dies', () => {
  // Last: it ends a's worker 1.
  test("its processes' links to another node fire there, with reason thread", async () => {
    const target = a!.spawn(idle, null, { node: 'b' });
    const died = target.monitor().died;
    const killer = a!.spawn(linkedThreadKiller, target.ref, T1);
    expect(await killer.request(0, LONG)).toBe(1);
    killer.send(1);
    const down = await died;
    expect(down.reason).toBe('linked');
    expect(down.error?.message).toMatch(/ended \(thread\)/);
    // The node goes on with its other worker.
    const asker = a!.spawn(farAsker, 'b', T0);
    expect(await asker.request(2, LONG)).toBe('102');
  });
});
