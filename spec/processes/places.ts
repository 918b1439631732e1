/** What the process specs share: where to spawn, a long request timeout, and one node per spec file. */
import { startNode, type ProcessNode } from '../../processes';
import { liveThreads, threadsBackTo } from '../helpers';

export const T0 = { placement: { thread: 0 } } as const;
export const T1 = { placement: { thread: 1 } } as const;
/** The node's own thread (this one), in a node of two workers. */
export const HERE = { placement: { thread: 2 } } as const;
export const LONG = { timeout: 120_000 };

/**
 * Starts a node of two workers before the file's tests (`warm` waits until
 * both answer) and closes it after them, leaving no thread behind; returns a
 * getter for it.
 */
export function nodeForFile(warm: (node: ProcessNode) => Promise<void>): () => ProcessNode {
  let node: ProcessNode | undefined;
  let baseline = 0;
  beforeAll(async () => {
    baseline = liveThreads();
    node = startNode({ threads: 2 });
    await warm(node);
  });
  afterAll(async () => {
    await node?.close();
    await threadsBackTo(baseline);
  });
  return () => node!;
}
