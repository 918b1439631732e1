/** docs/PROTOCOL.md's node-to-node worked example, held to the NodeFrame codec (so the document cannot drift from the code). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NodeUnreachableError } from '../../core/errors';
import { ErrorRecord } from '../../core/frame';
import { NODE_CHANNEL, NodeFrameCodec, NodeKind, nodeFrame, SPAWN_BLOCK, type NodeFrame } from '../../processes/remote-frame';
import { startClusterNode } from '../../processes/remote';
import type { ClusterNode } from '../../processes';
import { Loads } from '../../processes/remote-place';
import { largestValue } from '../../transports/shm/layout';
import { connect, listen, type TcpConnection } from '../../transports/tcp';
import { until } from '../helpers';
import { adder, collector } from './remote-entries';

/** The frames of the worked example under "## Remote processes: node to node", by name. */
function example(): Map<string, Buffer> {
  const doc = readFileSync(join(__dirname, '../../docs/PROTOCOL.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Remote processes: node to node'));
  const block = /```\n(HELLO[\s\S]*?)```/.exec(section)![1];
  const frames = new Map<string, Buffer>();
  let name = '';
  for (const line of block.split('\n')) {
    const tokens = line.trim().split(/\s+/);
    if (/^[A-Z_]+$/.test(tokens[0])) name = tokens.shift()!;
    const hex: string[] = [];
    for (const t of tokens) {
      if (!/^[0-9a-f]{2}$/.test(t)) break;
      hex.push(t);
    }
    if (name) frames.set(name, Buffer.concat([frames.get(name) ?? Buffer.alloc(0), Buffer.from(hex.join(''), 'hex')]));
  }
  return frames;
}

test('the worked example is what the NodeFrame codec writes, and reads back', () => {
  const frames = example();
  const first = SPAWN_BLOCK.base + 1 * SPAWN_BLOCK.slotSpan + 1;
  expect(first).toBe(0x80400001);
  const expected = {
    HELLO: nodeFrame(NodeKind.HELLO, { text: 'a', thread: 0, n: 1, tag: 1000 }),
    REQUEST: nodeFrame(NodeKind.REQUEST, { call: 1, to: first, thread: 0, n: 30_000, body: Buffer.from([0x02]) }),
    REPLY: nodeFrame(NodeKind.REPLY, { call: 1, body: Buffer.from([0x0c]) }),
  };
  expect([...frames.keys()]).toEqual(Object.keys(expected));
  for (const [name, frame] of Object.entries(expected)) {
    expect(frames.get(name)!.toString('hex')).toBe(NodeFrameCodec.encode(frame).toString('hex'));
    expect(NodeFrameCodec.decode(frames.get(name)!)).toEqual(frame);
  }
});

/**
 * A raw peer on `conn`: opens the node channel, records every frame, says HELLO as node `id` and waits for the node's,
 * and for the node to have taken ours (it says its HELLO before reading the peer's, so having its HELLO is not enough).
 */
async function saidHello(node: { nodes(): string[] }, conn: TcpConnection, id: string, incarnation: number) {
  const wire = conn.open(NODE_CHANNEL, NodeFrameCodec);
  const frames: NodeFrame[] = [];
  const sub = wire.subscribe({ next: (f) => frames.push(f), error: () => undefined }); // the link's end is the test's to check
  wire.next(nodeFrame(NodeKind.HELLO, { text: id, thread: 0, n: 1, tag: incarnation }));
  await until(() => frames.some((f) => f.kind === NodeKind.HELLO) && node.nodes().includes(id));
  return { wire, frames, sub };
}

/** A node started with `options` and a raw peer `id` linked to it (as saidHello), for `body`; both closed after, whatever happens. */
async function withRawPeer(options: Parameters<typeof startClusterNode>[0], id: string, incarnation: number, body: (node: ClusterNode, peer: Awaited<ReturnType<typeof saidHello>> & { hello: NodeFrame }) => Promise<void>) {
  const node = await startClusterNode({ ...options, listen: { port: 0 } });
  const conn = await connect({ port: node.port! });
  try {
    const peer = await saidHello(node, conn, id, incarnation);
    await body(node, { ...peer, hello: peer.frames.find((f) => f.kind === NodeKind.HELLO)! });
    peer.sub.unsubscribe();
  } finally {
    await conn.close();
    await node.close();
  }
}

