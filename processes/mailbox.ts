/**
 * A process's mailbox: a queue of messages (one array of message, tag,
 * request triples; no object per message), delivered in arrival order
 * to one consumer at a time — the first subscriber of the Observable or of
 * `letters`, else the oldest waiting `receive` whose tags match — when the
 * thread's scheduler drains it (processes/scheduler.ts), never inside the
 * sender's call. Signals (`LinkDied`, `ProcessDied`) have a queue of their own.
 */
import { Observable, type Subscriber } from 'rxjs';
import { DEFAULT_BOUND, OPTIONS, receiveOptions } from './checks';
import { added, armWaiter, LetterOf, remove, SLOT, withoutTag, type Asker, type Consumer, type MailboxExtra, type MailboxOwner, type Waiter } from './letter';
import type { Letter, Mailbox, ReceiveOptions, Signal } from './types';

export type { Asker, MailboxExtra, MailboxOwner } from './letter';


/**
 * See {@link Mailbox}. Kept small for an idle process: the queue and the
 * lists of consumers, waiters and signals are made on first use. The queue
 * is one array of (message, tag, asker) triples between `head` and `tail`;
 * it is reused from the start when it empties, so a process that gets one
 * message at a time allocates nothing per message.
 *
 * Abstract: the process is its own mailbox (processes/proc.ts `Proc`
 * extends this), one object where a mailbox and its process took two and
 * a field each to point at the other (40 bytes of every process). The
 * entry is given the process as its `Mailbox`; what else the object has is
 * not part of that type.
 */
export abstract class MailboxImpl<M, R> extends Observable<M> implements Mailbox<M, R>, MailboxOwner {
  private q: unknown[] | null = null;
  private head = 0;
  private tail = 0;
  private consumers: Consumer[] | null = null;
  private waiters: Waiter<unknown>[] | null = null;
  /** What few mailboxes need (signals, `letters`, a bound not the default, the end), made on first use by `makeExtra`. */
  protected extra: MailboxExtra | null = null;

  constructor(bound: number) {
    super();
    if (bound !== DEFAULT_BOUND) this.box.bound = bound;
  }

  /** Something can be delivered: put the process on the ready queue. */
  abstract wake(): void;

  /** Answers a request of this process. */
  abstract reply(asker: Asker, answer: unknown): void;

  /** The process has ended (its mailbox delivers nothing more; `close` follows). */
  protected abstract get closed(): boolean;

  /** A new {@link MailboxExtra} with nothing set (the process adds fields of its own: one object, one shape). */
  protected abstract makeExtra(): MailboxExtra;

  /** How many messages it holds. */
  get bound(): number {
    return this.extra?.bound ?? DEFAULT_BOUND;
  }

  /** Set when the process has ended: makes what a later `receive` rejects with (an Error, with its stack, only when one is needed). */
  private get ended(): (() => Error) | null {
    return this.extra?.ended ?? null;
  }

  /** RxJS's subscribe hook: a method, not a closure per mailbox. */
  protected _subscribe(subscriber: Subscriber<M>) {
    return this.consume(subscriber as Subscriber<unknown>, false);
  }

  // Made on first use: most processes never read one of them, and an idle process should stay small.
  get letters(): Observable<Letter<M, R>> {
    const box = this.box;
    return (box.letters ??= new Observable<Letter<unknown, unknown>>((subscriber) => this.consume(subscriber as Subscriber<unknown>, true))) as Observable<Letter<M, R>>;
  }

  get signals(): Observable<Signal> {
    const box = this.box;
    return (box.of ??= new Observable<Signal>((subscriber) => {
      if (this.ended) return subscriber.complete();
      const list = (box.consumers = added(box.consumers, subscriber));
      if (box.queue.length) this.wake();
      return () => remove(list, subscriber);
    }));
  }

  private get box(): MailboxExtra {
    return (this.extra ??= this.makeExtra());
  }

  get size(): number {
    return (this.tail - this.head) / SLOT;
  }

  /** Whether it holds `bound` messages. */
  get full(): boolean {
    return this.tail - this.head >= this.bound * SLOT;
  }

  /** Adds a message (the caller checked the bound); wakes the process if someone takes it. */
  push(message: unknown, tag: number, asker: Asker | null): void {
    if (asker === null && this.extra?.discarded?.has(tag)) return;
    const q = (this.q ??= []);
    const at = this.tail;
    q[at] = message;
    q[at + 1] = tag;
    q[at + 2] = asker;
    this.tail = at + SLOT;
    if (this.consumers?.length || this.waiters?.length) this.wake();
  }

  /** Adds a signal. */
  pushSignal(signal: Signal): void {
    const box = this.box;
    box.queue.push(signal);
    if (box.consumers?.length || box.waiters?.length) this.wake();
  }

  /** Messages tagged `tag` are no longer wanted: see {@link withoutTag} (a typed-protocol session that ended). */
  discard(tag: number): void {
    if (this.ended) return;
    this.tail = withoutTag(this.q, this.head, this.tail, (this.box.discarded ??= new Set()), tag);
    this.compact();
  }

  receive(options?: ReceiveOptions): Promise<M> {
    return this.wait<M>(options, false);
  }

  receiveLetter(options?: ReceiveOptions): Promise<Letter<M, R>> {
    return this.wait<Letter<M, R>>(options, true);
  }

