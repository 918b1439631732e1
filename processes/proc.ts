/**
 * One process as its host thread keeps it: a small object with its mailbox,
 * and its links, monitors, names and open requests made only when used.
 */
import type { Subscription } from 'rxjs';
import type { Entry, ProcessRef } from './types';
import { MailboxImpl, type Asker, type MailboxOwner } from './mailbox';
import type { Failable } from './uncaught';

/** A process's life: made (waiting for its first turn), running, dead. */
export const State = { NEW: 0, RUNNING: 1, DEAD: 2 } as const;
export type State = (typeof State)[keyof typeof State];

/** A link, as one side keeps it. */
export interface LinkTo {
  readonly ref: ProcessRef;
  readonly tag: number;
}

/** What a process asks of the scheduler that hosts it. */
export interface Host {
  ready(proc: Proc): void;
  /** Ends `proc`, `failed` with `err` (a throw its code made where nothing caught it). */
  failed(proc: Proc, err: unknown): void;
  answer(proc: Proc, asker: Asker, answer: unknown): void;
}

/** A process on its host thread. */
export class Proc implements MailboxOwner, Failable {
  state: State = State.NEW;
  /** On the scheduler's ready queue. */
  queued = false;
  /** Spawned with a name: it starts once the registry says the name is its. */
  waitsForName = false;
  trap: boolean;
  readonly mailbox: MailboxImpl<unknown, unknown>;
  /** By the other process's id. */
  links: Map<number, LinkTo> | null = null;
  /** Monitors on this process: monitor id → the thread that watches. */
  watchers: Map<number, number> | null = null;
  names: string[] | null = null;
  /** Requests received and not answered yet. */
  asked: Set<Asker> | null = null;
  /** The subscription to what the entry returned, when an Observable. */
  sub: Subscription | null = null;
  /** The capture, until the process starts. */
  capture: unknown;

  constructor(
    private readonly host: Host,
    readonly ref: ProcessRef,
    readonly entry: Entry<unknown, unknown, unknown>,
    capture: unknown,
    bound: number,
    trap: boolean,
  ) {
    this.capture = capture;
    this.trap = trap;
    this.mailbox = new MailboxImpl(this, bound);
  }

  get id(): number {
    return this.ref.id;
  }

  wake(): void {
    this.host.ready(this);
  }

  fail(err: unknown): void {
    this.host.failed(this, err);
  }

  reply(asker: Asker, answer: unknown): void {
    this.host.answer(this, asker, answer);
  }

  link(ref: ProcessRef, tag: number): void {
    (this.links ??= new Map()).set(ref.id, { ref, tag });
  }
}
