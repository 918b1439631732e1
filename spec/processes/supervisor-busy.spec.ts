/**
 * A supervisor on a busy thread. A child's failure puts its LinkDied on the
 * supervisor's signal queue and resolves its monitor (a microtask). When the
 * run queue's drain then uses up its budget (50,000 messages) the rest waits
 * for the next turn, and the monitor's microtask runs first: the supervisor
 * let go of that incarnation and queued its restart, and then read the
 * LinkDied as the death of a process it is linked to that is not a child —
 * its parent — and failed with the child's error, killing every child.
 * All on one thread (a node of threads: 0), so the order is the run queue's.
 */
import { startNode, supervisor, supervisorChildren, supervisorSpec, type ProcessDied } from '../../processes/index';
import { failsOnOne, sink } from './supervisor-entries';
import { tick } from '../helpers';

const WAIT = { timeout: 60_000 };

it('restarts a child that failed while its thread had more than a drain budget of messages queued, and lives on', async () => {
  const node = startNode({ threads: 0 });
  try {
    const sup = node.spawn(supervisor, supervisorSpec([{ name: 'c', entry: failsOnOne, capture: null }], { maxRestarts: 10, period: 60_000 }));
    const [{ ref }] = await supervisorChildren(sup, WAIT);
    const busy = node.spawn(sink, null);
    expect(await busy.isAlive()).toBe(true);
    await new Promise((resolve) => setImmediate(resolve)); // a turn: every process has started, and the failure and the flood are read in one drain
    let died: ProcessDied | undefined;
    void sup.monitor().died.then((d) => (died = d));
    node.handle(ref!, failsOnOne).send(1);
    for (let i = 0; i < 60_000; i++) busy.send(2); // in the same drain as the failure, past its budget
    // Asked once a millisecond (timers between): on one thread, asking in a loop of microtasks would
    // starve the restart, which waits for the next turn.
    let after = await supervisorChildren(sup, WAIT);
    while (after[0].restarts === 0 && died === undefined) {
      await tick(1);
      after = await supervisorChildren(sup, WAIT);
    }
    expect(died).toBeUndefined();
    expect(after[0].restarts).toBe(1);
    expect(after[0].ref?.id).not.toBe(ref!.id);
    expect(await sup.isAlive()).toBe(true);
  } finally {
    await node.close();
  }
});
