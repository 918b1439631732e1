/**
 * A process's mailbox: a ring queue of messages (three parallel arrays:
 * message, tag, request; no object per message), delivered in arrival order
 * to one consumer at a time — the first subscriber of the Observable or of
 * `letters`, else the oldest waiting `receive` whose tags match — when the
 * thread's scheduler drains it (processes/scheduler.ts), never inside the
 * sender's call. Signals (`LinkDied`, `ProcessDied`) have a queue of their own.
 */
import { Observable, type Subscriber } from 'rxjs';
import { TimeoutError } from '../core/errors';
import type { Letter, Mailbox, ReceiveOptions, Signal } from './types';

/** A request waiting for its reply: who asked (thread and call id). */
export interface Asker {
  readonly thread: number;
  readonly call: number;
  answered: boolean;
}

/** What a mailbox needs from its process. */
export interface MailboxOwner {
  /** Something can be delivered: put the process on the ready queue. */
  wake(): void;
  /** Answers a request of this process. */
  reply(asker: Asker, answer: unknown): void;
}

interface Consumer {
  readonly subscriber: Subscriber<unknown>;
  readonly letters: boolean;
}

interface Waiter<T> {
  readonly tags: readonly number[] | undefined;
  readonly letter: boolean;
  resolve(value: T): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

class LetterOf<M, R> implements Letter<M, R> {
  constructor(
    readonly message: M,
    readonly tag: number,
    private readonly asker: Asker | null,
    private readonly owner: MailboxOwner,
  ) {}
  get isRequest(): boolean {
    return this.asker !== null;
  }
  reply(answer: R): void {
    if (!this.asker) throw new TypeError('reply: this letter is not a request');
    if (this.asker.answered) throw new TypeError('reply: this request was answered already');
    this.owner.reply(this.asker, answer);
  }
}

/** See {@link Mailbox}. */
export class MailboxImpl<M, R> extends Observable<M> implements Mailbox<M, R> {
  private msgs: unknown[] = [];
  private tags: number[] = [];
  private askers: (Asker | null)[] = [];
  private head = 0;
  private readonly consumers: Consumer[] = [];
  private waiters: Waiter<unknown>[] = [];
  private sigs: Signal[] = [];
  private sigConsumers: Subscriber<Signal>[] = [];
  private sigWaiters: Waiter<Signal>[] = [];
  /** Set when the process has ended: what a later `receive` rejects with. */
  private ended: Error | null = null;
  private lettersOf: Observable<Letter<M, R>> | undefined;
  private signalsOf: Observable<Signal> | undefined;

  constructor(
    private readonly owner: MailboxOwner,
    /** How many messages it holds. */
    readonly bound: number,
  ) {
    super((subscriber) => this.consume(subscriber as Subscriber<unknown>, false));
  }

  // Made on first use: most processes never read one of them, and an idle process should stay small.
  get letters(): Observable<Letter<M, R>> {
    return (this.lettersOf ??= new Observable<Letter<M, R>>((subscriber) => this.consume(subscriber as Subscriber<unknown>, true)));
  }

  get signals(): Observable<Signal> {
    return (this.signalsOf ??= new Observable<Signal>((subscriber) => {
      if (this.ended) return subscriber.complete();
      this.sigConsumers.push(subscriber);
      if (this.sigs.length > 0) this.owner.wake();
      return () => remove(this.sigConsumers, subscriber);
    }));
  }

  get size(): number {
    return this.msgs.length - this.head;
  }

  /** Whether it holds `bound` messages. */
  get full(): boolean {
    return this.msgs.length - this.head >= this.bound;
  }

  /** Adds a message (the caller checked the bound); wakes the process if someone takes it. */
  push(message: unknown, tag: number, asker: Asker | null): void {
    this.msgs.push(message);
    this.tags.push(tag);
    this.askers.push(asker);
    if (this.consumers.length > 0 || this.waiters.length > 0) this.owner.wake();
  }

  /** Adds a signal. */
  pushSignal(signal: Signal): void {
    this.sigs.push(signal);
    if (this.sigConsumers.length > 0 || this.sigWaiters.length > 0) this.owner.wake();
  }

  receive(options?: ReceiveOptions): Promise<M> {
    return this.wait<M>(options, false);
  }

  receiveLetter(options?: ReceiveOptions): Promise<Letter<M, R>> {
    return this.wait<Letter<M, R>>(options, true);
  }

  receiveSignal(options: Pick<ReceiveOptions, 'timeout'> = {}): Promise<Signal> {
    if (this.ended) return Promise.reject(this.ended);
    return new Promise<Signal>((resolve, reject) => {
      const waiter: Waiter<Signal> = { tags: undefined, letter: false, resolve, reject, timer: undefined };
      this.arm(waiter, options.timeout, () => remove(this.sigWaiters, waiter));
      this.sigWaiters.push(waiter);
      if (this.sigs.length > 0) this.owner.wake();
    });
  }