test('a raw peer: LOAD only when it changes; a spawn onto a worker within the connection but too large for its rings is noproc with a FrameError; names register() refuses, timeouts past a timer; the node lives on', async () => {
  const node = await startClusterNode({ id: 'ringed', threads: 1, ringBytes: 65536, listen: { port: 0 } });
  const conn = await connect({ port: node.port!, maxFrame: 1 << 20 });
  try {
    const { wire, frames, sub } = await saidHello(node, conn, 'raw', 7);
    const hello = frames.find((f) => f.kind === NodeKind.HELLO)!;
    // LOAD right after HELLO, then only when the figures change: the 200 ms tick does not say the same again.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const loads = frames.filter((f) => f.kind === NodeKind.LOAD).map((f) => f.text);
    expect(loads[0]).toMatch(/^\d+(,\d+)*$/);
    for (let i = 1; i < loads.length; i++) expect(loads[i]).not.toBe(loads[i - 1]);
    const id = hello.thread * 2 ** 32 + SPAWN_BLOCK.base + hello.n * SPAWN_BLOCK.slotSpan + 1;
    // module \n export \n a 1,000-character name: what the frame carries once, the ring's check counts thrice
    const text = `${require.resolve('./remote-entries')}\nsizer\n${'n'.repeat(1000)}`;
    const capture = Buffer.alloc(largestValue(65536) - 1024 - Buffer.byteLength(text) - 100); // the frame fits the node's maxFrame
    wire.next(nodeFrame(NodeKind.SPAWN, { to: id, thread: 0, text, body: capture }));
    wire.next(nodeFrame(NodeKind.MONITOR, { to: id, thread: 0, tag: 5 }));
    await until(() => frames.some((f) => f.kind === NodeKind.DOWN));
    const down = frames.find((f) => f.kind === NodeKind.DOWN)!;
    expect(down).toMatchObject({ tag: 5, text: 'noproc' });
    expect(ErrorRecord.decode(down.body)).toMatchObject({ name: 'FrameError' });
    // A name register() refuses is refused from a peer too; a timeout past what a timer keeps is taken as that.
    const target = node.spawn(adder, 1, { placement: { thread: 1 } });
    const warn = jest.spyOn(process, 'emitWarning');
    try {
      wire.next(nodeFrame(NodeKind.REGISTER, { call: 1, to: target.id, thread: 1, text: '' }));
      wire.next(nodeFrame(NodeKind.REGISTER, { call: 2, to: target.id, thread: 1, text: 'x'.repeat(2000) }));
      wire.next(nodeFrame(NodeKind.REQUEST, { call: 3, to: target.id, thread: 1, n: 2 ** 40, body: Buffer.from([0x0a]) }));
      await until(() => frames.filter((f) => f.kind === NodeKind.ANSWER || f.kind === NodeKind.REPLY).length === 3);
      expect(frames.find((f) => f.kind === NodeKind.ANSWER && f.call === 1)?.text).toBe('TypeError');
      expect(frames.find((f) => f.kind === NodeKind.ANSWER && f.call === 2)?.text).toBe('RangeError');
      expect(frames.find((f) => f.call === 3)).toMatchObject({ kind: NodeKind.REPLY, body: Buffer.from([0x0c]) }); // 5 + 1
      expect(warn.mock.calls.flat().map(String).join(' ')).not.toMatch(/TimeoutOverflow|32-bit signed/);
    } finally {
      warn.mockRestore();
    }
    expect(await node.lookup('', adder).catch((err: Error) => err.name)).toBe('TypeError');
    sub.unsubscribe();
    expect(await node.spawn(adder, 1, { placement: { thread: 0 } }).request(1)).toBe(2); // the worker and the node live on
  } finally {
    await conn.close();
    await node.close();
  }
});

