/**
 * One process as its host thread keeps it: a small object that is also its
 * mailbox (it extends processes/mailbox.ts `MailboxImpl`), with its links,
 * monitors, names, open requests and the like in one object made only when
 * one of them is used.
 *
 * Why so few fields: every process a spawn makes outlives the young
 * generation, so the scavenger copies each of its bytes and the OS faults
 * in every fresh page they land on (10–14 µs a 4 KiB page on the VMs
 * measured); at 100k spawns that was most of a spawn's time
 * (bench/README.md, `process`, session 23). A field is 8 bytes.
 */
import type { Subscription } from 'rxjs';
import type { Entry, ProcessRef } from './types';
import { DEFAULT_BOUND } from './checks';
import { MailboxImpl, type Asker, type MailboxExtra } from './mailbox';
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
  /** `proc`'s mailbox, full for some thread, has room again (processes/fullness.ts). */
  room(proc: Proc): void;
}

/** What most processes never have, in the mailbox's extra object (made on first use; one literal, so every one has the same shape). */
interface Ties extends MailboxExtra {
  links: Map<number, LinkTo> | null;
  watchers: Map<number, number> | null;
  watching: Set<number> | null;
  names: string[] | null;
  asked: Set<Asker> | null;
  sub: Subscription | null;
  waitsForName: boolean;
  trap: boolean;
  fullFor: Set<number> | null;
}

/** A process on its host thread; its mailbox is itself. */
export class Proc extends MailboxImpl<unknown, unknown> implements Failable {
  state: State = State.NEW;
  /**
   * The next process on the host's ready list (processes/runqueue.ts): null
   * for the last one, undefined when not on the list.
   */
  nextReady: Proc | null | undefined = undefined;
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
    super(bound);
    this.capture = capture;
    if (trap) this.tie().trap = true;
  }

  /** Its mailbox: itself. */
  get mailbox(): MailboxImpl<unknown, unknown> {
    return this;
  }

  get id(): number {
    return this.ref.id;
  }

  /** By the other process's id. */
  get links(): Map<number, LinkTo> | null {
    return this.ties()?.links ?? null;
  }
  set links(links: Map<number, LinkTo> | null) {
    this.put('links', links);
  }

  /** Monitors on this process: monitor id → the thread that watches. */
  get watchers(): Map<number, number> | null {
    return this.ties()?.watchers ?? null;
  }
  set watchers(watchers: Map<number, number> | null) {
    this.put('watchers', watchers);
  }

  /** The monitors this process owns (theirs ends with it: bonds.ts `ended`). */
  get watching(): Set<number> | null {
    return this.ties()?.watching ?? null;
  }
  set watching(watching: Set<number> | null) {
    this.put('watching', watching);
  }

  get names(): string[] | null {
    return this.ties()?.names ?? null;
  }
  set names(names: string[] | null) {
    this.put('names', names);
  }

  /** Requests received and not answered yet. */
  get asked(): Set<Asker> | null {
    return this.ties()?.asked ?? null;
  }
  set asked(asked: Set<Asker> | null) {
    this.put('asked', asked);
  }

  /** The subscription to what the entry returned, when an Observable. */
  get sub(): Subscription | null {
    return this.ties()?.sub ?? null;
  }
  set sub(sub: Subscription | null) {
    this.put('sub', sub);
  }

  /** Spawned with a name: it starts once the registry says the name is its. */
  get waitsForName(): boolean {
    return this.ties()?.waitsForName ?? false;
  }
  set waitsForName(waits: boolean) {
    this.put('waitsForName', waits);
  }

  /** The threads told that its mailbox holds its bound (processes/fullness.ts). */
  get fullFor(): Set<number> | null {
    return this.ties()?.fullFor ?? null;
  }
  set fullFor(threads: Set<number> | null) {
    this.put('fullFor', threads);
  }

  /** Exits of linked processes come as `LinkDied` signals instead of ending this one. */
  get trap(): boolean {
    return this.ties()?.trap ?? false;
  }
  set trap(trap: boolean) {
    this.put('trap', trap);
  }

  wake(): void {
    this.host.ready(this);
  }

  /** After a drain: threads told it was full hear that it has room, once it is down to half its bound. */
  protected override drained(): void {
    if (this.extra !== null && (this.extra as Ties).fullFor !== null && this.size <= Math.floor(this.bound / 2)) this.host.room(this);
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

  protected get closed(): boolean {
    return this.state === State.DEAD;
  }

  protected makeExtra(): Ties {
    return {
      queue: [],
      consumers: null,
      waiters: null,
      of: undefined,
      letters: undefined,
      bound: DEFAULT_BOUND,
      ended: null,
      discarded: null,
      links: null,
      watchers: null,
      watching: null,
      names: null,
      asked: null,
      sub: null,
      waitsForName: false,
      trap: false,
      fullFor: null,
    };
  }

  /** Sets one of the ties; a null or false on a process without them makes none. */
  private put<K extends Exclude<keyof Ties, keyof MailboxExtra>>(key: K, value: Ties[K]): void {
    if (value || this.extra) this.tie()[key] = value;
  }

  private ties(): Ties | null {
    return this.extra as Ties | null;
  }

  /** The ties, made now if not yet. */
  private tie(): Ties {
    return (this.extra ??= this.makeExtra()) as Ties;
  }
}
