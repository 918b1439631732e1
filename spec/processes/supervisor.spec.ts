/**
 * Supervisors on real worker threads: each strategy (one-for-one,
 * one-for-all, rest-for-one), restart kinds (transient, temporary) and the
 * restart limit (the supervisor kills its children and fails with
 * RestartLimitError). Children report each start to a probe, so the test
 * waits for the starts it expects instead of sleeping.
 */
import {
  startNode,
  supervisor,
  supervisorChildren,
  supervisorSpec,
  type ChildInfo,
  type ProcessNode,
  type ProcessRef,
  type Restart,
  type Strategy,
} from '../../processes/index';
import { TimeoutError } from '../../core/errors';
import { child, CHILD, failsAtStart, failsOnOne, linksThenReturns, respawns } from './supervisor-entries';
import { codec } from '../../core/codec';
import { probe } from './protocol-probe';

const WAIT = { timeout: 60_000 };

describe('supervisors', () => {
  let node: ProcessNode;
  beforeAll(async () => {
    node = startNode({ threads: 2 });
  });
  afterAll(async () => {
    await node?.close();
  });

  /** A supervisor of children a, b, c on worker 1, and a probe on worker 0 that hears their starts. */
  async function supervise(strategy: Strategy, restart: Partial<Record<string, Restart>> = {}, limit = { maxRestarts: 3, period: 60_000 }) {
    const watcher = node.spawn(probe, null, { placement: { thread: 0 } });
    expect(await watcher.isAlive()).toBe(true); // it runs before the children report to it
    const children = ['a', 'b', 'c'].map((name) => ({ name, entry: child, capture: { name, probe: watcher.ref }, restart: restart[name] }));
    const sup = node.spawn(supervisor, supervisorSpec(children, { strategy, ...limit }), { placement: { thread: 1 } });
    const starts = (n: number) => watcher.request(`wait ${n}`, WAIT);
    expect(await starts(3)).toEqual(['start a', 'start b', 'start c']);
    const initial = await supervisorChildren(sup, WAIT);
    /** Sends `order` to the current incarnation of child `name`. */
    const tell = async (name: string, order: 'crash' | 'exit') => {
      const info = (await supervisorChildren(sup, WAIT)).find((c) => c.name === name)!;
      node.handle(info.ref!, CHILD).send(order);
    };
    return { sup, watcher, initial, starts, tell, close: () => (sup.kill(), watcher.kill()) };
  }

  const sameRef = (a: ProcessRef | null, b: ProcessRef | null) => a !== null && b !== null && a.id === b.id && a.thread === b.thread;
  const changed = (before: ChildInfo[], after: ChildInfo[]) => after.filter((c, i) => !sameRef(c.ref, before[i].ref)).map((c) => c.name);

  it('one-for-one restarts the child that failed, only it', async () => {
    const s = await supervise('one-for-one');
    try {
      await s.tell('b', 'crash');
      expect((await s.starts(4)).slice(3)).toEqual(['start b']);
      const after = await supervisorChildren(s.sup, WAIT);
      expect(changed(s.initial, after)).toEqual(['b']);
      expect(after.map((c) => c.restarts)).toEqual([0, 1, 0]);
      expect(await node.handle(s.initial[1].ref!, CHILD).isAlive()).toBe(false);
      expect(await node.handle(s.initial[0].ref!, CHILD).isAlive()).toBe(true);
    } finally {
      s.close();
    }
  });

  it('one-for-all restarts every child, in order, when one fails', async () => {
    const s = await supervise('one-for-all');
    try {
      await s.tell('b', 'crash');
      expect((await s.starts(6)).slice(3)).toEqual(['start a', 'start b', 'start c']);
      const after = await supervisorChildren(s.sup, WAIT);
      expect(changed(s.initial, after)).toEqual(['a', 'b', 'c']);
      expect(await node.handle(s.initial[0].ref!, CHILD).isAlive()).toBe(false);
      expect(await node.handle(s.initial[2].ref!, CHILD).isAlive()).toBe(false);
    } finally {
      s.close();
    }
  });

  it('rest-for-one restarts the child that failed and the ones after it', async () => {
    const s = await supervise('rest-for-one');
    try {
      await s.tell('b', 'crash');
      expect((await s.starts(5)).slice(3)).toEqual(['start b', 'start c']);
      const after = await supervisorChildren(s.sup, WAIT);
      expect(changed(s.initial, after)).toEqual(['b', 'c']);
      expect(after.map((c) => c.restarts)).toEqual([0, 1, 1]);
      expect(await node.handle(s.initial[0].ref!, CHILD).isAlive()).toBe(true);
    } finally {
      s.close();
    }
  });

  it('restarts a permanent child that ends normally, not a transient or a temporary one', async () => {
    const s = await supervise('one-for-one', { b: 'transient', c: 'temporary' });
    try {
      await s.tell('b', 'exit');
      await s.tell('c', 'crash');
      await s.tell('a', 'exit');
      expect((await s.starts(4)).slice(3)).toEqual(['start a']);
      const after = await supervisorChildren(s.sup, WAIT);
      expect(after.map((c) => [c.name, c.ref === null, c.restarts])).toEqual([
        ['a', false, 1],
        ['b', true, 0],
        ['c', true, 0],
      ]);
    } finally {
      s.close();
    }
  });

  it('past its restart limit, it kills its children and fails with RestartLimitError', async () => {
    const s = await supervise('one-for-one', {}, { maxRestarts: 2, period: 60_000 });
    try {
      const supDied = s.sup.monitor().died;
      await s.tell('a', 'crash');
      await s.starts(4);
      await s.tell('a', 'crash');
      await s.starts(5);
      const last = await supervisorChildren(s.sup, WAIT);
      await s.tell('a', 'crash');
      const died = await supDied;
      expect(died.reason).toBe('failed');
      expect(died.error).toMatchObject({ name: 'RestartLimitError', code: 'ERR_RXWIRE_RESTART_LIMIT' });
      // It says which child went over the limit, and how it ended (a child that cannot start would otherwise hide why).
      expect(died.error?.message).toBe('more than 2 restarts within 60000 ms; the last: child "a" ended (failed: Error: a crashed on purpose)');
      for (const c of last.slice(1)) expect(await node.handle(c.ref!, CHILD).isAlive()).toBe(false);
    } finally {
      s.close();
    }
  });

  it('a supervisor that is killed takes its children with it', async () => {
    const s = await supervise('one-for-one');
    try {
      const deaths = s.initial.map((c) => node.handle(c.ref!, CHILD).monitor().died);
      s.sup.kill();
      const reasons = (await Promise.all(deaths)).map((d) => d.reason);
      expect(reasons).toEqual(['linked', 'linked', 'linked']);
      // And none is started again: a dead supervisor's monitors end with it (they used to fire, and it restarted
      // its children, unlinked, from the dead).
      await expect(s.watcher.request('wait 4', { timeout: 500 })).rejects.toBeInstanceOf(TimeoutError);
    } finally {
      s.close();
    }
  });

  it('a child that fails as it starts, under a huge restart limit, does not starve its thread', async () => {
    const watcher = node.spawn(probe, null, { placement: { thread: 0 } });
    const capture = { name: 'f', probe: watcher.ref };
    const neighbour = node.spawn(probe, null, { placement: { thread: 1 } });
    const sup = node.spawn(supervisor, supervisorSpec([{ name: 'f', entry: failsAtStart, capture }], { maxRestarts: 2 ** 31 - 1, period: 1e9 }), {
      placement: { thread: 1 },
    });
    try {
      // Restarted once a turn, not in microtasks only: the thread still reads its rings and answers.
      neighbour.send('hello');
      expect(await neighbour.request('wait 1', WAIT)).toEqual(['hello']);
      expect((await supervisorChildren(sup, WAIT))[0].restarts).toBeGreaterThan(0);
    } finally {
      sup.kill();
      watcher.kill();
      neighbour.kill();
    }
  });

  it('a process linked to the supervisor that ends normally ends nothing: the supervisor and its children run on', async () => {
    // Before, any LinkDied from a process that was no child ended the supervisor, `normal` included.
    const s = await supervise('one-for-one');
    try {
      const linker = node.spawn(linksThenReturns, s.sup.ref, { placement: { thread: 0 } });
      expect((await linker.monitor().died).reason).toBe('normal');
      expect(await s.sup.isAlive()).toBe(true);
      expect(changed(s.initial, await supervisorChildren(s.sup, WAIT))).toEqual([]);
    } finally {
      s.close();
    }
  });

  it('thousands of incarnations let go by rest-for-one restarts do not push out a live child: its crash is restarted', async () => {
    // Before, one capped list held the live incarnations and those let go (unlinked: no LinkDied came to remove
    // them); past 4096, the first child's was pushed out, and its one crash ended the supervisor as if its parent died.
    const children = Array.from({ length: 102 }, (_, i) => ({ name: `c${i}`, entry: failsOnOne, capture: null }));
    const sup = node.spawn(supervisor, supervisorSpec(children, { strategy: 'rest-for-one', maxRestarts: 1000, period: 600_000 }), { placement: { thread: 1 } });
    const crash = async (index: number, restarts: number) => {
      const info = (await supervisorChildren(sup, WAIT))[index];
      node.handle(info.ref!, { capture: codec('null'), mailbox: codec('long') }).send(1);
      for (;;) {
        const now = (await supervisorChildren(sup, WAIT))[index];
        if (now.restarts === restarts && now.ref !== null) return;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    try {
      for (let round = 1; round <= 42; round++) await crash(1, round); // 42 × 101 incarnations let go
      await crash(0, 1);
      expect(await sup.isAlive()).toBe(true);
      expect((await supervisorChildren(sup, WAIT)).map((c) => c.restarts).slice(0, 3)).toEqual([1, 43, 43]);
    } finally {
      sup.kill();
    }
  });

  it('a chain of processes, each spawning the next as it starts, does not hold its thread: a timer fires meanwhile', async () => {
    // Starts did not count against a drain's budget: the whole chain started in one drain, no timer in between.
    const local = startNode({ threads: 0 }); // its processes run on this thread
    const left = () => (globalThis as { chainLeft?: number }).chainLeft;
    try {
      local.spawn(respawns, 300_000);
      await new Promise((resolve) => setTimeout(resolve, 1));
      expect(left()).toBeGreaterThan(0); // the timer came before the chain's end
      while (left() !== 0) await new Promise((resolve) => setTimeout(resolve, 5));
    } finally {
      await local.close();
    }
  });

  it('refuses a bad spec at the door', () => {
    const capture = { name: 'x', probe: { node: 'n', thread: 0, id: 1, incarnation: 1 } };
    expect(() => supervisorSpec([], { maxRestarts: 2 ** 31 })).toThrow(RangeError); // an Avro int
    expect(() => supervisorSpec([], null as never)).toThrow(TypeError);
    expect(() => supervisorSpec([{ name: 'x', entry: child, capture, register: 'yes' as never }])).toThrow(TypeError);
    expect(() => supervisorSpec([{ name: 'x', entry: child, capture, restarts: 'temporary' } as never])).toThrow('child x.restarts is not an option');
    expect(() => supervisorSpec([{ name: 'x', entry: child, capture }, { name: 'x', entry: child, capture }])).toThrow(TypeError);
    expect(() => supervisorSpec([], { maxRestarts: -1 })).toThrow(RangeError);
    expect(() => supervisorSpec([{ name: 'x', entry: child, capture: { name: 'x' } as never }])).toThrow(expect.objectContaining({ code: 'ERR_RXWIRE_ENCODE' }));
  });
});