test("a peer's error record that does not decode (REPLY_ERROR, DOWN, EXIT) is a DecodeError in its place: the request rejects, the monitor fires, the node lives on", async () => {
  const node = await startClusterNode({ id: 'judge', threads: 0, listen: { port: 0 } });
  const conn = await connect({ port: node.port! });
  try {
    const { wire, frames, sub } = await saidHello(node, conn, 'liar', 9);
    const garbage = Buffer.from([0xff, 0xff, 0xff]); // not an ErrorRecord
    // A process "on" the raw peer: the node sends SPAWN, and believes it.
    const far = node.spawn(adder, 1, { node: 'liar' });
    await until(() => frames.some((f) => f.kind === NodeKind.SPAWN));
    const died = far.monitor().died;
    const asked = far.request(1).catch((err: Error) => err);
    await until(() => frames.some((f) => f.kind === NodeKind.MONITOR) && frames.some((f) => f.kind === NodeKind.REQUEST));
    const monitor = frames.find((f) => f.kind === NodeKind.MONITOR)!;
    const request = frames.find((f) => f.kind === NodeKind.REQUEST)!;
    wire.next(nodeFrame(NodeKind.REPLY_ERROR, { call: request.call, body: garbage }));
    wire.next(nodeFrame(NodeKind.DOWN, { from: far.id, fromThread: 0, tag: monitor.tag, text: 'failed', body: garbage }));
    // An EXIT for a process that has no such link: decoded (and found wanting) before it is looked up.
    wire.next(nodeFrame(NodeKind.EXIT, { to: 12345, thread: 0, from: far.id, fromThread: 0, text: 'failed', body: garbage }));
    const err = await asked;
    expect(err).toMatchObject({ name: 'RemoteError', remoteName: 'DecodeError' });
    expect(await died).toMatchObject({ reason: 'failed', error: { name: 'DecodeError' } });
    sub.unsubscribe();
    expect(await node.spawn(adder, 1).request(1)).toBe(2); // the node lives on
  } finally {
    await conn.close();
    await node.close();
  }
});

test("a peer's SPAWN of an id already live on a worker is refused, not put over the live process", async () => {
  const node = await startClusterNode({ id: 'host', threads: 1, listen: { port: 0 } });
  const conn = await connect({ port: node.port! });
  try {
    const { wire, frames, sub } = await saidHello(node, conn, 'twice', 3);
    const hello = frames.find((f) => f.kind === NodeKind.HELLO)!;
    const id = hello.thread * 2 ** 32 + SPAWN_BLOCK.base + hello.n * SPAWN_BLOCK.slotSpan + 1; // placed on thread 0, the worker
    const text = `${require.resolve('./remote-entries')}\nadder\n`;
    wire.next(nodeFrame(NodeKind.SPAWN, { to: id, thread: 0, text, body: Buffer.from([0x02]) })); // adds 1
    wire.next(nodeFrame(NodeKind.REQUEST, { call: 1, to: id, thread: 0, n: 30_000, body: Buffer.from([0x0a]) })); // 5
    await until(() => frames.some((f) => f.call === 1));
    expect(frames.find((f) => f.call === 1)).toMatchObject({ kind: NodeKind.REPLY, body: Buffer.from([0x0c]) }); // 6
    // The same id again (the gateway, on the other thread, cannot see it is taken): the worker refuses it, and the
    // first process still answers as itself (put over it, the new one answered 105, and the first ran on unreachable).
    wire.next(nodeFrame(NodeKind.SPAWN, { to: id, thread: 0, text, body: Buffer.from([0xc8, 0x01]) })); // adds 100
    wire.next(nodeFrame(NodeKind.REQUEST, { call: 2, to: id, thread: 0, n: 30_000, body: Buffer.from([0x0a]) }));
    await until(() => frames.some((f) => f.call === 2));
    expect(frames.find((f) => f.call === 2)).toMatchObject({ kind: NodeKind.REPLY, body: Buffer.from([0x0c]) }); // still 6
    expect(await node.counts()).toEqual([1, 0]); // one process on the worker, none on the node's own thread
    sub.unsubscribe();
  } finally {
    await conn.close();
    await node.close();
  }
});

test('a peer that is no node (a plain rxwire TCP listener: it takes the link and says nothing) is unreachable after the heartbeat timeout (at most 10 s), not waited for ever', async () => {
  const server = await listen();
  const accepted = new Promise<TcpConnection>((resolve) => server.connections$.subscribe(resolve));
  try {
    const started = Date.now();
    const heartbeat = { interval: 100, timeout: 300 };
    await expect(startClusterNode({ id: 'lonely', threads: 0, heartbeat, peers: [{ port: server.port }] })).rejects.toThrow(/said no HELLO within 300 ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    const link = await accepted;
    await until(() => link.stats().state === 'gone'); // the node hung up: nothing of it left open
  } finally {
    await server.close();
  }
});

test("a peer's message that does not decode for a process on the node's own thread is lost and said (RXWIRE_MESSAGE_UNDECODABLE), as from another thread", async () => {
  const node = await startClusterNode({ id: 'reader', threads: 0, listen: { port: 0 } });
  const conn = await connect({ port: node.port! });
  const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
  try {
    const { wire, frames, sub } = await saidHello(node, conn, 'garbler', 4);
    const hello = frames.find((f) => f.kind === NodeKind.HELLO)!;
    const p = node.spawn(adder, 1);
    wire.next(nodeFrame(NodeKind.MSG, { to: p.id, thread: hello.thread, body: Buffer.alloc(11, 0xff) })); // no long ends
    await until(() => warn.mock.calls.length > 0);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining(`a message to process ${p.id} did not decode`), { code: 'RXWIRE_MESSAGE_UNDECODABLE' });
    expect(await p.request(1)).toBe(2); // unharmed
    sub.unsubscribe();
  } finally {
    warn.mockRestore();
    await conn.close();
    await node.close();
  }
});

