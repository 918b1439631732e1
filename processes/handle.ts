/**
 * Handles: `Process<M, R>` (a ProcessRef, the entry's codecs and an owner,
 * every call forwarded to the thread's scheduler) and `Self<M, R>`, the
 * handle a process gets to itself.
 */
import type { Codec } from '../core/codec';
import { checkName, checkOptions, checkTag, OPTIONS, checkTimeout } from './checks';
import type { Ops } from './ops';
import type { Proc } from './proc';
import type { EntryCodecs, EntryLike, LookupOptions, Monitor, Process, ProcessRef, RequestOptions, Self, SpawnOptions, Timer } from './types';

/** See {@link Process}. */
export class Handle<M, R = never> implements Process<M, R> {
  /** @internal The process itself when it lives on this handle's thread, once a send found it (the scheduler's cache: no table look-up per send). */
  local: Proc | undefined = undefined;

  constructor(
    protected readonly scheduler: Ops,
    readonly ref: ProcessRef,
    private readonly codecs: EntryCodecs<unknown, M, R>,
    /** The process `link`, `unlink` and `monitor` act for; null outside a process. */
    protected readonly owner: Proc | null,
  ) {}

  get id(): number {
    return this.ref.id;
  }

  get node(): string {
    return this.ref.node;
  }

  get codec(): Codec<M> {
    return this.codecs.mailbox;
  }

  send(message: M): void {
    this.scheduler.send(this.ref, this.codecs.mailbox, 0, message, false, this);
  }

  next(message: M): void {
    this.scheduler.send(this.ref, this.codecs.mailbox, 0, message, false, this);
  }

  /** The source's error does not end the process (see {@link Process}). */
  error(): void {}

  /** The source's completion does not end the process (see {@link Process}). */
  complete(): void {}

  tagSend(tag: number, message: M): void {
    this.scheduler.send(this.ref, this.codecs.mailbox, checkTag(tag, 'tagSend: tag'), message, false, this);
  }

  sendAfter(message: M, ms: number, tag = 0): Timer {
    return this.scheduler.sendAfter(this.ref, this.codecs.mailbox, checkTag(tag, 'sendAfter: tag'), message, ms);
  }

  request(message: M, options?: RequestOptions): Promise<R> {
    let timeout: number | undefined;
    let tag: number;
    try {
      const { timeout: given = 30_000, tag: asked = 0 } = checkOptions(options, 'request: options', OPTIONS.request) as RequestOptions;
      timeout = checkTimeout(given, 'request: options.timeout', true);
      tag = checkTag(asked, 'request: options.tag');
    } catch (err) {
      return Promise.reject(err);
    }
    return this.scheduler.request(this.ref, this.codecs, message, timeout, tag);
  }

  link(tag = 0): void {
    if (!this.owner) throw new TypeError('link: this handle has no owner process (link from a process, with a handle it made)');
    this.scheduler.link(this.owner, this.ref, checkTag(tag, 'link: tag'));
  }

  unlink(): void {
    // As link: a handle with no owner has no link to undo, and doing nothing in silence hid the mistake.
    if (!this.owner) throw new TypeError('unlink: this handle has no owner process (unlink from a process, with a handle it made)');
    this.scheduler.unlink(this.owner, this.ref);
  }

  monitor(): Monitor {
    return this.scheduler.monitor(this.owner, this.ref);
  }

  kill(): void {
    this.scheduler.kill(this.ref);
  }

  register(name: string): Promise<void> {
    try {
      return this.scheduler.register(this.ref, checkName(name, 'register: name'));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  isAlive(): Promise<boolean> {
    return this.scheduler.isAlive(this.ref);
  }

  /** The ProcessRef, so that `JSON.stringify` and Avro see the address. */
  toJSON(): ProcessRef {
    return this.ref;
  }
}

/** See {@link Self}. */
export class SelfHandle<M, R = never> extends Handle<M, R> implements Self<M, R> {
  constructor(scheduler: Ops, private readonly proc: Proc) {
    super(scheduler, proc.ref, proc.entry as EntryCodecs<unknown, M, R>, proc);
  }

  spawn<C, M2, R2>(entry: EntryLike<C, M2, R2>, capture: C, options?: SpawnOptions): Process<M2, R2> {
    return this.scheduler.spawn(entry, capture, options, this.proc); // null is refused there, as by node.spawn
  }

  trapExits(on: boolean): void {
    if (typeof on !== 'boolean') throw new TypeError('trapExits: on must be true or false');
    this.proc.trap = on;
  }

  handle<M2, R2 = never>(ref: ProcessRef, entry: EntryCodecs<unknown, M2, R2>): Process<M2, R2> {
    return this.scheduler.handle(ref, entry, this.proc);
  }

  lookup<M2, R2 = never>(name: string, entry: EntryCodecs<unknown, M2, R2>, options?: LookupOptions): Promise<Process<M2, R2> | undefined> {
    return this.scheduler.lookup(name, entry, this.proc, options);
  }
}