  receiveSignal(options?: Pick<ReceiveOptions, 'timeout' | 'signal'>): Promise<Signal> {
    if (this.ended) return Promise.reject(this.ended());
    return new Promise<Signal>((resolve, reject) => {
      const waiter: Waiter<Signal> = { tags: undefined, letter: false, resolve, reject, disarm: undefined };
      const box = this.box;
      // A throw in receiveOptions is the promise's rejection.
      if (!armWaiter(waiter, receiveOptions(options, 'receiveSignal', OPTIONS.receiveSignal), () => remove(box.waiters, waiter))) return;
      box.waiters = added(box.waiters, waiter);
      if (box.queue.length) this.wake();
    });
  }

  /**
   * Delivers up to `budget` messages (and every waiting signal) to their
   * consumers; returns how many messages it delivered.
   */
  drain(budget: number): number {
    if (this.extra?.queue.length) this.drainSignals(this.extra);
    let n = 0;
    const q = this.q;
    while (n < budget && this.head < this.tail && !this.closed) {
      const consumer = this.consumers?.[0];
      if (consumer) {
        const at = this.head;
        this.head = at + SLOT;
        const message = q![at];
        const tag = q![at + 1] as number;
        const asker = q![at + 2] as Asker | null;
        q![at] = undefined;
        q![at + 2] = null;
        n++;
        consumer.subscriber.next(consumer.letters ? new LetterOf(message, tag, asker, this) : message);
      } else if (this.waiters?.length) {
        if (!this.matchWaiter()) break;
        n++;
      } else {
        break;
      }
    }
    this.compact();
    this.drained();
    return n;
  }

  /** Called after each drain (the process: processes/proc.ts). */
  protected drained(): void {}

  /** Whether `drain` has something to deliver now. */
  get deliverable(): boolean {
    const messages = this.head < this.tail && (this.consumers?.length || this.waiters?.length);
    const sig = this.extra;
    return !!messages || (!!sig?.queue.length && !!(sig.consumers?.length || sig.waiters?.length));
  }

  /**
   * The process ended: consumers complete, waiting receives reject with
   * an error `error()` makes, queued messages are dropped (the process answers their requests).
   */
  close(error: () => Error): void {
    if (this.ended) return;
    const box = this.box;
    box.ended = error;
    this.q = null;
    this.head = this.tail = 0;
    const waiters = [...(this.waiters ?? []), ...(box.waiters ?? [])];
    this.waiters = null;
    box.waiters = null;
    for (const waiter of waiters) {
      waiter.disarm?.();
      waiter.reject(error());
    }
    for (const { subscriber } of this.consumers?.splice(0) ?? []) subscriber.complete();
    for (const subscriber of box.consumers?.splice(0) ?? []) subscriber.complete();
  }

  private consume(subscriber: Subscriber<unknown>, letters: boolean) {
    if (this.ended) return subscriber.complete();
    const consumer: Consumer = { subscriber, letters };
    const list = (this.consumers = added(this.consumers, consumer));
    if (this.head < this.tail) this.wake();
    return () => remove(list, consumer);
  }

  private wait<T>(options: ReceiveOptions | undefined, letter: boolean): Promise<T> {
    if (this.ended) return Promise.reject(this.ended());
    return new Promise<T>((resolve, reject) => {
      const checked = receiveOptions(options, 'receive');
      const waiter: Waiter<unknown> = { tags: checked.tags, letter, resolve: resolve as (value: unknown) => void, reject, disarm: undefined };
      if (!armWaiter(waiter, checked, () => remove(this.waiters, waiter))) return;
      this.waiters = added(this.waiters, waiter);
      if (this.head < this.tail) this.wake();
    });
  }

  /** Gives the oldest matching message to the first waiter that has one; false when none has. */
  private matchWaiter(): boolean {
    const waiters = this.waiters!;
    const q = this.q!;
    for (let w = 0; w < waiters.length; w++) {
      const waiter = waiters[w];
      const at = this.find(waiter.tags);
      if (at < 0) continue;
      waiters.splice(w, 1);
      waiter.disarm?.();
      const message = q[at];
      const tag = q[at + 1] as number;
      const asker = q[at + 2] as Asker | null;
      if (at === this.head) {
        q[at] = undefined;
        q[at + 2] = null;
        this.head = at + SLOT;
      } else {
        q.splice(at, SLOT);
        this.tail -= SLOT;
      }
      waiter.resolve(waiter.letter ? new LetterOf(message, tag, asker, this) : message);
      return true;
    }
    return false;
  }

  private find(tags: readonly number[] | undefined): number {
    if (tags === undefined) return this.head;
    const q = this.q!;
    for (let at = this.head; at < this.tail; at += SLOT) if (tags.includes(q[at + 1] as number)) return at;
    return -1;
  }

  private drainSignals(box: MailboxExtra): void {
    const sigs = box.queue;
    while (sigs.length > 0 && !this.closed) {
      const consumer = box.consumers?.[0];
      const waiter = consumer ? undefined : box.waiters?.shift();
      if (!consumer && !waiter) return;
      const signal = sigs.shift()!;
      if (consumer) consumer.next(signal);
      else {
        waiter!.disarm?.();
        waiter!.resolve(signal);
      }
    }
  }

  /**
   * Once empty, the queue starts again at 0 (its slots were cleared as they
   * were taken); a large one is let go. A long queue whose delivered front
   * is most of it drops that front.
   */
  private compact(): void {
    if (this.head === this.tail) {
      if (this.head > 0) {
        if (this.tail > 3 * 1024) this.q = null;
        this.head = this.tail = 0;
      }
    } else if (this.head > 3 * 1024 && this.head * 2 > this.tail) {
      this.q!.splice(0, this.head);
      this.tail -= this.head;
      this.head = 0;
    }
  }
}
