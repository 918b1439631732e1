/**
 * RxJS 7.8's own spec/Subject-spec.ts, ported onto a WireSubject pair over
 * each two-ended transport fixture of spec/contract/transports.ts (port, shm,
 * tcp, nats). What RxJS checks on one Subject is checked across the wire:
 * values nexted at end `a` are observed by the subscribers of end `b`, so
 * each step awaits arrival instead of expecting it synchronously.
 *
 * Where a WireSubject documents a deliberate difference from a plain Subject
 * (core/wire-subject.ts's doc comment, README "How a WireSubject behaves"),
 * the case asserts the documented behaviour and says so in its name
 * ("documented: ..."):
 *  - values sent before b's first subscriber are held for it, not lost;
 *  - the last subscriber leaving stops the end for good: a later subscriber
 *    gets TransportClosedError (RxJS's "arrive and leave" cases therefore
 *    keep one subscriber, `keeper`, on b throughout, which is also how each
 *    step knows a value has arrived);
 *  - `next` never throws, not even after `unsubscribe()` (it drops, counted);
 *  - an error crosses as RemoteError.
 * Not ported, as they test no Subject behaviour a wire could have:
 * `Subject.create` with a plain object destination (here: with the two ends),
 * AsyncSubject#asObservable, the TestScheduler marble cases (here: in real
 * time), and the `useDeprecatedSynchronousErrorHandling` cases that expect
 * `next` to throw synchronously what a subscriber threw (a subscriber on the
 * other end cannot make `a.next` throw; here: what becomes of such a throw
 * at the receiving end).
 */
import { AnonymousSubject } from 'rxjs/internal/Subject';
import { config, delay, lastValueFrom, Observable, ObjectUnsubscribedError, of, Subject, Subscriber } from 'rxjs';
import { codec, type Codec } from '../../core/codec';
import { RemoteError, TransportClosedError } from '../../core/errors';
import type { WireSubject } from '../../core/wire-subject';
import { tick, until } from '../helpers';
import { natsFixture, portFixture, shmFixture, tcpFixture, type TransportFixture } from '../contract/transports';

const Str = codec('string');
const Int = codec('int');
const Null = codec('null');

/** How long "nothing more arrives" is watched for (tcp and nats cross a socket). */
const QUIET_MS = 150;

type Seen = (number | string | null | Error)[];

/** Subscribes `results` to `wire` as RxJS's spec does: values, 'E' on error, 'C' on complete. */
function record<T extends number | string | null>(wire: Observable<T>, results: Seen) {
  return wire.subscribe({
    next: (x) => results.push(x),
    error: () => results.push('E'),
    complete: () => results.push('C'),
  });
}

/** Waits (bounded) until `condition` holds: the step's value has crossed. */
function arrived(condition: () => boolean, what = 'arrival'): Promise<void> {
  return until(condition, 10_000).catch(() => {
    throw new Error(`hang: no ${what} within 10 s`);
  });
}

const fixtures: TransportFixture[] = [portFixture, shmFixture, tcpFixture, natsFixture];

/**
 * Each fixture with `a` its first end (tcp: the client; nats: the first to open); tcp and nats also with
 * the ends swapped (their two ends are made differently; port's and shm's are alike).
 */
const cases = fixtures.flatMap((t) => [[t.name, t, false] as const, ...(t === tcpFixture || t === natsFixture ? [[`${t.name}, ends swapped`, t, true] as const] : [])]);

