/**
 * What a handle asks of its thread's scheduler (implemented by
 * processes/scheduler.ts; an interface of its own so that handles and the
 * scheduler do not import each other).
 */
import type { Codec } from '../core/codec';
import type { Envelope } from './envelope';
import type { Proc } from './proc';
import type { EntryCodecs, EntryLike, LookupOptions, Monitor, Process, ProcessRef, SpawnOptions, Timer } from './types';

/** The scheduler's side of every handle call (see `Process` for what each does). */
export interface Ops {
  /** `cache`: the sending handle, where a target on this thread is kept once found (see `Handle.local`). */
  send(ref: ProcessRef, codec: Codec<unknown>, tag: number, message: unknown, timer: boolean, cache?: { local: Proc | undefined }): void;
  sendAfter(ref: ProcessRef, codec: Codec<unknown>, tag: number, message: unknown, ms: number): Timer;
  request<R>(ref: ProcessRef, codecs: EntryCodecs<unknown, unknown, R>, message: unknown, timeout: number | undefined, tag: number): Promise<R>;
  link(owner: Proc, ref: ProcessRef, tag: number): void;
  unlink(owner: Proc, ref: ProcessRef): void;
  monitor(owner: Proc | null, ref: ProcessRef): Monitor;
  kill(ref: ProcessRef): void;
  register(ref: ProcessRef, name: string): Promise<void>;
  isAlive(ref: ProcessRef): Promise<boolean>;
  spawn<C, M, R>(entry: EntryLike<C, M, R>, capture: C, options: SpawnOptions | undefined, parent: Proc | null): Process<M, R>;
  handle<M, R>(ref: ProcessRef, codecs: EntryCodecs<unknown, M, R>, owner: Proc | null): Process<M, R>;
  lookup<M, R>(name: string, codecs: EntryCodecs<unknown, M, R>, owner: Proc | null, options?: LookupOptions): Promise<Process<M, R> | undefined>;
}

/** The links from one thread to the others of its node. */
export interface Mesh {
  /** Posts `envelope` to `thread` if its link has room now; false when full. A gone thread takes (and drops) everything. */
  tryPost(thread: number, envelope: Envelope): boolean;
  /** Posts `envelope` to `thread`, queueing it until the link has room (for replies and signals, which must not be lost). */
  post(thread: number, envelope: Envelope): void;
  /** The largest encoded envelope a link carries. */
  readonly largest: number;
  /** @throws FrameError when `envelope` is larger than a link carries (`post` checks it too). */
  fit(envelope: Envelope): void;
  /** Writes a message straight into the link if it can now (true; a gone thread takes it too); false: the general path. */
  sendNow?(thread: number, to: number, tag: number, codec: Codec<unknown>, message: unknown): boolean;
}
