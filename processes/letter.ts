/**
 * What a mailbox hands out and asks for: a letter (a message with its tag
 * and, for a request, the way to reply), the asker of a request, and the
 * mailbox's owner (its process).
 */
import type { Subscriber } from 'rxjs';
import type { Letter } from './types';

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
  timer: ReturnType<typeof setTimeout> | undefined;
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

