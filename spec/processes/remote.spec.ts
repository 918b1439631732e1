/**
 * Remote processes: this jest process is node `a` (no workers: every
 * process of it runs on its own thread, the gateway); nodes `b` (one
 * worker) and `c` are real child processes (spec/processes/remote-child.ts)
 * linked over TCP on 127.0.0.1, ephemeral ports.
 */
import { EncodeError, EntryError, NodeClosedError, NodeUnreachableError, ProcessExitedError, UnknownNodeError } from '../../core/errors';
import { startClusterNode, type ClusterNode } from '../../processes/remote';
import { absent } from './remote-absent';
import { adder, brief, collector, crasher, farParent, idle, orphanWatcher, relay, watcher } from './remote-entries';
import { closedPort, HEARTBEAT, killChild, startChild, stopChild, type Child } from './remote-nodes';
import { askersOf, ignorer } from './careless-entries';
import { tick } from '../helpers';

jest.setTimeout(120_000);

let a: ClusterNode | undefined;
let b: Child | undefined;
let c: Child | undefined;
let d: Child | undefined;

beforeAll(async () => {
  b = await startChild('b', 1);
  a = await startClusterNode({ id: 'a', threads: 0, listen: { port: 0 }, peers: [{ port: b.port }], heartbeat: HEARTBEAT });
});

afterAll(async () => {
  await a?.close();
  await Promise.all([stopChild(b), stopChild(c), stopChild(d)]);
});

