/**
 * What a WireSubject keeps of RxJS's `Subject` surface beyond delivery
 * (spec/contract covers delivery): the deprecated `observers`, `isStopped`,
 * `hasError` and `thrownError`; `unsubscribe()` as RxJS's (`closed`,
 * `observed`, `ObjectUnsubscribedError`); and 100,000 subscribers coming
 * and going, as RxJS's own Subject spec has them. Over both in-thread
 * transports.
 */
import { ObjectUnsubscribedError, type Subscription } from 'rxjs';
import { codec } from '../../core/codec';
import type { WireSubject } from '../../core/wire-subject';
import { open } from '../../transports/open';
import { pairOf, until } from '../helpers';

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

  it('isStopped, hasError and thrownError describe the outgoing stream; the first ending counts', () => {
    const [a, b] = wires(transport);
    expect([a.isStopped, a.hasError, a.thrownError]).toEqual([false, false, null]);
    a.complete();
    a.error(new Error('after the end'));
    expect([a.isStopped, a.hasError, a.thrownError]).toEqual([true, false, null]);
    const boom = new Error('boom');
    b.error(boom);
    expect([b.isStopped, b.hasError, b.thrownError]).toEqual([true, true, boom]);
  });

  it('after unsubscribe(): closed, not observed; error, complete and subscribe throw ObjectUnsubscribedError, next drops', () => {
    const [a] = wires(transport);
    a.subscribe();
    expect(a.observed).toBe(true);
    a.unsubscribe();
    expect(a.closed).toBe(true);
    expect(a.observed).toBe(false);
    expect(a.observers).toEqual([]);
    expect(() => a.error(new Error('late'))).toThrow(ObjectUnsubscribedError);
    expect(() => a.complete()).toThrow(ObjectUnsubscribedError);
    expect(() => a.subscribe()).toThrow(ObjectUnsubscribedError);
    expect(() => a.next(1)).not.toThrow(); // next never throws (README)
    expect(a.stats().dropped).toBe(1);
  });

  it('unsubscribe() inside a delivery: the value being delivered reaches the others, the rest of the batch no one', async () => {
    const [a, b] = wires(transport);
    const one: number[] = [];
    const two: number[] = [];
    b.subscribe((v) => {
      one.push(v);
      if (v === 1) b.unsubscribe();
    });
    b.subscribe((v) => two.push(v));
    a.next(1);
    a.next(2);
    a.next(3); // one turn: one batch
    await until(() => two.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect([one, two]).toEqual([[1], [1]]); // before, both got [1, 2, 3]
  });

  it('unsubscribe() between two slices of a slow delivery: nothing more, not the rest nor the ending', async () => {
    const [a, b] = wires(transport);
    const got: (number | string)[] = [];
    b.subscribe({
      next: (v) => {
        got.push(v);
        const until = performance.now() + 1; // a slow subscriber: delivery yields every few ms
        while (performance.now() < until);
      },
      complete: () => got.push('C'),
    });
    for (let i = 0; i < 40; i++) a.next(i);
    a.complete();
    await until(() => got.length > 0);
    b.unsubscribe();
    const seen = got.length;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(seen).toBeLessThan(40);
    expect(got).toHaveLength(seen);
  });

  it('values that came before the first subscriber reach it after subscribe returns, and every subscriber of that turn', async () => {
    const [a, b] = wires(transport);
    a.next(1);
    a.next(2);
    await new Promise((resolve) => setTimeout(resolve, 20)); // they are here, held for the first subscriber
    const seen: string[] = [];
    let inside = true;
    b.subscribe((v) => seen.push(`s1:${v}${inside ? ' inside subscribe' : ''}`));
    inside = false;
    b.subscribe((v) => seen.push(`s2:${v}`));
    await until(() => seen.length === 4);
    expect(seen).toEqual(['s1:1', 's2:1', 's1:2', 's2:2']); // a port delivered them inside the first subscribe, to it alone
  });

  it('subscribed and closed in one turn: what this end had read, and the ending, still reach the subscriber', async () => {
    const [a, b] = wires(transport);
    a.next(1);
    a.next(2);
    a.complete();
    await new Promise((resolve) => setTimeout(resolve, 20)); // held for the first subscriber
    const got: (number | string)[] = [];
    b.subscribe({ next: (v) => got.push(v), complete: () => got.push('C') });
    b.close(); // before the first read, which waits for subscribe to return
    await new Promise((resolve) => setTimeout(resolve, 20));
    // A port's frames were read already (messages held in memory); a ring's records were not read yet, and
    // what waits unread in a transport is dropped at close (README). The port lost them when the first read
    // waited for subscribe to return.
    expect(got).toEqual(transport === 'port' ? [1, 2, 'C'] : []);
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

  it('100,000 subscribers each get a value, then all leave', async () => {
    const [a, b] = wires(transport);
    const N = 100_000;
    let received = 0;
    const subscriptions: Subscription[] = [];
    for (let i = 0; i < N; i++) subscriptions.push(b.subscribe(() => received++));
    expect(b.observers).toHaveLength(N);
    a.next(42);
    a.next(43);
    await until(() => received === 2 * N);
    // Every other one first (not in the order they came), then the rest.
    for (let i = 1; i < N; i += 2) subscriptions[i].unsubscribe();
    expect(b.observers).toHaveLength(N / 2);
    for (let i = 0; i < N; i += 2) subscriptions[i].unsubscribe();
    expect(b.observed).toBe(false);
    expect(received).toBe(2 * N);
  });
});
