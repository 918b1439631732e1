/** The known gaps of the first cut of processes, each closed: a name seen at once, a message that overtakes its spawn, two ProcessRef fields, a throw in subscribe. */
import { codec } from '../../core/codec';
import { ProcessRefSchema, startNode } from '../../processes';
import { abortable, counter, hog, poster, takeOne, throwsInSubscribe } from './gap-entries';
import { HERE, LONG, nodeForFile, T0, T1 } from './places';

jest.setTimeout(240_000);

const get = nodeForFile(async (node) => {
  for (const where of [T0, T1]) expect(await node.spawn(counter, null, where).request(0, { ...LONG, tag: 1 })).toBe(0);
});

it('lookup(name) straight after spawn(..., { name }) finds the process, wherever it runs', async () => {
  for (const [i, where] of [T0, T1, HERE, T0, T1, HERE].entries()) {
    const p = get().spawn(counter, null, { ...where, name: `at-once-${i}` });
    const found = await get().lookup(`at-once-${i}`, counter);
    expect(found?.id).toBe(p.id);
    p.kill();
  }
});

it('a message from a third thread that overtakes the spawn of its target is delivered', async () => {
  // A node with small rings: the SPAWN from this thread waits for room behind a burst to a held thread,
  // while the message from T0 to the new process finds room in its own ring and arrives first.
  const small = startNode({ threads: 2, ringBytes: 4096 });
  try {
    for (const where of [T0, T1]) expect(await small.spawn(counter, null, where).request(0, { ...LONG, tag: 1 })).toBe(0);
    const h = small.spawn(hog, null, T1);
    for (let round = 0; round < 4; round++) {
      h.send(200);
      for (let i = 0; i < 1000; i++) h.send(0);
      const a = small.spawn(takeOne, null, T1);
      const b = small.spawn(takeOne, null, HERE);
      small.spawn(poster, { a: a.ref, b: b.ref }, T0);
      expect(await b.request(0, { ...LONG, tag: 1 })).toBe(7);
      expect(await a.request(0, { timeout: 30_000, tag: 1 })).toBe(7);
    }
  } finally {
    await small.close();
  }
});

it('a record takes ProcessRefSchema in two fields (the second becomes a reference by name)', () => {
  const Two = codec({ type: 'record', name: 'TwoRefs', fields: [{ name: 'a', type: ProcessRefSchema }, { name: 'b', type: ProcessRefSchema }] } as const);
  const value = { a: { node: 'n', thread: 1, id: 2, incarnation: 7 }, b: { node: 'm', thread: 0, id: 3, incarnation: 2 ** 31 - 1 } };
  const back = Two.decode(Two.encode(value));
  expect({ a: { ...back.a }, b: { ...back.b } }).toEqual(value);
  const nested = codec({ type: 'record', name: 'Nested', fields: [{ name: 'x', type: ProcessRefSchema }, { name: 'inner', type: { type: 'record', name: 'Inner', fields: [{ name: 'y', type: ['null', ProcessRefSchema] }] } }] } as const);
  expect(nested.decode(nested.encode({ x: value.a, inner: { y: value.b } })).inner.y?.id).toBe(3);
});

it('a throw in a plain subscribe callback fails that process only: its monitors fire, its thread and the others run on', async () => {
  for (const where of [T0, T1, HERE]) {
    const p = get().spawn(throwsInSubscribe, null, where);
    const other = get().spawn(throwsInSubscribe, null, where);
    const down = p.monitor();
    expect(await p.request(1, LONG)).toBe('got 1');
    p.send(0);
    const died = await down.died;
    expect(died.reason).toBe('failed');
    expect(died.error?.message).toBe('thrown in subscribe');
    expect(await other.request(2, LONG)).toBe('got 2');
    expect(await get().spawn(counter, null, where).request(0, { ...LONG, tag: 1 })).toBe(0);
    other.kill();
  }
});

it('a receive called off by its AbortSignal rejects with the reason and takes nothing: the message waits for the next receive', async () => {
  for (const where of [T0, HERE]) {
    const p = get().spawn(abortable, null, where);
    p.tagSend(5, 5);
    const report = JSON.parse(await p.request(0, { ...LONG, tag: 1 }));
    expect(report).toEqual({
      early: 'RangeError: called off early',
      whileWaiting: 'AbortError: This operation was aborted',
      notASignal: 'TypeError: receive: options.signal must be an AbortSignal',
      signalTags: 'TypeError: receiveSignal: options.tags is not an option (it takes timeout, signal)',
      signalTimeout: 'TimeoutError: receive: nothing arrived within 5 ms',
      signalAborted: 'RangeError: no signal wanted',
      queued: 1,
      five: 5,
      six: 6,
      seven: 7,
    });
  }
});
