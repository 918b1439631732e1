/**
 * A node restarted under the same id: its processes' ids count again from
 * the start, so a ref kept from the earlier run has the thread and id of a
 * new process. The ref's incarnation keeps it from reaching that process:
 * every call acts as on a process that has ended (`noproc`).
 */
import { ProcessExitedError, startNode, type Process, type ProcessNode, type ProcessRef } from '../../processes';
import { liveThreads, threadsBackTo } from '../helpers';
import { adder } from './entries';
import { LONG } from './places';
import { watcher } from './remote-entries';

jest.setTimeout(60_000);

const T0 = { placement: { thread: 0 } } as const;
const HERE = { placement: { thread: 1 } } as const; // the node's own thread, in a node of one worker

let baseline = 0;
const nodes: ProcessNode[] = [];

beforeAll(() => {
  baseline = liveThreads();
});

afterAll(async () => {
  await Promise.all(nodes.map((node) => node.close()));
  await threadsBackTo(baseline);
});

function start(): ProcessNode {
  const node = startNode({ id: 'again', threads: 1 });
  nodes.push(node);
  return node;
}

it('refs kept from before a restart reach no process of the new run, though thread and id are those of new ones', async () => {
  const first = start();
  const old = [first.spawn(adder, 1, T0), first.spawn(adder, 1, HERE)];
  expect(await Promise.all(old.map((p) => p.request(1, LONG)))).toEqual([2, 2]);
  const refs: ProcessRef[] = old.map((p) => p.ref);
  await first.close();

  const second = start();
  const fresh: Process<number, number>[] = [second.spawn(adder, 100, T0), second.spawn(adder, 100, HERE)];
  for (const [i, p] of fresh.entries()) {
    expect(p.ref).toMatchObject({ node: 'again', thread: refs[i].thread, id: refs[i].id });
    expect(p.ref.incarnation).not.toBe(refs[i].incarnation);
    expect(Number.isInteger(p.ref.incarnation) && p.ref.incarnation >= 1 && p.ref.incarnation < 2 ** 31).toBe(true);
  }

  for (const ref of refs) {
    const stale = second.handle(ref, adder);
    expect(stale.ref).toEqual(ref);
    const asked = stale.request(1, LONG);
    await expect(asked).rejects.toBeInstanceOf(ProcessExitedError);
    await expect(asked).rejects.toMatchObject({ reason: 'noproc' });
    expect(await stale.isAlive()).toBe(false);
    expect(await stale.monitor().died).toMatchObject({ type: 'ProcessDied', reason: 'noproc', process: ref });
    await expect(stale.register('stale-name')).rejects.toMatchObject({ name: 'ProcessExitedError', reason: 'noproc' });
    stale.send(5);
    stale.sendAfter(6, 0).cancel();
    stale.sendAfter(7, 1);
    stale.kill();

    // A process on either thread that links to it (trapping exits) and monitors it hears noproc at once.
    for (const where of [T0, HERE]) {
      const watching = second.spawn(watcher, { target: ref, trap: true, tag: 9 }, where);
      const seen = JSON.parse(await watching.request(2, LONG)) as { type: string; reason: string; tag?: number }[];
      expect(seen).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ type: 'LinkDied', reason: 'noproc', tag: 9 }),
          expect.objectContaining({ type: 'ProcessDied', reason: 'noproc' }),
        ]),
      );
      watching.kill();
    }
    // One that does not trap exits ends, as linked to a process that has ended.
    const linked = second.spawn(watcher, { target: ref, trap: false, tag: 1 }, T0);
    expect(await linked.monitor().died).toMatchObject({ reason: 'linked' });
  }

  // The new processes were neither killed nor named, and still answer as themselves.
  expect(await Promise.all(fresh.map((p) => p.request(1, LONG)))).toEqual([101, 101]);
  expect(await second.lookup('stale-name', adder)).toBeUndefined();
  // A ref of the new run, copied by hand, reaches its process; the same ref with another incarnation does not.
  const copy = { ...fresh[0].ref };
  expect(await second.handle(copy, adder).request(2, LONG)).toBe(102);
  await expect(second.handle({ ...copy, incarnation: (copy.incarnation % (2 ** 31 - 1)) + 1 }, adder).request(2, LONG)).rejects.toMatchObject({ reason: 'noproc' });
  expect(() => second.handle({ ...copy, incarnation: 0 }, adder)).toThrow(RangeError);
  expect(() => second.handle({ node: copy.node, thread: copy.thread, id: copy.id } as ProcessRef, adder)).toThrow(RangeError);
});
