/**
 * Cluster nodes over NATS: a real nats-server (examples/nats-server.ts) on
 * an ephemeral port; this jest process is node `a` (one worker thread),
 * `b` (one worker) and `c` are real child processes
 * (spec/processes/remote-child.ts) that meet it over NATS only. The
 * NodeFrames are those of TCP; only the carrier differs.
 */
import { NodeUnreachableError, UnknownNodeError } from '../../core/errors';
import { startNatsServer, type NatsServer } from '../../examples/nats-server';
import { startClusterNode, type ClusterNode } from '../../processes/remote';
import { liveThreads, threadsBackTo } from '../helpers';
import { adder, idle, watcher } from './remote-entries';
import { closedPort, HEARTBEAT, killChild, startChild, stopChild, type Child } from './remote-nodes';
import { farUser } from './remote-thread-entries';
import { LONG, T0 } from './places';

jest.setTimeout(180_000);

let server: NatsServer | undefined;
let a: ClusterNode | undefined;
let b: Child | undefined;
let c: Child | undefined;
let baseline = 0;

beforeAll(async () => {
  baseline = liveThreads();
  server = await startNatsServer({ jetstream: false });
  b = await startChild('b', 1, server.url);
  a = await startClusterNode({ id: 'a', threads: 1, nats: { servers: server.url }, peers: ['b'], heartbeat: HEARTBEAT });
  expect(await a.spawn(adder, 1, T0).request(1, LONG)).toBe(2);
});

afterAll(async () => {
  await a?.close();
  await Promise.all([stopChild(b), stopChild(c)]);
  await server?.stop();
  await threadsBackTo(baseline);
});

describe('remote processes over NATS', () => {
  test('spawn with placement, request, lookup across nodes, from this thread and from a worker', async () => {
    expect(a!.nodes()).toEqual(['b']);
    const p = a!.spawn(adder, 5, { node: 'b', name: 'acc', placement: { thread: 0 } });
    expect(p.ref).toMatchObject({ node: 'b', thread: 0 });
    expect(await p.request(1, LONG)).toBe(6);
    expect((await a!.lookup('acc', adder, { node: 'b' }))?.ref).toEqual(p.ref);
    expect((await a!.lookup('w-adder', adder, { node: 'b' }))?.ref).toMatchObject({ node: 'b', thread: 0 });
    p.kill();

    const user = a!.spawn(farUser, 'b', T0);
    expect(JSON.parse(await user.request(7, LONG))).toEqual({ here: 0, there: 'b', sum: 8, same: true, reason: 'killed', alive: false });
    user.kill();
  });

  test('two connects to one node at once link it once: both resolve with its id (both failed, naming this node)', async () => {
    const twice = await startClusterNode({ id: 'twice', threads: 0, nats: { servers: server!.url } });
    try {
      expect(await Promise.all([twice.connect('b'), twice.connect('b')])).toEqual(['b', 'b']);
      expect(twice.nodes()).toEqual(['b']);
      expect(await twice.spawn(adder, 1, { node: 'b' }).request(1, LONG)).toBe(2);
    } finally {
      await twice.close();
    }
  });

  test('bad input: a node not on NATS, one already linked, a node id without the nats option, an id NATS cannot carry, no NATS server', async () => {
    await expect(a!.connect('nobody')).rejects.toBeInstanceOf(NodeUnreachableError);
    await expect(a!.connect('b')).rejects.toBeInstanceOf(NodeUnreachableError); // already linked
    expect(a!.nodes()).toEqual(['b']);
    const plain = await startClusterNode({ id: 'plain', threads: 0 });
    try {
      await expect(plain.connect('b')).rejects.toBeInstanceOf(TypeError);
    } finally {
      await plain.close();
    }
    // An id that is not one subject token, and a NATS server that is not there: typed errors, the node closed again.
    await expect(startClusterNode({ id: 'a.b', threads: 0, nats: { servers: server!.url } })).rejects.toBeInstanceOf(TypeError);
    await expect(startClusterNode({ id: 'lonely', threads: 0, nats: { servers: `nats://127.0.0.1:${await closedPort()}` } })).rejects.toBeInstanceOf(NodeUnreachableError);
    expect(await a!.spawn(adder, 1, { node: 'b' }).request(1, LONG)).toBe(2);
  });

  test('a node killed: its link drops (noconnection), LinkDied on a trapping process of a worker, requests in flight reject', async () => {
    c = await startChild('c', 0, server!.url);
    expect(await a!.connect('c')).toBe('c');
    const target = a!.spawn(idle, null, { node: 'c' });
    const trapped = a!.spawn(watcher, { target: target.ref, trap: true, tag: 5 }, T0);
    expect(await trapped.request(0, LONG)).toBe('[]');
    const monitor = target.monitor().died;
    const inFlight = expect(target.request(1, { timeout: 60_000 })).rejects.toBeInstanceOf(NodeUnreachableError);
    await killChild(c);

    expect(await monitor).toMatchObject({ reason: 'noconnection', process: target.ref });
    await inFlight;
    const seen = JSON.parse(await trapped.request(2, LONG)) as unknown[];
    expect(seen).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'LinkDied', reason: 'noconnection', tag: 5, node: 'c' })]));
    expect(a!.nodes()).toEqual(['b']);
    expect(() => target.send(1)).toThrow(UnknownNodeError);
    trapped.kill();

    const still = a!.spawn(adder, 2, { node: 'b' });
    expect(await still.request(1, LONG)).toBe(3);
    still.kill();
  });
});
