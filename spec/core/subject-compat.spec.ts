/**
 * What a WireSubject keeps of RxJS's `Subject` surface beyond delivery
 * (spec/contract covers delivery), over both in-thread transports: the
 * deprecated `observers`, and a subscriber arriving while this end's own
 * sends fill the way. The rest of this surface (`isStopped`, `hasError`,
 * `thrownError`, `unsubscribe()` as RxJS's, 100,000 subscribers) runs over
 * every transport in subject-spec-port.spec.ts, with RxJS's own Subject spec.
 */
import { codec } from '../../core/codec';
import type { WireSubject } from '../../core/wire-subject';
import { open } from '../../transports/open';
import { pairOf } from '../helpers';

const Int = codec('int');
const opened: WireSubject<unknown>[] = [];

function wires(transport: 'port' | 'shm'): [WireSubject<number>, WireSubject<number>] {
  const [x, y] = pairOf(transport);
  const ends: [WireSubject<number>, WireSubject<number>] = [open(x, Int), open(y, Int)];
  opened.push(...(ends as WireSubject<unknown>[]));
  return ends;
}

afterEach(() => {
  for (const wire of opened.splice(0)) wire.close();
});

describe.each(['port', 'shm'] as const)('a WireSubject over %s as an RxJS Subject', (transport) => {
  it('observers lists the subscribers of the incoming stream as they come and go', () => {
    const [, b] = wires(transport);
    expect(b.observers).toHaveLength(0);
    const one = b.subscribe();
    const two = b.subscribe();
    expect(b.observers).toHaveLength(2);
    one.unsubscribe();
    expect(b.observers).toHaveLength(1);
    expect(b.observed).toBe(true);
    two.unsubscribe();
    expect(b.observers).toHaveLength(0);
    expect(b.observed).toBe(false);
  });

  it('subscribed while this end’s own sends fill the way: it reads nothing until they can go (pauseReadsWhileQueued)', async () => {
    // The peer sends, never reads; this end subscribes and, in the same turn, queues more than the way takes.
    const [x, y] = pairOf(transport, 4096);
    const a = open(x, Int, transport === 'port' ? { windowBytes: 64 } : {});
    const b = open(y, Int, transport === 'port' ? { windowBytes: 64, maxQueue: 5000 } : { maxQueue: 5000 });
    opened.push(a as WireSubject<unknown>, b as WireSubject<unknown>);
    for (let i = 0; i < 50; i++) a.next(i);
    const got: number[] = [];
    b.subscribe((v) => got.push(v));
    for (let i = 0; i < 3000; i++) b.next(i); // more than the way (and the peer's hold) takes: the rest queues
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(b.stats().queued).toBeGreaterThan(0);
    expect(got).toEqual([]); // the first read, queued behind subscribe, resumed a paused end and took 5
  });
});
