/**
 * Chained: the subscriber the operators give their source, closed during the
 * source's own subscribe call when the outer subscriber goes; a Subscriber's
 * rules otherwise (one ending, nothing after it, a throw is the error).
 */
import { Observable, Subject, range } from 'rxjs';
import { Chained } from '../../core/chained';

describe('Chained', () => {
  test('RxJS uses it as the subscriber itself: unsubscribing it inside a synchronous source stops the source', () => {
    const seen: number[] = [];
    const input: Chained<number> = new Chained<number>({ next: (n) => (seen.push(n), n === 2 && input.unsubscribe()) });
    range(0, 1_000_000).subscribe(input);
    expect(seen).toEqual([0, 1, 2]);
    expect(input.closed).toBe(true);
  });

  test('one ending is passed on, then the source is let go; nothing after it', () => {
    const events: string[] = [];
    const source = new Observable<number>((subscriber) => {
      subscriber.next(1);
      subscriber.complete();
      subscriber.next(2);
      subscriber.error(new Error('late'));
      return () => events.push('source finalized');
    });
    const input = new Chained<number>({ next: (n) => events.push(`next ${n}`), error: () => events.push('error'), complete: () => events.push('complete') });
    source.subscribe(input);
    expect(events).toEqual(['next 1', 'complete', 'source finalized']);
    expect(input.closed).toBe(true);
  });

  test("a throw while handling a value is the stream's error, not the caller's of the source's next", () => {
    const source = new Subject<number>();
    const errors: unknown[] = [];
    const boom = new Error('boom');
    source.subscribe(new Chained<number>({ next: () => { throw boom; }, error: (err) => errors.push(err) }));
    expect(() => source.next(1)).not.toThrow();
    expect(errors).toEqual([boom]);
    expect(source.observed).toBe(false);
  });

  test("an outer subscriber's ending closes it, during the call too", () => {
    let pulled = 0;
    const out = new Observable<number>((subscriber) => {
      const input = new Chained<number>({ next: (n) => (subscriber.next(n), n === 0 && subscriber.error(new Error('first'))) });
      subscriber.add(input);
      new Observable<number>((s) => {
        while (!s.closed && pulled < 1000) s.next(pulled++);
      }).subscribe(input);
    });
    const errors: unknown[] = [];
    out.subscribe({ error: (err) => errors.push(err) });
    expect(errors).toHaveLength(1);
    expect(pulled).toBe(1);
  });
});