describe.each(cases)('RxJS 7.8 Subject-spec over a WireSubject pair (%s)', (_name, t, swapped) => {
  /** Two joined ends: a writes, b's subscribers observe (and the other way where a case says so). */
  async function pair<A, B>(codecA: Codec<A>, codecB: Codec<B>): Promise<[WireSubject<A>, WireSubject<B>]> {
    if (!swapped) return t.pair(codecA, codecB);
    const [second, first] = await t.pair(codecB, codecA);
    return [first, second];
  }

  afterEach(async () => {
    config.onUnhandledError = null;
    config.useDeprecatedSynchronousErrorHandling = false;
    await t.close();
  });
  afterAll(() => t.teardown?.());

  it('should allow next with null (the wire form of "no value") and complete', async () => {
    // RxJS: a Subject<undefined>/Subject<void> passes undefined through. Avro's 'null' carries null.
    const [a, b] = await pair(Null, Null);
    const got: Seen = [];
    record(b, got);
    a.next(null);
    a.next(null);
    a.complete();
    await arrived(() => got.includes('C'));
    expect(got).toEqual([null, null, 'C']);
  });

  it('documented: next(undefined) does not fit a null schema: EncodeError here, RemoteError there (the types refuse it too)', async () => {
    // RxJS: "should allow next with undefined or any when created with no type" / "empty next ... void type".
    // A wire has no untyped form; README: a value that does not fit the schema ends the outgoing stream.
    const [a, b] = await pair(Null, Null);
    const there: unknown[] = [];
    const here: unknown[] = [];
    b.subscribe({ next: (x) => there.push(x), error: (err) => there.push(err) });
    a.subscribe({ error: (err) => here.push(err) });
    expect(() => (a as unknown as Subject<undefined>).next(undefined)).not.toThrow();
    await arrived(() => there.length > 0 && here.length > 0, 'the EncodeError');
    expect(here[0]).toMatchObject({ name: 'EncodeError' });
    expect(there[0]).toBeInstanceOf(RemoteError);
    expect((there[0] as RemoteError).remoteName).toBe('EncodeError');
  });

  it('should pump values right on through itself', async () => {
    const [a, b] = await pair(Str, Str);
    const got: Seen = [];
    record(b, got);
    a.next('foo');
    a.next('bar');
    a.complete();
    await arrived(() => got.includes('C'));
    expect(got).toEqual(['foo', 'bar', 'C']);
  });

  it('should pump values to multiple subscribers', async () => {
    const [a, b] = await pair(Str, Str);
    const one: Seen = [];
    const two: Seen = [];
    record(b, one);
    record(b, two);
    expect(b.observers.length).toBe(2);
    a.next('foo');
    a.next('bar');
    a.complete();
    await arrived(() => one.includes('C') && two.includes('C'));
    expect(one).toEqual(['foo', 'bar', 'C']);
    expect(two).toEqual(['foo', 'bar', 'C']);
  });

  /**
   * RxJS's four "arrive and leave at different times" cases. `keeper` stays
   * subscribed on b throughout (see the file comment): each step waits until
   * it has seen the value, so the subscribers present when it was delivered
   * are the ones the step set up.
   */
  async function arriveAndLeave(ending: 'none' | 'complete' | 'error') {
    const [a, b] = await pair(Int, Int);
    const keeper: Seen = [];
    const keep = record(b, keeper);
    const results1: Seen = [];
    const results2: Seen = [];
    const results3: Seen = [];
    const send = async (x: number) => {
      a.next(x);
      await arrived(() => keeper.includes(x), `value ${x}`);
    };
    await send(1);
    await send(2);
    await send(3);
    await send(4);
    const subscription1 = record(b, results1);
    await send(5);
    const subscription2 = record(b, results2);
    await send(6);
    await send(7);
    subscription1.unsubscribe();
    if (ending === 'none') {
      await send(8);
      subscription2.unsubscribe();
      await send(9);
      await send(10);
      const subscription3 = record(b, results3);
      await send(11);
      subscription3.unsubscribe();
      keep.unsubscribe();
      expect(results1).toEqual([5, 6, 7]);
      expect(results2).toEqual([6, 7, 8]);
      expect(results3).toEqual([11]);
      return;
    }
    if (ending === 'complete') a.complete();
    else a.error(new Error('err'));
    await arrived(() => keeper.includes('C') || keeper.includes('E'), 'ending');
    subscription2.unsubscribe();
    const subscription3 = record(b, results3);
    subscription3.unsubscribe();
    const mark = ending === 'complete' ? 'C' : 'E';
    expect(keeper).toEqual([1, 2, 3, 4, 5, 6, 7, mark]);
    expect(results1).toEqual([5, 6, 7]);
    expect(results2).toEqual([6, 7, mark]);
    expect(results3).toEqual([mark]);
  }

  it('should handle subscribers that arrive and leave at different times, subject does not complete', () => arriveAndLeave('none'));
  it('should handle subscribers that arrive and leave at different times, subject completes', () => arriveAndLeave('complete'));
  it('should handle subscribers that arrive and leave at different times, subject terminates with an error', () => arriveAndLeave('error'));

  it('should handle subscribers that arrive and leave at different times, subject completes before nexting any value', async () => {
    const [a, b] = await pair(Int, Int);
    const results1: Seen = [];
    const results2: Seen = [];
    const results3: Seen = [];
    const subscription1 = record(b, results1);
    const subscription2 = record(b, results2);
    subscription1.unsubscribe();
    a.complete();
    await arrived(() => results2.includes('C'), 'complete');
    subscription2.unsubscribe();
    const subscription3 = record(b, results3);
    subscription3.unsubscribe();
    expect(results1).toEqual([]);
    expect(results2).toEqual(['C']);
    expect(results3).toEqual(['C']);
  });

  it('documented: values sent before the first subscriber are held for it (a Subject drops them)', async () => {
    const [a, b] = await pair(Int, Int);
    a.next(1);
    a.next(2);
    await tick(QUIET_MS);
    const results1: Seen = [];
    record(b, results1);
    a.next(3);
    await arrived(() => results1.includes(3));
    expect(results1).toEqual([1, 2, 3]);
  });

  it('documented: the last subscriber leaving stops the end for good; a later one gets TransportClosedError, the writer is told', async () => {
    const [a, b] = await pair(Int, Int);
    const results1: Seen = [];
    const subscription1 = record(b, results1);
    a.next(1);
    await arrived(() => results1.includes(1));
    subscription1.unsubscribe();
    let late: unknown;
    b.subscribe({ error: (err) => (late = err) });
    expect(late).toBeInstanceOf(TransportClosedError);
    // The writer learns it: a later send rejects.
    let stopped: unknown;
    await arrived(() => {
      a.send(0).catch((err: unknown) => (stopped ??= err));
      return stopped !== undefined;
    }, "the writer's send rejecting");
    expect(stopped).toBeInstanceOf(TransportClosedError);
  });

  it('should disallow new subscriber once subject has been disposed', async () => {
    const [a, b] = await pair(Int, Int);
    const results1: Seen = [];
    const results2: Seen = [];
    const results3: Seen = [];
    const subscription1 = record(b, results1);
    a.next(1);
    a.next(2);
    await arrived(() => results1.includes(2));
    const subscription2 = record(b, results2);
    a.next(3);
    a.next(4);
    a.next(5);
    await arrived(() => results1.includes(5) && results2.includes(5));
    subscription1.unsubscribe();
    subscription2.unsubscribe();
    b.unsubscribe();
    expect(() => b.subscribe({ next: (x) => results3.push(x), error: (err) => results3.push(err as Error) })).toThrow(ObjectUnsubscribedError);
    expect(results1).toEqual([1, 2, 3, 4, 5]);
    expect(results2).toEqual([3, 4, 5]);
    expect(results3).toEqual([]);
  });

  it('documented: values nexted after unsubscribe() are dropped, not thrown (a Subject throws ObjectUnsubscribedError)', async () => {
    const [a, b] = await pair(Str, Str);
    const got: Seen = [];
    record(b, got);
    a.next('foo');
    a.unsubscribe(); // completes the outgoing stream (README "close() and unsubscribe()")
    expect(() => a.next('bar')).not.toThrow();
    expect(a.stats().dropped).toBe(1);
    await arrived(() => got.includes('C'), 'complete');
    await tick(QUIET_MS);
    expect(got).toEqual(['foo', 'C']);
  });

  it('should clean out unsubscribed subscribers', async () => {
    const [, b] = await pair(Int, Int);
    const sub1 = b.subscribe(() => {});
    const sub2 = b.subscribe(() => {});
    expect(b.observers.length).toBe(2);
    sub1.unsubscribe();
    expect(b.observers.length).toBe(1);
    sub2.unsubscribe();
    expect(b.observers.length).toBe(0);
  });

  it('should expose observed status', async () => {
    const [, b] = await pair(Int, Int);
    expect(b.observed).toBe(false);
    const sub1 = b.subscribe(() => {});
    expect(b.observed).toBe(true);
    const sub2 = b.subscribe(() => {});
    expect(b.observed).toBe(true);
    sub1.unsubscribe();
    expect(b.observed).toBe(true);
    sub2.unsubscribe();
    expect(b.observed).toBe(false);
    b.unsubscribe();
    expect(b.observed).toBe(false);
  });

  it('Subject.create(a, b) (an AnonymousSubject over the two ends) works, and also to raise errors', async () => {
    for (const ending of ['complete', 'error'] as const) {
      const [a, b] = await pair(Str, Str);
      const sub: Subject<string> = Subject.create(a, b);
      expect(sub).toBeInstanceOf(AnonymousSubject);
      const output: Seen = [];
      let outputError: unknown;
      sub.subscribe({ next: (x) => output.push(x), error: (err) => (outputError = err), complete: () => output.push('C') });
      sub.next('a');
      sub.next('b');
      sub.next('c');
      if (ending === 'complete') sub.complete();
      else sub.error('boom');
      await arrived(() => output.includes('C') || outputError !== undefined, 'ending');
      expect(output).toEqual(ending === 'complete' ? ['a', 'b', 'c', 'C'] : ['a', 'b', 'c']);
      if (ending === 'error') {
        expect(outputError).toBeInstanceOf(RemoteError);
        expect((outputError as Error).message).toBe('boom');
      }
    }
  });

  it('should be an Observer which can be given to Observable.subscribe', async () => {
    const [a, b] = await pair(Int, Int);
    const got: Seen = [];
    record(b, got);
    of(1, 2, 3, 4, 5).subscribe(a);
    await arrived(() => got.includes('C') || got.includes('E'), 'ending');
    expect(got).toEqual([1, 2, 3, 4, 5, 'C']);
  });

  it('should be usable as an Observer of a finite delayed Observable', async () => {
    const [a, b] = await pair(Int, Int);
    const got: Seen = [];
    record(b, got);
    of(1, 2, 3).pipe(delay(50)).subscribe(a);
    await arrived(() => got.includes('C') || got.includes('E'), 'ending');
    expect(got).toEqual([1, 2, 3, 'C']);
  });

  it('should throw ObjectUnsubscribedError when emit after unsubscribed (documented: next drops instead)', async () => {
    const [a] = await pair(Str, Str);
    a.unsubscribe();
    expect(() => a.next('a')).not.toThrow();
    expect(a.stats().dropped).toBe(1);
    expect(() => a.error('a')).toThrow(ObjectUnsubscribedError);
    expect(() => a.complete()).toThrow(ObjectUnsubscribedError);
  });

  it('should not next after completed', async () => {
    const [a, b] = await pair(Str, Str);
    const results: Seen = [];
    b.subscribe({ next: (x) => results.push(x), complete: () => results.push('C') });
    a.next('a');
    a.complete();
    a.next('b');
    await arrived(() => results.includes('C'), 'complete');
    await tick(QUIET_MS);
    expect(results).toEqual(['a', 'C']);
    expect(a.stats().dropped).toBe(1); // README: ignored, counted as dropped
  });

  it('should not next after error', async () => {
    const error = new Error('wut?');
    const [a, b] = await pair(Str, Str);
    const results: Seen = [];
    b.subscribe({ next: (x) => results.push(x), error: (err) => results.push(err as Error) });
    a.next('a');
    a.error(error);
    a.next('b');
    await arrived(() => results.length >= 2, 'error');
    await tick(QUIET_MS);
    expect(results).toHaveLength(2);
    expect(results[0]).toBe('a');
    expect(results[1]).toBeInstanceOf(RemoteError);
    expect((results[1] as RemoteError).message).toBe('wut?');
    expect(a.stats().dropped).toBe(1);
  });

  describe('asObservable', () => {
    it('should hide subject', async () => {
      const [, b] = await pair(Int, Int);
      const observable = b.asObservable();
      expect(observable).not.toBe(b);
      expect(observable instanceof Observable).toBe(true);
      expect(observable instanceof Subject).toBe(false);
    });

    it('should handle subject never emits', async () => {
      const [, b] = await pair(Int, Int);
      const got: Seen = [];
      record(b.asObservable(), got);
      await tick(QUIET_MS);
      expect(got).toEqual([]);
    });

    it('should handle subject completes without emits', async () => {
      const [a, b] = await pair(Int, Int);
      const got: Seen = [];
      record(b.asObservable(), got);
      a.complete();
      await arrived(() => got.length > 0);
      expect(got).toEqual(['C']);
    });

    it('should handle subject throws', async () => {
      const [a, b] = await pair(Int, Int);
      const got: Seen = [];
      record(b.asObservable(), got);
      a.error(new Error('#'));
      await arrived(() => got.length > 0);
      expect(got).toEqual(['E']);
    });

    it('should handle subject emits', async () => {
      const [a, b] = await pair(Str, Str);
      const got: Seen = [];
      record(b.asObservable(), got);
      a.next('x');
      await tick(20);
      a.complete();
      await arrived(() => got.includes('C'));
      expect(got).toEqual(['x', 'C']);
    });

    it('is not eager: b reads nothing until the observable is subscribed (AnonymousSubject "should not be eager")', async () => {
      const [a, b] = await pair(Int, Int);
      const observable = b.asObservable();
      a.next(42);
      a.complete();
      await tick(QUIET_MS);
      expect(b.observed).toBe(false);
      const got: Seen = [];
      record(observable, got);
      await arrived(() => got.includes('C'));
      expect(got).toEqual([42, 'C']); // documented: held for the first subscriber
    });
  });

  describe('error thrown scenario', () => {
    it('should not synchronously error when nexted into; the throw is reported, the other subscribers and later values still go', async () => {
      const unhandled: unknown[] = [];
      config.onUnhandledError = (err) => unhandled.push(err);
      const [a, b] = await pair(Int, Int);
      const first: Seen = [];
      const third: Seen = [];
      record(b, first);
      b.subscribe(() => {
        throw new Error('Boom!');
      });
      record(b, third);
      expect(() => a.next(42)).not.toThrow();
      a.next(43);
      a.complete();
      await arrived(() => third.includes('C') && unhandled.length >= 2, 'the ending and two reports');
      expect(first).toEqual([42, 43, 'C']);
      expect(third).toEqual([42, 43, 'C']);
      expect((unhandled[0] as Error).message).toBe('Boom!');
      expect(unhandled).toHaveLength(2);
    });

    it('useDeprecatedSynchronousErrorHandling: a subscriber that throws does not break the wire for the other subscribers or later values', async () => {
      // RxJS: with the flag on, subject.next rethrows the subscriber's error synchronously. Across a wire
      // it cannot reach a.next; what the receiving end must not do is lose values or stop.
      config.useDeprecatedSynchronousErrorHandling = true;
      const [a, b] = await pair(Int, Int);
      const uncaught: unknown[] = [];
      const onUncaught = (err: unknown) => uncaught.push(err);
      const listeners = process.listeners('uncaughtException');
      process.removeAllListeners('uncaughtException');
      process.on('uncaughtException', onUncaught);
      const rejections = process.listeners('unhandledRejection');
      process.removeAllListeners('unhandledRejection');
      process.on('unhandledRejection', onUncaught);
      try {
        const other: Seen = [];
        let thrown = 0;
        b.subscribe({
          next: (x) => {
            if (x === 1) {
              thrown++;
              throw new Error('lol');
            }
          },
          error: () => {},
        });
        record(b, other);
        a.next(1);
        a.next(2);
        a.next(3);
        a.complete();
        await tick(QUIET_MS * 2);
        expect(thrown).toBe(1);
        expect(other).toEqual([1, 2, 3, 'C']);
      } finally {
        process.removeListener('uncaughtException', onUncaught);
        process.removeListener('unhandledRejection', onUncaught);
        for (const l of listeners) process.on('uncaughtException', l);
        for (const l of rejections) process.on('unhandledRejection', l);
      }
      // With the flag on, RxJS itself swallows a subscriber's throw outside a synchronous `next` call
      // (handleUnhandledError -> captureError with no errorContext), as for any asynchronous source:
      // nothing escapes the receiving end.
      expect(uncaught).toEqual([]);
    });
  });

  describe('delivery (what Subject#next does for each subscriber present)', () => {
    it('a subscriber that arrives during the delivery of a value misses that value and gets the next ones', async () => {
      const [a, b] = await pair(Int, Int);
      const first: Seen = [];
      const late: Seen = [];
      b.subscribe({
        next: (x) => {
          first.push(x);
          if (x === 1) record(b, late);
        },
        complete: () => first.push('C'),
      });
      a.next(1);
      a.next(2);
      a.next(3);
      a.complete();
      await arrived(() => first.includes('C') && late.includes('C'));
      expect(first).toEqual([1, 2, 3, 'C']);
      expect(late).toEqual([2, 3, 'C']);
    });

    it('a subscriber unsubscribed by an earlier one during a delivery does not get that value', async () => {
      const [a, b] = await pair(Int, Int);
      const first: Seen = [];
      const second: Seen = [];
      const third: Seen = [];
      let subscription2: { unsubscribe(): void } | undefined;
      b.subscribe({
        next: (x) => {
          first.push(x);
          if (x === 2) subscription2!.unsubscribe();
        },
        complete: () => first.push('C'),
      });
      subscription2 = record(b, second);
      record(b, third);
      for (let i = 1; i <= 4; i++) a.next(i);
      a.complete();
      await arrived(() => first.includes('C') && third.includes('C'));
      expect(first).toEqual([1, 2, 3, 4, 'C']);
      expect(second).toEqual([1]);
      expect(third).toEqual([1, 2, 3, 4, 'C']);
    });

    it('a subscriber that unsubscribes itself during a delivery gets nothing more; the others get everything', async () => {
      const [a, b] = await pair(Int, Int);
      const quitter: Seen = [];
      const other: Seen = [];
      const subscription = b.subscribe((x) => {
        quitter.push(x);
        if (x === 2) subscription.unsubscribe();
      });
      record(b, other);
      for (let i = 1; i <= 5; i++) a.next(i);
      a.complete();
      await arrived(() => other.includes('C'));
      expect(quitter).toEqual([1, 2]);
      expect(other).toEqual([1, 2, 3, 4, 5, 'C']);
    });

    it('re-entrancy: next inside a subscriber (ping-pong across the wire, 200 rounds)', async () => {
      const [a, b] = await pair(Int, Int);
      const atA: Seen = [];
      const atB: Seen = [];
      b.subscribe({
        next: (x) => {
          atB.push(x);
          b.next(x + 1); // answered from inside b's delivery
        },
        complete: () => {
          atB.push('C');
          b.complete();
        },
      });
      a.subscribe({
        next: (x) => {
          atA.push(x);
          if (x < 200) a.next(x + 1);
          else a.complete();
        },
        complete: () => atA.push('C'),
      });
      a.next(0);
      await arrived(() => atA.includes('C'), 'the end of the rally');
      // b answers 200 with 201; a ends the rally there.
      expect(atB).toEqual([...Array.from({ length: 101 }, (_, i) => 2 * i), 'C']);
      expect(atA).toEqual([...Array.from({ length: 101 }, (_, i) => 2 * i + 1), 'C']);
    });

    it('re-entrancy: a subscriber that nexts and completes its own end while it is delivering', async () => {
      const [a, b] = await pair(Int, Int);
      const atA: Seen = [];
      record(a, atA);
      const atB: Seen = [];
      b.subscribe({
        next: (x) => {
          atB.push(x);
          b.next(x * 10);
          if (x === 3) b.complete();
        },
        complete: () => atB.push('C'),
      });
      a.next(1);
      a.next(2);
      a.next(3);
      a.next(4);
      a.complete();
      await arrived(() => atA.includes('C') && atB.includes('C'));
      expect(atA).toEqual([10, 20, 30, 'C']);
      expect(atB).toEqual([1, 2, 3, 4, 'C']);
      expect(b.stats().dropped).toBe(1);
    });

    it('an error from the other end reaches every subscriber present, and later subscribers, as RemoteError', async () => {
      const [a, b] = await pair(Int, Int);
      const errs: unknown[] = [];
      b.subscribe({ error: (e) => errs.push(e) });
      b.subscribe({ error: (e) => errs.push(e) });
      a.next(1);
      a.error(new TypeError('bad'));
      await arrived(() => errs.length === 2);
      b.subscribe({ error: (e) => errs.push(e) });
      expect(errs).toHaveLength(3);
      for (const e of errs) expect(e).toBeInstanceOf(RemoteError);
      expect(errs[0]).toBe(errs[2]); // the same ending, given again
      expect((errs[0] as RemoteError).remoteName).toBe('TypeError');
    });

    it('re-entrancy: a subscriber of b nexts into a (a loop through the wire): every value in order, none twice', async () => {
      const [a, b] = await pair(Int, Int);
      const atB: Seen = [];
      b.subscribe({
        next: (x) => {
          atB.push(x);
          if (x >= 1000) return;
          if (x < 50) a.next(x + 1);
          else a.complete();
          if (x % 10 === 0) a.next(1000 + x); // a second value sent from inside the same delivery
        },
        complete: () => atB.push('C'),
      });
      a.next(0);
      await arrived(() => atB.includes('C'), 'the end of the loop');
      const expected: Seen = [];
      for (let x = 0; x <= 50; x++) {
        expected.push(x);
        if (x % 10 === 0 && x < 50) expected.push(1000 + x);
      }
      // a.next(1050) came after a.complete(): ignored
      expect([...atB].filter((v) => v !== 'C').sort()).toEqual([...expected].sort());
      expect(atB).toEqual([...interleave(), 'C']);
      expect(a.stats().dropped).toBe(1);

      /** The order of arrival: each value answered as it is delivered, so x+1 goes out before 1000+x. */
      function interleave(): number[] {
        const out: number[] = [];
        const queue = [0];
        while (queue.length) {
          const x = queue.shift()!;
          out.push(x);
          if (x >= 1000) continue;
          if (x < 50) queue.push(x + 1);
          if (x % 10 === 0 && x < 50) queue.push(1000 + x);
        }
        return out;
      }
    });

    it('after the ending arrives, b has no observers left (as Subject#complete empties its list); a late subscription is closed at once', async () => {
      const [a, b] = await pair(Int, Int);
      const got: Seen = [];
      record(b, got);
      record(b, []);
      expect(b.observers).toHaveLength(2);
      a.complete();
      await arrived(() => got.includes('C'));
      expect(b.observers).toHaveLength(0);
      expect(b.observed).toBe(false);
      const late = record(b, got);
      expect(late.closed).toBe(true);
      expect(got).toEqual(['C', 'C']);
    });

    it("a subscriber's error callback that throws is reported; the others still get the error", async () => {
      const unhandled: unknown[] = [];
      config.onUnhandledError = (err) => unhandled.push(err);
      const [a, b] = await pair(Int, Int);
      const errs: unknown[] = [];
      b.subscribe({
        error: () => {
          throw new Error('from the error callback');
        },
      });
      b.subscribe({ error: (e) => errs.push(e) });
      a.error(new Error('x'));
      await arrived(() => errs.length === 1 && unhandled.length === 1);
      expect((unhandled[0] as Error).message).toBe('from the error callback');
      expect(errs[0]).toBeInstanceOf(RemoteError);
    });

    it('complete is idempotent and error after complete is ignored (the first ending counts)', async () => {
      const [a, b] = await pair(Int, Int);
      const got: Seen = [];
      record(b, got);
      a.next(1);
      a.complete();
      a.complete();
      a.error(new Error('late'));
      await arrived(() => got.includes('C'));
      await tick(QUIET_MS);
      expect(got).toEqual([1, 'C']);
    });
  });
  /* The Subject surface beyond delivery (subject-compat.spec.ts keeps the in-thread-only cases). */
  describe('the Subject surface beyond delivery', () => {
    it('isStopped, hasError and thrownError describe the outgoing stream; the first ending counts', async () => {
      const [a, b] = await pair(Int, Int);
      expect([a.isStopped, a.hasError, a.thrownError]).toEqual([false, false, null]);
      a.complete();
      a.error(new Error('after the end'));
      expect([a.isStopped, a.hasError, a.thrownError]).toEqual([true, false, null]);
      const boom = new Error('boom');
      b.error(boom);
      expect([b.isStopped, b.hasError, b.thrownError]).toEqual([true, true, boom]);
    });

    it('after unsubscribe(): closed, not observed; error, complete and subscribe throw ObjectUnsubscribedError, next drops', async () => {
      const [a] = await pair(Int, Int);
      a.subscribe();
      expect(a.observed).toBe(true);
      a.unsubscribe();
      expect(a.closed).toBe(true);
      expect(a.observed).toBe(false);
      expect(a.observers).toEqual([]);
      expect(() => a.error(new Error('late'))).toThrow(ObjectUnsubscribedError);
      expect(() => a.complete()).toThrow(ObjectUnsubscribedError);
      expect(() => a.subscribe()).toThrow(ObjectUnsubscribedError);
      expect(() => a.next(1)).not.toThrow();
      expect(a.stats().dropped).toBe(1);
      // Its two other Observables say so too, as an error (an Observable's subscribe delivers what it throws).
      for (const side of [a.bursts$, a.stats$] as Observable<unknown>[]) {
        const seen: unknown[] = [];
        side.subscribe({ next: (x) => seen.push(x), error: (err) => seen.push(err), complete: () => seen.push('complete') });
        expect(seen).toEqual([expect.any(ObjectUnsubscribedError)]);
      }
    });

    it('unsubscribe() of b inside a delivery: the value being delivered reaches the others, the rest no one', async () => {
      const [a, b] = await pair(Int, Int);
      const one: Seen = [];
      const two: Seen = [];
      b.subscribe((v) => {
        one.push(v);
        if (v === 1) b.unsubscribe();
      });
      b.subscribe((v) => two.push(v));
      a.next(1);
      a.next(2);
      a.next(3);
      await arrived(() => two.length > 0);
      await tick(QUIET_MS);
      expect([one, two]).toEqual([[1], [1]]);
    });

    it('unsubscribe() between two slices of a slow delivery: nothing more, not the rest nor the ending', async () => {
      const [a, b] = await pair(Int, Int);
      const got: Seen = [];
      b.subscribe({
        next: (v) => {
          got.push(v);
          const end = performance.now() + 1;
          while (performance.now() < end);
        },
        complete: () => got.push('C'),
      });
      for (let i = 0; i < 40; i++) a.next(i);
      a.complete();
      await arrived(() => got.length > 0);
      b.unsubscribe();
      const seen = got.length;
      await tick(QUIET_MS);
      expect(seen).toBeLessThan(40);
      expect(got).toHaveLength(seen);
    });

    it('values that came before the first subscriber reach it after subscribe returns, and every subscriber of that turn', async () => {
      const [a, b] = await pair(Int, Int);
      a.next(1);
      a.next(2);
      await tick(QUIET_MS);
      const seen: string[] = [];
      let inside = true;
      b.subscribe((v) => seen.push(`s1:${v}${inside ? ' inside subscribe' : ''}`));
      inside = false;
      b.subscribe((v) => seen.push(`s2:${v}`));
      await arrived(() => seen.length === 4);
      await tick(20);
      expect(seen).toEqual(['s1:1', 's2:1', 's1:2', 's2:2']);
    });

    it('subscribed and closed in one turn: what this end had read arrives whole (values and ending), or only the ending', async () => {
      const [a, b] = await pair(Int, Int);
      a.next(1);
      a.next(2);
      a.complete();
      await tick(QUIET_MS);
      const got: Seen = [];
      b.subscribe({ next: (v) => got.push(v), complete: () => got.push('C') });
      b.close();
      await tick(QUIET_MS);
      // README: after close(), what this end had read (values, an ending) still reaches the subscribers;
      // what waited unread in the transport is dropped, and they complete. Port: [1, 2, 'C']; shm: ['C'].
      if (t.name === 'port') expect(got).toEqual([1, 2, 'C']);
      else if (t.name === 'shm') expect(got).toEqual(['C']);
      else expect([['C'], [1, 2, 'C']]).toContainEqual(got); // tcp and nats: [1, 2, 'C'] in every run so far
    });

    it('close() with the peer still open: the subscribers present complete, lastValueFrom settles, a later subscriber completes', async () => {
      const [a, b] = await pair(Int, Int);
      const got: Seen = [];
      b.subscribe({ next: (v) => got.push(v), complete: () => got.push('C'), error: (e) => got.push(`E:${(e as Error).name}`) });
      const last = lastValueFrom(b, { defaultValue: -1 });
      a.next(7);
      await arrived(() => got.length === 1);
      b.close();
      await expect(last).resolves.toBe(7);
      expect(got).toEqual([7, 'C']);
      const late: Seen = [];
      b.subscribe({ next: (v) => late.push(v), complete: () => late.push('C'), error: (e) => late.push(`E:${(e as Error).name}`) });
      expect(late).toEqual(['C']);
      // the peer sees this end's complete, and its writes after the reader stopped are refused, not hung
      const peerEnd: Seen = [];
      a.subscribe({ complete: () => peerEnd.push('C'), error: (e) => peerEnd.push(`E:${(e as Error).name}`) });
      await arrived(() => peerEnd.length === 1);
      expect(peerEnd).toEqual(['C']);
      a.close();
    });

    it('100,000 subscribers each get a value, then all leave', async () => {
      const [a, b] = await pair(Int, Int);
      const N = 100_000;
      let received = 0;
      const subscriptions = [];
      for (let i = 0; i < N; i++) subscriptions.push(b.subscribe(() => received++));
      expect(b.observers).toHaveLength(N);
      a.next(42);
      a.next(43);
      await arrived(() => received === 2 * N);
      for (let i = 1; i < N; i += 2) subscriptions[i].unsubscribe();
      expect(b.observers).toHaveLength(N / 2);
      for (let i = 0; i < N; i += 2) subscriptions[i].unsubscribe();
      expect(b.observed).toBe(false);
      expect(received).toBe(2 * N);
    });
  });

  it('should behave properly when subscribed to more than once by the same Subscriber (each value twice)', async () => {
    // RxJS (master's spec, "by the same OperatorSubscriber"): a Subject keeps one observer per subscription.
    const [a, b] = await pair(Int, Int);
    const got: Seen = [];
    const subscriber = new Subscriber<number>({ next: (x) => got.push(x), error: () => got.push('E'), complete: () => got.push('C') });
    b.subscribe(subscriber);
    b.subscribe(subscriber);
    expect(b.observers).toHaveLength(2);
    a.next(1);
    a.next(2);
    a.complete();
    await arrived(() => got.includes('C'));
    await tick(20);
    expect(got).toEqual([1, 1, 2, 2, 'C']); // once: the first complete stops the Subscriber, as with a Subject
  });

  it("a hand-made Subscriber whose next or complete throws: reported as RxJS reports it, the others get every value once and the ending, reading goes on", async () => {
    // RxJS's own subscribers catch a throw; a Subscriber made by hand lets it out. It unwound the delivery: the
    // batch came again (port: values twice) or the end stopped reading (shm: nothing more, a hang).
    const reported: unknown[] = [];
    config.onUnhandledError = (err) => reported.push(err);
    const [a, b] = await pair(Int, Int);
    const thrower: Seen = [];
    const other: Seen = [];
    const complete = () => {
      throw new Error('raw end');
    };
    b.subscribe(new Subscriber<number>({ next: (x) => { thrower.push(x); if (x === 2) throw new Error('raw'); }, error: () => {}, complete }));
    b.subscribe({ next: (x) => other.push(x), complete: () => other.push('C') });
    a.next(1);
    a.next(2);
    a.next(3);
    await arrived(() => other.includes(3));
    a.next(4);
    a.complete();
    await arrived(() => other.includes('C'));
    expect(other).toEqual([1, 2, 3, 4, 'C']);
    expect(thrower).toEqual([1, 2, 3, 4]);
    expect((reported as Error[]).map((err) => err.message)).toEqual(['raw', 'raw end']); // the ending went on to the other
  });
});
