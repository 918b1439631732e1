/** docs/PROTOCOL.md's node-to-node worked example, held to the NodeFrame codec (so the document cannot drift from the code). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeFrameCodec, NodeKind, nodeFrame, SPAWN_BLOCK } from '../../processes/remote-frame';

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
    HELLO: nodeFrame(NodeKind.HELLO, { text: 'a', thread: 0, n: 1 }),
    REQUEST: nodeFrame(NodeKind.REQUEST, { call: 1, to: first, thread: 0, n: 30_000, body: Buffer.from([0x02]) }),
    REPLY: nodeFrame(NodeKind.REPLY, { call: 1, body: Buffer.from([0x0c]) }),
  };
  expect([...frames.keys()]).toEqual(Object.keys(expected));
  for (const [name, frame] of Object.entries(expected)) {
    expect(frames.get(name)!.toString('hex')).toBe(NodeFrameCodec.encode(frame).toString('hex'));
    expect(NodeFrameCodec.decode(frames.get(name)!)).toEqual(frame);
  }
});
