/**
 * Spawn ids across many links: a node takes the ids of its spawns on another
 * node from a counter per link (docs/PROTOCOL.md, "Spawn ids"), one of 256.
 * Until session 39 the n-th link made took counter n mod 256 and reset it, so
 * the 257th link made in a node's life reset the counter of the first, were
 * it still up, and that link's next spawn repeated an id of a live process:
 * the other node refused the spawn, and the new handle reached the old process.
 */
import { startClusterNode, type ClusterNode } from '../../processes/remote';
import { until } from '../helpers';
import { NodeClosedError } from '../../core/errors';
import { adder, lateMonitor, lateMonitors } from './remote-entries';

jest.setTimeout(120_000);

const LINKS = 256;

test(`a node that has made ${LINKS} more links since keeps the spawn ids of a link still up its own`, async () => {
  const nodes: ClusterNode[] = [];
  try {
    const a = await startClusterNode({ id: 'a', threads: 0, listen: { port: 0 } });
    nodes.push(a);
    const b = await startClusterNode({ id: 'b', threads: 0, peers: [{ port: a.port! }] });
    nodes.push(b);
    const first = b.spawn(adder, 1, { node: 'a' });
    expect(await first.request(1)).toBe(2);
    // 256 links made and dropped: the last one took the first link's counter, and reset it, before.
    for (let i = 0; i < LINKS; i++) {
      const t = await startClusterNode({ id: `t${i}`, threads: 0, listen: { port: 0 } });
      nodes.push(t);
      await b.connect({ port: t.port! });
      await t.close();
      await until(() => !b.nodes().includes(`t${i}`));
      nodes.pop();
    }
    const second = b.spawn(adder, 100, { node: 'a' });
    expect(second.id).not.toBe(first.id);
    expect(await second.request(1)).toBe(101);
    expect(await first.request(1)).toBe(2);
  } finally {
    for (const node of nodes.reverse()) await node.close();
  }
});

test("monitor() from a process that has ended is ProcessExitedError, and on another node's process after close NodeClosedError", async () => {
  const a = await startClusterNode({ id: 'ma', threads: 0, listen: { port: 0 } });
  const b = await startClusterNode({ id: 'mb', threads: 0, peers: [{ port: a.port! }] });
  try {
    b.spawn(lateMonitor, null);
    await until(() => lateMonitors.length > 0);
    expect(lateMonitors).toEqual(['ProcessExitedError']);
    const far = b.spawn(adder, 1, { node: 'ma' });
    expect(await far.request(1)).toBe(2);
    await b.close();
    expect(() => far.monitor()).toThrow(NodeClosedError);
  } finally {
    await b.close();
    await a.close();
  }
});
