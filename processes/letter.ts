/**
 * What a mailbox hands out and asks for: a letter (a message with its tag
 * and, for a request, the way to reply), the asker of a request, the
 * mailbox's owner (its process), the object of its rare fields, and the
 * lists of consumers and waiters it keeps, and a waiter's time limit and
 * abort signal.
 */
import type { Observable, Subscriber } from 'rxjs';
import { TimeoutError } from '../core/errors';
import type { Letter, ReceiveOptions, Signal } from './types';

/** Slots per queued message in a mailbox's queue: the message, its tag, its asker. */
export const SLOT = 3;

/** How many discarded tags a mailbox remembers (the oldest is forgotten first). */
export const DISCARDED_TAGS = 256;

/**
 * A mailbox's discard of `tag` (a typed-protocol session that ended, whose
 * late messages nobody will take): `tag` joins `discarded` — a message that
 * arrives with it is dropped on arrival, for the last {@link DISCARDED_TAGS}
 * tags discarded — and the messages of that tag queued in `q` between
 * `head` and `tail` go now. A request (a message with an asker) is kept:
 * its asker waits for an answer. Returns the new tail.
 */
export function withoutTag(q: unknown[] | null, head: number, tail: number, discarded: Set<number>, tag: number): number {
  discarded.delete(tag);
  discarded.add(tag);
  if (discarded.size > DISCARDED_TAGS) discarded.delete(discarded.values().next().value!);
  if (q === null) return tail;
  let to = head;
  for (let at = head; at < tail; at += SLOT) {
    if (q[at + 1] === tag && q[at + 2] === null) continue;
    if (to !== at) {
      q[to] = q[at];
      q[to + 1] = q[at + 1];
      q[to + 2] = q[at + 2];
    }
    to += SLOT;
  }
  for (let at = to; at < tail; at++) q[at] = undefined;
  return to;
}

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

export interface Consumer {
  readonly subscriber: Subscriber<unknown>;
  readonly letters: boolean;
}

export interface Waiter<T> {
  readonly tags: readonly number[] | undefined;
  readonly letter: boolean;
  resolve(value: T): void;
  reject(err: Error): void;
  /** Clears its time limit and abort listener (set by `armWaiter` when it has either). */
  disarm: (() => void) | undefined;
}

/**
 * Sets a waiting receive's time limit and abort signal: either drops it
 * from its list (`drop`) and rejects it. False, with the waiter rejected,
 * when the signal has aborted already (it is then not to be listed).
 */
export function armWaiter(waiter: Waiter<never>, { timeout, signal }: ReceiveOptions, drop: () => void): boolean {
  if (signal?.aborted) {
    waiter.reject(signal.reason);
    return false;
  }
  if (timeout === undefined && signal === undefined) return true;
  const quit = (err: Error): void => {
    waiter.disarm!();
    drop();
    waiter.reject(err);
  };
  const timer = timeout === undefined ? undefined : setTimeout(() => quit(new TimeoutError(`receive: nothing arrived within ${timeout} ms`)), timeout);
  const aborted = (): void => quit(signal!.reason);
  signal?.addEventListener('abort', aborted, { once: true });
  waiter.disarm = () => {
    clearTimeout(timer);
    signal?.removeEventListener('abort', aborted);
  };
  return true;
}

export class LetterOf<M, R> implements Letter<M, R> {
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

/**
 * What few mailboxes use: its signals (`LinkDied`, `ProcessDied`), its
 * `letters` Observable, a bound other than the default, and its end. One
 * object, made on first use, in place of eight fields in every mailbox;
 * the process keeps its own rare fields in the same object
 * (processes/proc.ts `Ties`).
 */
export interface MailboxExtra {
  readonly queue: Signal[];
  consumers: Subscriber<Signal>[] | null;
  waiters: Waiter<Signal>[] | null;
  /** The `signals` Observable. */
  of: Observable<Signal> | undefined;
  letters: Observable<Letter<unknown, unknown>> | undefined;
  bound: number;
  ended: (() => Error) | null;
  /** Tags whose messages are dropped on arrival (`discard`), oldest first; at most `DISCARDED_TAGS`. */
  discarded: Set<number> | null;
}

/**
 * `list` with `item` pushed, or a new list of `item` alone: an array literal
 * holds one slot, where a push onto `[]` reserves 17 — 128 bytes more in
 * each idle process waiting in a receive.
 */
export function added<T>(list: T[] | null, item: T): T[] {
  if (list === null) return [item];
  list.push(item);
  return list;
}

export function remove<T>(list: T[] | null, item: T): void {
  if (list === null) return;
  const at = list.indexOf(item);
  if (at >= 0) list.splice(at, 1);
}
