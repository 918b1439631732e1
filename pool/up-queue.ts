/**
 * The manager's end of a pool's up queue. Values read from every worker's up
 * ring wait here until `up$` delivers them or `recvBurst()` takes them; each
 * value that leaves gives its credit back (see credits.ts), so a worker
 * waiting for room goes on. Used only on the manager's thread.
 */
import { Observable, type Subscriber } from 'rxjs';
import type { Ending } from '../core/ending';
import { Fifo } from '../core/fifo';
import type { Credits } from './credits';

interface BurstWaiter<U> {
  resolve: (values: U[]) => void;
  reject: (err: unknown) => void;
}

export class UpQueue<U> {
  private readonly queue = new Fifo<U>();
  private readonly subscribers: Subscriber<U>[] = [];
  private readonly burstWaiters: BurstWaiter<U>[] = [];
  private ending: Ending | undefined;
  private dispatching = false;
  /** `dispatch` was called while it ran: go round again. */
  private again = false;

  constructor(private readonly credits: Credits) {}

  /** How many values wait. */
  get length(): number {
    return this.queue.length;
  }

  /** Every value, to every subscriber present when it leaves the queue; see `WorkerPool.up$`. */
  readonly up$: Observable<U> = new Observable<U>((subscriber) => {
    this.subscribers.push(subscriber);
    // What already waits is delivered at once, inside subscribe.
    this.dispatch();
    return () => remove(this.subscribers, subscriber);
  });

  /** Values that arrived from one worker's ring, in its order. */
  push(values: readonly U[]): void {
    for (const value of values) this.queue.push(value);
    this.dispatch();
  }

  /** See `WorkerPool.recvBurst`. */
  recvBurst(): Promise<U[]> {
    // Taken now, at the call: nothing that arrives later can join it.
    if (this.queue.length > 0) return Promise.resolve(this.take());
    const ending = this.ending;
    if (ending) return ending.kind === 'complete' ? Promise.resolve([]) : Promise.reject(ending.error);
    return new Promise<U[]>((resolve, reject) => this.burstWaiters.push({ resolve, reject }));
  }

  /** No more values will arrive: subscribers and waiters end (with `ending`) once the queue is empty. */
  end(ending: Ending): void {
    if (this.ending) return;
    this.ending = ending;
    this.dispatch();
  }

  private take(): U[] {
    const values = this.queue.drain();
    this.credits.giveBack(values.length);
    return values;
  }

  /**
   * Moves values out: first to a `recvBurst` waiting for an arrival (it
   * takes everything queued), then to `up$` subscribers one value at a time
   * (a subscriber that leaves midway leaves the rest queued), then, with the
   * queue empty and the pool over, the ending. Re-entrant calls (from a
   * subscriber's callback) are folded into the one running, which goes
   * round again: a subscriber added while the ending went out
   * (`concat(up$, up$)`, `repeat`) gets it too.
   */
  private dispatch(): void {
    if (this.dispatching) {
      this.again = true;
      return;
    }
    this.dispatching = true;
    let delivered = 0;
    try {
      do {
        this.again = false;
        delivered += this.dispatchOnce();
      } while (this.again);
    } finally {
      this.dispatching = false;
      this.credits.giveBack(delivered);
    }
  }

  /** One round of `dispatch`; returns how many values went to subscribers. */
  private dispatchOnce(): number {
    let delivered = 0;
    if (this.burstWaiters.length > 0 && this.queue.length > 0) this.burstWaiters.shift()!.resolve(this.take());
    while (this.queue.length > 0 && this.liveSubscribers() > 0) {
      // Removed before it is emitted: a callback that calls recvBurst() does not get it again.
      const value = this.queue.shift()!;
      delivered++;
      for (const subscriber of this.subscribers.slice()) if (!subscriber.closed) subscriber.next(value);
    }
    const ending = this.ending;
    if (ending && this.queue.length === 0) {
      for (const subscriber of this.subscribers.splice(0)) {
        if (ending.kind === 'complete') subscriber.complete();
        else subscriber.error(ending.error);
      }
      for (const waiter of this.burstWaiters.splice(0)) {
        if (ending.kind === 'complete') waiter.resolve([]);
        else waiter.reject(ending.error);
      }
    }
    return delivered;
  }

  /** Drops subscribers that closed (a `take(n)` inside a delivery); counts the rest. */
  private liveSubscribers(): number {
    for (let i = this.subscribers.length - 1; i >= 0; i--) {
      if (this.subscribers[i].closed) this.subscribers.splice(i, 1);
    }
    return this.subscribers.length;
  }
}

function remove<V>(list: V[], item: V): void {
  const at = list.indexOf(item);
  if (at >= 0) list.splice(at, 1);
}