  /**
   * Delivers up to `budget` messages (and every waiting signal) to their
   * consumers; returns how many messages it delivered.
   */
  drain(budget: number): number {
    this.drainSignals();
    let n = 0;
    while (n < budget && this.head < this.msgs.length && this.ended === null) {
      const consumer = this.consumers[0];
      if (consumer) {
        const at = this.head++;
        const message = this.msgs[at];
        const tag = this.tags[at];
        const asker = this.askers[at];
        this.msgs[at] = undefined;
        this.askers[at] = null;
        n++;
        consumer.subscriber.next(consumer.letters ? new LetterOf(message, tag, asker, this.owner) : message);
      } else if (this.waiters.length > 0) {
        if (!this.matchWaiter()) break;
        n++;
      } else {
        break;
      }
    }
    this.compact();
    return n;
  }

  /** Whether `drain` has something to deliver now. */
  get deliverable(): boolean {
    const messages = this.head < this.msgs.length && (this.consumers.length > 0 || this.waiters.length > 0);
    return messages || (this.sigs.length > 0 && (this.sigConsumers.length > 0 || this.sigWaiters.length > 0));
  }

  /**
   * The process ended: consumers complete, waiting receives reject with
   * `err`, queued messages are dropped (the process answers their requests).
   */
  close(err: Error): void {
    if (this.ended) return;
    this.ended = err;
    this.msgs = [];
    this.tags = [];
    this.askers = [];
    this.head = 0;
    const waiters = [...this.waiters, ...this.sigWaiters];
    this.waiters = [];
    this.sigWaiters = [];
    for (const waiter of waiters) {
      if (waiter.timer) clearTimeout(waiter.timer);
      waiter.reject(err);
    }
    for (const { subscriber } of this.consumers.splice(0)) subscriber.complete();
    for (const subscriber of this.sigConsumers.splice(0)) subscriber.complete();
  }

  private consume(subscriber: Subscriber<unknown>, letters: boolean) {
    if (this.ended) return subscriber.complete();
    const consumer: Consumer = { subscriber, letters };
    this.consumers.push(consumer);
    if (this.head < this.msgs.length) this.owner.wake();
    return () => remove(this.consumers, consumer);
  }

  private wait<T>(options: ReceiveOptions = {}, letter: boolean): Promise<T> {
    if (this.ended) return Promise.reject(this.ended);
    const { tags, timeout } = options;
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<unknown> = { tags, letter, resolve: resolve as (value: unknown) => void, reject, timer: undefined };
      this.arm(waiter, timeout, () => remove(this.waiters, waiter));
      this.waiters.push(waiter);
      if (this.head < this.msgs.length) this.owner.wake();
    });
  }

  private arm(waiter: Waiter<never>, timeout: number | undefined, drop: () => void): void {
    if (timeout === undefined) return;
    if (!(timeout >= 0)) throw new RangeError('receive: options.timeout must be a non-negative number');
    waiter.timer = setTimeout(() => {
      drop();
      waiter.reject(new TimeoutError(`receive: nothing arrived within ${timeout} ms`));
    }, timeout);
  }

  /** Gives the oldest matching message to the first waiter that has one; false when none has. */
  private matchWaiter(): boolean {
    for (let w = 0; w < this.waiters.length; w++) {
      const waiter = this.waiters[w];
      const at = this.find(waiter.tags);
      if (at < 0) continue;
      this.waiters.splice(w, 1);
      if (waiter.timer) clearTimeout(waiter.timer);
      const message = this.msgs[at];
      const tag = this.tags[at];
      const asker = this.askers[at];
      if (at === this.head) {
        this.msgs[at] = undefined;
        this.askers[at] = null;
        this.head++;
      } else {
        this.msgs.splice(at, 1);
        this.tags.splice(at, 1);
        this.askers.splice(at, 1);
      }
      waiter.resolve(waiter.letter ? new LetterOf(message, tag, asker, this.owner) : message);
      return true;
    }
    return false;
  }

  private find(tags: readonly number[] | undefined): number {
    if (tags === undefined) return this.head;
    for (let at = this.head; at < this.msgs.length; at++) if (tags.includes(this.tags[at])) return at;
    return -1;
  }

  private drainSignals(): void {
    while (this.sigs.length > 0 && this.ended === null) {
      const consumer = this.sigConsumers[0];
      const waiter = consumer ? undefined : this.sigWaiters.shift();
      if (!consumer && !waiter) return;
      const signal = this.sigs.shift()!;
      if (consumer) consumer.next(signal);
      else {
        if (waiter!.timer) clearTimeout(waiter!.timer);
        waiter!.resolve(signal);
      }
    }
  }

  /** Drops the delivered slots at the front once they are most of the arrays. */
  private compact(): void {
    if (this.head === this.msgs.length) {
      if (this.head > 0) {
        this.msgs.length = 0;
        this.tags.length = 0;
        this.askers.length = 0;
        this.head = 0;
      }
    } else if (this.head > 1024 && this.head * 2 > this.msgs.length) {
      this.msgs.splice(0, this.head);
      this.tags.splice(0, this.head);
      this.askers.splice(0, this.head);
      this.head = 0;
    }
  }
}

function remove<T>(list: T[], item: T): void {
  const at = list.indexOf(item);
  if (at >= 0) list.splice(at, 1);
}
