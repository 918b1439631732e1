import { startNode } from '../../processes';
import type { ProcessNode } from '../../processes';
import { adder } from './entries';

let node: ProcessNode | undefined;
afterEach(async () => {
  await node?.close();
  node = undefined;
});

it('spawns on a worker and on this thread, and answers requests', async () => {
  node = startNode({ threads: 2 });
  const far = node.spawn(adder, 10, { placement: { thread: 0 } });
  const near = node.spawn(adder, 100, { placement: { thread: 2 } });
  expect(await far.request(1)).toBe(11);
  expect(await near.request(1)).toBe(101);
  expect(await node.counts()).toEqual([1, 0, 1]);
});