test("a peer's STOP on the node channel (it reads no more): the link is down for this node at once — not listed, its calls rejected, not timed out — and what the peer still sends is delivered", async () => {
  const node = await startClusterNode({ id: 'talker', threads: 0, listen: { port: 0 } });
  const conn = await connect({ port: node.port! });
  try {
    const sum = node.spawn(collector, null);
    const { wire, sub, frames } = await saidHello(node, conn, 'deaf', 5);
    const hello = frames.find((f) => f.kind === NodeKind.HELLO)!;
    const far = node.spawn(adder, 1, { node: 'deaf' }); // a process "on" the peer: the node believes it
    const asked = far.request(1, { timeout: 60_000 }).catch((err: Error) => err);
    await until(() => frames.some((f) => f.kind === NodeKind.REQUEST));
    sub.unsubscribe(); // its last subscriber gone: the channel says STOP, and its COMPLETE is not sent
    await until(() => !node.nodes().includes('deaf')); // the old code listed it for as long as the heartbeat lived
    expect(await asked).toBeInstanceOf(NodeUnreachableError); // it waited for its time-out
    wire.next(nodeFrame(NodeKind.MSG, { to: sum.id, thread: hello.thread, body: Buffer.from([0x0e]) })); // 7, after the STOP
    expect(await sum.request(0)).toBe(7);
  } finally {
    await conn.close();
    await node.close();
  }
});

test("a peer's SPAWN of an id live on the node's own thread: a RangeError to the parent; the live process answers as itself and keeps its own ending", async () => {
  await withRawPeer({ id: 'own', threads: 0 }, 'again', 6, async (_node, { wire, frames, hello }) => {
    const id = hello.thread * 2 ** 32 + SPAWN_BLOCK.base + hello.n * SPAWN_BLOCK.slotSpan + 1;
    const text = `${require.resolve('./remote-entries')}\nadder\n`;
    wire.next(nodeFrame(NodeKind.SPAWN, { to: id, thread: hello.thread, text, body: Buffer.from([0x02]), n: 16 })); // adds 1
    wire.next(nodeFrame(NodeKind.SPAWN, { to: id, thread: hello.thread, text, body: Buffer.from([0xc8, 0x01]), n: 16, from: 3000 })); // again
    await until(() => frames.some((f) => f.kind === NodeKind.EXIT));
    const exit = frames.find((f) => f.kind === NodeKind.EXIT)!;
    expect(exit).toMatchObject({ to: 3000, from: id, text: 'noproc' });
    expect(ErrorRecord.decode(exit.body)).toMatchObject({ name: 'RangeError', message: expect.stringContaining(`id ${id} is in use`) });
    wire.next(nodeFrame(NodeKind.REQUEST, { call: 1, to: id, thread: hello.thread, n: 30_000, body: Buffer.from([0x0a]) }));
    await until(() => frames.some((f) => f.call === 1));
    expect(frames.find((f) => f.call === 1)).toMatchObject({ kind: NodeKind.REPLY, body: Buffer.from([0x0c]) }); // 5 + 1
    // Killed, it ended `killed`: a monitor after that hears so, with no error — not the refused spawn's RangeError.
    wire.next(nodeFrame(NodeKind.KILL, { to: id, thread: hello.thread }));
    for (let call = 2; ; call++) {
      wire.next(nodeFrame(NodeKind.ALIVE, { call, to: id, thread: hello.thread }));
      await until(() => frames.some((f) => f.kind === NodeKind.ANSWER && f.call === call));
      if (frames.find((f) => f.kind === NodeKind.ANSWER && f.call === call)!.n === 0) break;
    }
    wire.next(nodeFrame(NodeKind.MONITOR, { to: id, thread: hello.thread, tag: 9 }));
    await until(() => frames.some((f) => f.kind === NodeKind.DOWN));
    const down = frames.find((f) => f.kind === NodeKind.DOWN)!;
    expect(down).toMatchObject({ tag: 9, text: 'killed' });
    expect(down.body.length).toBe(0);
  });
});