describe('remote processes', () => {
  test("a process's monitor on another node's process ends with it: the target's later end resolves nothing there", async () => {
    const node = a!;
    for (const stay of [true, false]) {
      const target = node.spawn(idle, null, { node: 'b' }); // on b's own thread, as b's DOWN and REPLY below
      const sum = node.spawn(collector, null);
      const watching = node.spawn(orphanWatcher, { target: target.ref, report: sum.ref, stay });
      const ended = watching.monitor().died;
      expect(await sum.request(0)).toBe(10); // its monitor is set
      if (!stay) await ended;
      target.kill();
      // Frames from here to b, and b's answers, keep their order: its DOWN (if one is owed) comes before this reply.
      expect(await node.spawn(adder, 1, { node: 'b' }).request(1)).toBe(2);
      sum.send(100);
      expect(await sum.request(0)).toBe(stay ? 111 : 110);
      watching.kill();
      sum.kill();
    }
  });

  test("a monitor set right after a spawn on another node tells how the process ended, though it ended before the monitor came", async () => {
    for (let i = 0; i < 30; i++) {
      for (const placement of [{ thread: 1 }, { thread: 0 }]) {
        // b's own thread, and its worker (the spawn then crosses a ring there too)
        const [ok, bad] = [false, true].map((fail) => a!.spawn(brief, fail, { node: 'b', placement }));
        const [okDied, badDied] = await Promise.all([ok.monitor().died, bad.monitor().died]);
        expect(okDied).toMatchObject({ reason: 'normal', error: null });
        expect(badDied).toMatchObject({ reason: 'failed', error: { message: 'failed at once' } });
      }
    }
  });

  test('a process spawned on another node answers requests; lookup across nodes, and a name reused after exit', async () => {
    const node = a!;
    expect(node.nodes()).toEqual(['b']);
    const p = node.spawn(adder, 5, { node: 'b', name: 'acc' });
    expect(p.node).toBe('b');
    expect(await p.request(1)).toBe(6);
    expect(await p.isAlive()).toBe(true);
    expect((await node.lookup('acc', adder, { node: 'b' }))?.ref).toEqual(p.ref);
    expect(await node.lookup('acc', adder)).toBeUndefined(); // a's own registry has no such name

    const died = p.monitor().died;
    p.kill();
    expect(await died).toMatchObject({ type: 'ProcessDied', reason: 'killed', process: p.ref });
    expect(await p.isAlive()).toBe(false);
    expect(await node.lookup('acc', adder, { node: 'b' })).toBeUndefined();
    await expect(p.request(1)).rejects.toMatchObject({ name: 'ProcessExitedError', reason: 'noproc' });

    const q = node.spawn(adder, 7, { node: 'b', name: 'acc' });
    expect(await q.request(1)).toBe(8);
    const found = await node.lookup('acc', adder, { node: 'b' });
    expect(found?.ref).toEqual(q.ref);
    expect(q.ref.id).not.toBe(p.ref.id);
    await q.register('acc-too');
    expect((await node.lookup('acc-too', adder, { node: 'b' }))?.ref).toEqual(q.ref);

    // A process on b's worker thread, registered there, reached through b's own thread.
    const w = await node.lookup('w-adder', adder, { node: 'b' });
    expect(w?.ref).toMatchObject({ node: 'b', thread: 0 });
    expect(await Promise.all([1, 2, 3].map((n) => w!.request(n)))).toEqual([101, 102, 103]);
    q.kill();
  });

  test("a request to a deaf process on another node's worker is forgotten there when it times out (that node kept its asker until the process ended)", async () => {
    const where = { node: 'b', placement: { thread: 0 } };
    const deaf = a!.spawn(ignorer, null, where);
    const askers = a!.spawn(askersOf, null, where); // on b's worker, beside it
    const timedOut = await Promise.all(Array.from({ length: 200 }, () => deaf.request(1, { timeout: 20 }).catch((e: Error) => e.name)));
    expect(timedOut).toEqual(Array(200).fill('TimeoutError'));
    // b's own thread asks its worker with the timeout REQUEST's `n` carries, timed from when each came: soon after.
    let kept = await askers.request(deaf.id);
    for (let tries = 0; kept > 0 && tries < 2000; tries++) kept = await tick(5).then(() => askers.request(deaf.id));
    expect(kept).toBe(0);
    deaf.kill();
    askers.kill();
  });

  test('a handle sent inside a message to another node is used there', async () => {
    const node = a!;
    const sum = node.spawn(collector, null);
    const r = node.spawn(relay, null, { node: 'b' });
    const answer = sum.request(0);
    r.send({ n: 21, replyTo: sum.ref });
    expect(await answer).toBe(42);
    r.kill();
    sum.kill();

    // sendAfter to a process of another node: sent once, when the timer fires; a cancelled one never.
    const far = node.spawn(collector, null, { node: 'b' });
    const cancelled = far.sendAfter(1000, 1);
    expect(cancelled.cancel()).toBe(true);
    far.sendAfter(5, 10);
    expect(await far.request(0)).toBe(5);
    far.send(1);
    expect(await far.request(0)).toBe(6);
    far.kill();
  });

  test('links and monitors across nodes: trapped (LinkDied), untrapped (killed), and from a parent to a remote child', async () => {
    const node = a!;
    const target = node.spawn(idle, null, { node: 'b' });
    const w = node.spawn(watcher, { target: target.ref, trap: true, tag: 7 });
    expect(await w.request(0)).toBe('[]'); // linked and monitoring
    target.kill();
    const seen = JSON.parse(await w.request(2)) as { type: string; reason: string; tag?: number; node: string }[];
    expect(seen).toEqual(
      expect.arrayContaining([
        { type: 'LinkDied', reason: 'killed', tag: 7, node: 'b' },
        expect.objectContaining({ type: 'ProcessDied', reason: 'killed', node: 'b' }),
      ]),
    );

    // Not trapping: a failure there kills the linked process here, carrying the error.
    const boom = node.spawn(crasher, null, { node: 'b' });
    const v = node.spawn(watcher, { target: boom.ref, trap: false, tag: 1 });
    expect(await v.request(0)).toBe('[]');
    const vDied = v.monitor().died;
    boom.send(1);
    const dead = await vDied;
    expect(dead.reason).toBe('linked');
    expect(dead.error?.message).toBe('crash 1');

    // A normal end there does not kill a linked process here.
    const quiet = node.spawn(watcher, { target: target.ref, trap: false, tag: 2 }); // target has ended: the link fires at once, noproc
    expect((await quiet.monitor().died).reason).toBe('linked');

    // A parent here, its linked child there: the parent's failure kills the child.
    const parent = node.spawn(farParent, 'b');
    const childRef = await parent.request(0);
    expect(childRef.node).toBe('b');
    const childDied = node.handle(childRef, idle).monitor().died;
    parent.send(1);
    expect(await childDied).toMatchObject({ reason: 'linked', process: childRef });
  });

  test('bad input: an entry the remote node lacks, a capture or message that does not fit, an unknown node, a refused connection; everything else unharmed', async () => {
    const node = a!;
    const fine = node.spawn(adder, 1, { node: 'b' });

    const missing = node.spawn(absent, 0, { node: 'b' });
    const gone = await missing.monitor().died;
    expect(gone.reason).toBe('noproc');
    expect(gone.error?.name).toBe('EntryError');
    expect(gone.error?.message).toMatch(/not deployed on the remote node/);
    await expect(missing.request(1)).rejects.toBeInstanceOf(ProcessExitedError);

    expect(() => node.spawn(adder, 'five' as unknown as number, { node: 'b' })).toThrow(EncodeError);
    expect(() => fine.send('six' as unknown as number)).toThrow(EncodeError);
    expect(() => node.spawn({ module: __filename, name: 'nothing' }, 0, { node: 'b' })).toThrow(EntryError);
    expect(() => node.spawn(adder, 1, { node: 'b', placement: { thread: 2 } })).toThrow(RangeError); // b has one worker: threads 0 and 1

    expect(() => node.spawn(adder, 1, { node: 'zz' })).toThrow(UnknownNodeError);
    const stranger = node.handle({ node: 'zz', thread: 0, id: 1, incarnation: 1 }, adder);
    await expect(stranger.request(1)).rejects.toBeInstanceOf(UnknownNodeError);
    await expect(node.lookup('acc', adder, { node: 'zz' })).rejects.toBeInstanceOf(UnknownNodeError);
    await expect(node.connect({ port: await closedPort() })).rejects.toBeInstanceOf(NodeUnreachableError);

    expect(await fine.request(41)).toBe(42);
    expect(node.nodes()).toEqual(['b']);
    fine.kill();
  });

  test('a node killed (SIGKILL): links fire with noconnection, monitors deliver ProcessDied, requests in flight reject', async () => {
    const node = a!;
    c = await startChild('c', 0);
    expect(await node.connect({ port: c.port })).toBe('c');
    const target = node.spawn(idle, null, { node: 'c' });
    const trapped = node.spawn(watcher, { target: target.ref, trap: true, tag: 3 });
    const linked = node.spawn(watcher, { target: target.ref, trap: false, tag: 4 });
    expect(await trapped.request(0)).toBe('[]');
    expect(await linked.request(0)).toBe('[]');
    const monitor = target.monitor().died;
    const linkedDied = linked.monitor().died;
    const inFlight = expect(target.request(1, { timeout: 60_000 })).rejects.toBeInstanceOf(NodeUnreachableError);
    const exited = new Promise((resolve) => c!.child.once('exit', resolve));
    c.child.kill('SIGKILL');
    await exited;

    expect(await monitor).toMatchObject({ reason: 'noconnection', process: target.ref });
    await inFlight;
    const seen = JSON.parse(await trapped.request(2)) as { type: string; reason: string; tag?: number }[];
    expect(seen).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'LinkDied', reason: 'noconnection', tag: 3 }), expect.objectContaining({ type: 'ProcessDied', reason: 'noconnection' })]));
    expect((await linkedDied).reason).toBe('linked');
    expect(node.nodes()).toEqual(['b']);
    expect(() => target.send(1)).toThrow(UnknownNodeError);
    trapped.kill();

    // b is unharmed.
    const still = node.spawn(adder, 2, { node: 'b' });
    expect(await still.request(1)).toBe(3);
    still.kill();
  });

  test('a node restarted under the same id: handles from its earlier run reach none of its new processes (noproc)', async () => {
    const node = a!;
    await stopChild(c); // killed by the test before, if it ran
    const before = await startChild('c', 0);
    c = before;
    expect(await node.connect({ port: before.port })).toBe('c');
    const old = node.spawn(adder, 1, { node: 'c' });
    expect(await old.request(1)).toBe(2);
    const dropped = old.monitor().died;
    await killChild(before);
    expect(await dropped).toMatchObject({ reason: 'noconnection' });
    expect(node.nodes()).toEqual(['b']);

    c = await startChild('c', 0);
    expect(await node.connect({ port: c.port })).toBe('c');
    const fresh = node.spawn(adder, 100, { node: 'c' }); // the first spawn of a fresh link to a fresh c: old's thread and id
    expect(fresh.ref).toMatchObject({ node: 'c', thread: old.ref.thread, id: old.ref.id });
    expect(fresh.ref.incarnation).not.toBe(old.ref.incarnation);
    expect(await fresh.request(1)).toBe(101);

    await expect(old.request(1)).rejects.toMatchObject({ name: 'ProcessExitedError', reason: 'noproc' });
    expect(await old.isAlive()).toBe(false);
    expect(await old.monitor().died).toMatchObject({ reason: 'noproc', process: old.ref });
    await expect(old.register('old-c')).rejects.toMatchObject({ reason: 'noproc' });
    old.send(5);
    old.kill();
    const watching = node.spawn(watcher, { target: old.ref, trap: true, tag: 5 });
    const seen = JSON.parse(await watching.request(2)) as { type: string; reason: string; tag?: number }[];
    expect(seen).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'LinkDied', reason: 'noproc', tag: 5 }), expect.objectContaining({ type: 'ProcessDied', reason: 'noproc' })]));
    watching.kill();
    // The handle, sent to c inside a message and used there, is of c's earlier run there too.
    const relayed = node.spawn(watcher, { target: old.ref, trap: true, tag: 6 }, { node: 'c' });
    expect(JSON.parse(await relayed.request(2))).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'LinkDied', reason: 'noproc', tag: 6 })]));
    relayed.kill();

    expect(await fresh.request(2)).toBe(102); // neither killed nor registered by the old handle
    expect(await node.lookup('old-c', adder, { node: 'c' })).toBeUndefined();
    const closed = fresh.monitor().died;
    await stopChild(c);
    await closed; // c dropped off here
    expect(node.nodes()).toEqual(['b']);
  });

  test('a node silent past the heartbeat (SIGSTOP, socket open) drops off as if its socket had closed', async () => {
    const node = a!;
    d = await startChild('d', 0);
    expect(await node.connect({ port: d.port })).toBe('d');
    const target = node.spawn(adder, 1, { node: 'd' });
    expect(await target.request(1)).toBe(2);
    const monitor = target.monitor().died;
    const inFlight = expect(target.request(1, { timeout: 60_000 })).rejects.toBeInstanceOf(NodeUnreachableError);
    d.child.kill('SIGSTOP');
    try {
      expect(await monitor).toMatchObject({ reason: 'noconnection' });
      await inFlight;
      expect(node.nodes()).toEqual(['b']);
    } finally {
      const exited = new Promise((resolve) => d!.child.once('exit', resolve));
      d.child.kill('SIGKILL');
      await exited;
    }
  });

  test('close: calls waiting on another node reject with NodeClosedError', async () => {
    const node = await startClusterNode({ id: 'a2', threads: 0, peers: [{ port: b!.port }], heartbeat: HEARTBEAT });
    const silent = node.spawn(idle, null, { node: 'b' });
    const waiting = expect(silent.request(1, { timeout: 60_000 })).rejects.toBeInstanceOf(NodeClosedError);
    await node.close();
    await waiting;
  });
});

describe('a careless cluster address', () => {
  test.each([7391, '127.0.0.1:7393', true, { prot: 7392 }, { port: 7394, tls: {} }])(
    'listen: %p is a TypeError, nothing listens (it listened on an ephemeral port)',
    async (listen) => {
      await expect(startClusterNode({ id: 'careless', threads: 0, listen: listen as never })).rejects.toBeInstanceOf(TypeError);
    },
  );

  test.each([null, 7391, { port: 7391, secret: 'x' }])('a peer address %p is a TypeError, the node is closed again', async (peer) => {
    const err = await startClusterNode({ id: 'careless', threads: 0, peers: [peer as never] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
  });
});
