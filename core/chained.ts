/**
 * The subscriber we give an Observable we did not make (a source, a handler's
 * reply, a process's result): one that can be closed while the source's own
 * `subscribe` call is still running.
 *
 * `source.subscribe({ next, error, complete })` hands back its Subscription
 * only when the call returns, and a synchronous source (`range`, `from` of an
 * array, a `generate` without end) delivers everything inside that call: an
 * operator whose output failed, or whose subscriber left (`take(1)`), on the
 * first value could not stop it, and ran it to its end — or for ever. RxJS's
 * own operators pass the source a Subscriber chained to the outer one, so
 * the source sees `closed` at once; `new Subscriber(destination)` is
 * deprecated for users. This is the same idea through the public types: an
 * object that is both an Observer and a Subscription is used by
 * `Observable.subscribe` as the subscriber itself (RxJS 7's `isSubscriber`),
 * and a source checks its `closed`.
 *
 * Usage: `const input = new Chained({ next, error, complete });
 * subscriber.add(input); source.subscribe(input);` — the outer subscriber's
 * ending (its error, its unsubscribe) closes the input, during the call too.
 */
import { Subscription, type Observer } from 'rxjs';

export class Chained<T> extends Subscription implements Observer<T> {
  /** An ending arrived: nothing more is passed on (a source that goes on after it is ignored, as by a Subscriber). */
  private stopped = false;

  constructor(private readonly observer: Partial<Observer<T>>) {
    super();
  }

  next(value: T): void {
    if (this.stopped || this.closed) return;
    try {
      this.observer.next?.(value);
    } catch (err) {
      // As RxJS's operators do: a throw while handling a value is the stream's error, not the source's caller's.
      this.error(err);
    }
  }

  error(err: unknown): void {
    this.end(() => this.observer.error?.(err));
  }

  complete(): void {
    this.end(() => this.observer.complete?.());
  }

  /** Passes the ending on, then lets the source go (a Subscriber's order). */
  private end(pass: () => void): void {
    if (this.stopped || this.closed) return;
    this.stopped = true;
    try {
      pass();
    } finally {
      this.unsubscribe();
    }
  }
}