test("a SPAWN's module: an absolute path or a file: URL; a relative one, or a text naming no export, fails as an entry that does not load (EntryError)", async () => {
  await withRawPeer({ id: 'loader', threads: 0 }, 'spawner', 8, async (_node, { wire, frames, hello }) => {
    const idOf = (k: number) => hello.thread * 2 ** 32 + SPAWN_BLOCK.base + hello.n * SPAWN_BLOCK.slotSpan + k;
    const spawn = (k: number, text: string) => wire.next(nodeFrame(NodeKind.SPAWN, { to: idOf(k), thread: hello.thread, text, body: Buffer.from([0x02]), n: 16, from: 100 + k }));
    const exitOf = async (k: number) => {
      await until(() => frames.some((f) => f.kind === NodeKind.EXIT && f.to === 100 + k));
      const exit = frames.find((f) => f.kind === NodeKind.EXIT && f.to === 100 + k)!;
      return { text: exit.text, error: ErrorRecord.decode(exit.body) };
    };
    // Read against rxwire's own folder, './remote-entries' was no module at all (or, named right, one of rxwire's).
    spawn(1, './remote-entries\nadder\n');
    expect(await exitOf(1)).toMatchObject({ text: 'noproc', error: { name: 'EntryError', message: expect.stringContaining('is not an absolute path or a file: URL') } });
    spawn(2, require.resolve('./remote-entries')); // no export line: it said "an entry named undefined"
    expect(await exitOf(2)).toMatchObject({ text: 'noproc', error: { name: 'EntryError', message: expect.stringContaining('names no export') } });
    spawn(3, `${pathToFileURL(require.resolve('./remote-entries')).href}\nadder\n`); // refused before, though a local spawn takes a URL
    wire.next(nodeFrame(NodeKind.REQUEST, { call: 1, to: idOf(3), thread: hello.thread, n: 30_000, body: Buffer.from([0x0a]) }));
    await until(() => frames.some((f) => f.call === 1));
    expect(frames.find((f) => f.call === 1)).toMatchObject({ kind: NodeKind.REPLY, body: Buffer.from([0x0c]) });
  });
});

test("a LOAD's text is read only as loadText writes it: anything else leaves the last loads standing", () => {
  const loads = new Loads();
  loads.update('5,0,7'); // thread 1 the least loaded of the two workers (the node's own thread, 2, last)
  expect(loads.place('least-loaded', 2)).toBe(1);
  for (const text of ['', ' 9', '9,,9', '0x0,9', '1e3,0', '-1,0', '01,0', '9,9,', 'a,0']) loads.update(text); // Number() reads most of these
  expect(loads.place('least-loaded', 2)).toBe(1);
  loads.update('0,8,0');
  expect(loads.place('least-loaded', 2)).toBe(0);
});

test.each([
  ['hangs up (CLOSE)', false],
  ['says STOP, then hangs up', true],
])('a peer that sends 60 000 messages and %s: every one is delivered before the link ends', async (_how, stop) => {
  const node = await startClusterNode({ id: 'sink', threads: 0, listen: { port: 0 } });
  const conn = await connect({ port: node.port! });
  try {
    const sum = node.spawn(collector, null);
    const last = node.spawn(collector, null); // told last: once it has its message, every one before it was delivered
    const { wire, sub, frames } = await saidHello(node, conn, 'burst', 3);
    const hello = frames.find((f) => f.kind === NodeKind.HELLO)!;
    const n = 60_000;
    for (let i = 0; i < n; i++) wire.next(nodeFrame(NodeKind.MSG, { to: sum.id, thread: hello.thread, body: Buffer.from([0x02]) })); // 1 each
    wire.next(nodeFrame(NodeKind.MSG, { to: last.id, thread: hello.thread, body: Buffer.from([0x02]) }));
    await until(() => wire.stats().sent === n + 2);
    if (stop) sub.unsubscribe();
    await conn.close();
    // The link delivers what it had read before it ends (the STOP fix of 1d6f280 ended it at once: ~1 300 arrived).
    expect(await last.request(0, { timeout: 20_000 })).toBe(1);
    expect(await sum.request(0)).toBe(n);
    await until(() => !node.nodes().includes('burst'));
  } finally {
    await conn.close();
    await node.close();
  }
});
