/**
 * The public interfaces of rxwire's lightweight processes (lunatic's
 * `Process`, after Erlang): the handle {@link Process}, the {@link Mailbox},
 * the entry a process runs, the options of `spawn`, and the signals a
 * process receives when a linked or monitored process dies. Types only; the
 * errors are in processes/errors.ts.
 *
 * Vocabulary. A *node* runs N worker threads (and the calling thread), each
 * hosting many processes. A process is identified node-wide by a
 * {@link ProcessRef}: the node's id, the thread that hosts it, and a number.
 * A *handle* (`Process<M, R>`) is a ProcessRef plus the codecs needed to
 * talk to it, plus an *owner*: the process on whose behalf `link`,
 * `monitor` and `request` act (the process that spawned it or made it with
 * `self.handle`; none for handles made outside a process).
 */
import type { Observable, Observer } from 'rxjs';
import type { Codec } from '../core/codec';
import type { Monitor, ProcessRef, Signal, Timer } from './signal-types';

export type { Exit, ExitReason, LinkDied, Monitor, ProcessDied, ProcessRef, Signal, Timer } from './signal-types';

/** Options of `request`. */
export interface RequestOptions {
  /** Milliseconds to wait for the reply; then the Promise rejects with `TimeoutError`. Default 30,000. */
  timeout?: number;
  /** The tag the request is sent with, for selective receive (`receiveLetter({ tags })`). Default 0. */
  tag?: number;
}

/**
 * A handle to a process, to which messages of type `M` can be sent and
 * whose requests are answered with `R`. A handle is a value: it carries
 * the process's {@link ProcessRef} (`ref`), which an Avro `ProcessRef`
 * field carries across threads and machines (processes/ref.ts).
 *
 * It is an RxJS Observer: `source$.subscribe(handle)` sends every value;
 * the source's `complete` and `error` do not end the process. Unlike a
 * WireSubject's, its `next` throws what `send` throws (there is no stream
 * of its own to end instead): in a chain, RxJS reports the throw as an
 * unhandled error, so a source that can outrun the mailbox's bound (a
 * synchronous `range` of 100k into the default 65,536) should be paced —
 * `concatMap((m) => handle.request(m))`, or batches.
 */
export interface Process<M, R = never> extends Observer<M> {
  /** The process's number (unique in its node). */
  readonly id: number;
  /** The id of the node that hosts it. */
  readonly node: string;
  /** Its address, as it travels in a message. */
  readonly ref: ProcessRef;
  /** The codec of its mailbox. */
  readonly codec: Codec<M>;
  /**
   * Sends `message` (tag 0). Messages from one sender arrive in the order
   * sent. A message to a process that has ended is dropped, as in Erlang.
   * @throws EncodeError when `message` does not fit the mailbox's codec (nothing is sent)
   * @throws MailboxFullError when the mailbox (or the link to its thread) is at its bound (nothing is sent)
   * @throws NodeClosedError when the node is closed
   * @throws UnknownNodeError when the process is on another node this thread has no link to (see `startClusterNode`)
   */
  send(message: M): void;
  /** As `send`: the Observer side. */
  next(message: M): void;
  /** Sends `message` with `tag` (an integer), for selective receive (`receive({ tags })`). */
  tagSend(tag: number, message: M): void;
  /**
   * Sends `message` once after `ms` milliseconds, unless cancelled first.
   * The message is checked now (an `EncodeError` is thrown now).
   */
  sendAfter(message: M, ms: number, tag?: number): Timer;
  /**
   * Sends `message` as a request and resolves with exactly one reply
   * (`Letter.reply` on the other side).
   * Rejects with `TimeoutError` after `options.timeout`, with
   * `ProcessExitedError` when the process ends (or has ended) without
   * replying, and with `EncodeError` / `DecodeError` for a message or reply
   * that does not fit its codec. For a process on another node: with
   * `NodeUnreachableError` when that node drops off before the reply, and
   * `UnknownNodeError` when there is no link to it.
   */
  request(message: M, options?: RequestOptions): Promise<R>;
  /**
   * Links the owner to this process (both ways): when one fails, the
   * other is killed, unless it traps exits and receives `LinkDied` with
   * `tag`. Linking to a process that has already ended acts as if it just
   * failed with reason `noproc`.
   * @throws TypeError when the handle has no owner
   */
  link(tag?: number): void;
  /** Removes the link between the owner and this process (both ways). @throws TypeError when the handle has no owner */
  unlink(): void;
  /** Monitors this process: `ProcessDied` when it ends, for any reason, without killing anyone. @throws ProcessExitedError when the owner has ended; NodeClosedError once the node is closed */
  monitor(): Monitor;
  /**
   * Kills the process: it is dead once its thread runs the kill — at once
   * from its own thread (its links and monitors fire, messages to it are
   * dropped); its code stops at its next await of the mailbox (`receive`
   * rejects with `ProcessKilledError`, the mailbox Observable completes).
   * A process that never yields holds its thread, so no kill reaches it
   * (see README).
   */
  kill(): void;
  /**
   * Registers this process under `name` in its node. The name is freed
   * when the process ends.
   * Rejects with `NameTakenError` when the name is held by a live process,
   * and with `ProcessExitedError` when this process has ended.
   */
  register(name: string): Promise<void>;
  /** Whether the process is still running (asks its thread). */
  isAlive(): Promise<boolean>;
}

/** A message as it sits in a mailbox: the value, its tag, and the means to answer it when it is a request. */
export interface Letter<M, R = never> {
  readonly message: M;
  /** The tag it was sent with (0 for `send`). */
  readonly tag: number;
  /** Whether the sender waits for a reply (`request`). */
  readonly isRequest: boolean;
  /**
   * Answers a request, once.
   * @throws TypeError when this letter is not a request or was answered already
   * @throws EncodeError when `answer` does not fit the reply codec
   */
  reply(answer: R): void;
}

/** Options of `receive`. */
export interface ReceiveOptions {
  /** Take the first message (in arrival order) whose tag is one of these; others stay. Default: any tag. */
  tags?: readonly number[];
  /** Milliseconds to wait; then the Promise rejects with `TimeoutError`. Default: no limit. */
  timeout?: number;
  /** Stop waiting when it aborts: the Promise rejects with its `reason`, and what arrives stays in the mailbox. */
  signal?: AbortSignal;
}

/**
 * A process's mailbox: an Observable of its messages in arrival order
 * (FIFO per sender), plus `receive` for selective receive by tag.
 *
 * Bounded: it holds at most `SpawnOptions.mailboxBound` messages; a local
 * `send` to a full mailbox throws `MailboxFullError` and sends nothing.
 * Messages from another thread also fail with `MailboxFullError` at the
 * sender once the link to that thread is full; what is on the link already
 * (at most the link's ring and queue) is taken in beyond the bound.
 *
 * One consumer at a time: while the Observable (or `letters`) has a
 * subscriber, messages go to it, and `receive` takes only what is queued
 * when no subscriber is; subscribe before the process's first await to
 * see every message. Subscribe more than once and each message goes to the
 * first subscriber only.
 *
 * When the process ends (or is killed) the Observable completes and every
 * waiting `receive` rejects with `ProcessKilledError` / `ProcessExitedError`.
 */
export interface Mailbox<M, R = never> extends Observable<M> {
  /** The messages with their tags and, for requests, their reply. */
  readonly letters: Observable<Letter<M, R>>;
  /** `LinkDied` (when trapping exits) and `ProcessDied` signals, in arrival order; queued until subscribed. */
  readonly signals: Observable<Signal>;
  /** The next message (matching `options.tags`), as it is removed from the mailbox. */
  receive(options?: ReceiveOptions): Promise<M>;
  /** As `receive`, with the tag and reply. */
  receiveLetter(options?: ReceiveOptions): Promise<Letter<M, R>>;
  /** The next signal. */
  receiveSignal(options?: Pick<ReceiveOptions, 'timeout' | 'signal'>): Promise<Signal>;
  /** Messages waiting in the mailbox. */
  readonly size: number;
}

/** Where `spawn` places a process. */
export type Placement =
  /** The thread of the spawning process (for `node.spawn`: the least loaded worker). */
  | 'same'
  /** The worker hosting the fewest processes (as this thread last heard). */
  | 'least-loaded'
  /** Worker thread n (0..threads-1), or `threads` for the node's own thread. */
  | { thread: number };

/** Options of `spawn`. */
export interface SpawnOptions {
  /** Where to run it. Default `'same'`. */
  placement?: Placement;
  /**
   * Link the new process to its parent (lunatic's `spawn_link`; needs a
   * parent, i.e. `self.spawn`). Default false.
   */
  link?: boolean;
  /** The tag of that link, carried by `LinkDied`. Default 0. */
  linkTag?: number;
  /** Start trapping exits: linked failures arrive as `LinkDied` instead of killing it. Default false. */
  trapExits?: boolean;
  /** Register the new process under this name before it runs (`NameTakenError` fails the spawn). */
  name?: string;
  /** How many messages its mailbox holds. Default 65,536. */
  mailboxBound?: number;
  /**
   * Spawn on this node of the cluster (its id) instead of this one, from
   * any thread of a node started with `startClusterNode` and linked to that
   * node. `placement` then names that node's threads: left out or 'same',
   * its own thread; `{ thread }`, that thread of it; 'least-loaded', its
   * worker with the fewest processes as it last reported (LOAD frames)
   * plus those this node placed there since. Default: this node.
   */
  node?: string;
}

/** Options of `lookup`. */
export interface LookupOptions {
  /** Ask the registry of this node of the cluster (its id). Default: this node's. */
  node?: string;
}

/** Self: the handle a process gets to itself, plus what only a process can do. */
export interface Self<M, R = never> extends Process<M, R> {
  /** Spawns a child; `link`, `monitor` and `request` of the handle act for this process. */
  spawn<C, M2, R2>(entry: EntryLike<C, M2, R2>, capture: C, options?: SpawnOptions): Process<M2, R2>;
  /** Traps exits (true) or not: see `SpawnOptions.trapExits`. */
  trapExits(on: boolean): void;
  /** A handle to `ref` owned by this process, to talk to a process whose address came in a message. */
  handle<M2, R2 = never>(ref: ProcessRef, entry: EntryCodecs<unknown, M2, R2>): Process<M2, R2>;
  /** The process registered as `name` (in `options.node`'s registry), as a handle owned by this process, or undefined. */
  lookup<M2, R2 = never>(name: string, entry: EntryCodecs<unknown, M2, R2>, options?: LookupOptions): Promise<Process<M2, R2> | undefined>;
}

/** What an entry function may return: the process ends when it settles (a Promise that resolves to an Observable runs it, as if returned). */
export type EntryResult = void | Promise<unknown> | Observable<unknown>;

/** The function a process runs. */
export type EntryFunction<C, M, R = never> = (capture: C, mailbox: Mailbox<M, R>, self: Self<M, R>) => EntryResult;

/** The codecs of an entry: its capture, its mailbox, and (when it answers requests) its reply. */
export interface EntryCodecs<C, M, R = never> {
  capture: Codec<C>;
  mailbox: Codec<M>;
  reply?: Codec<R>;
}

/**
 * A process entry: a function exported by a module, and its codecs. Code
 * cannot cross threads, so a process is spawned by naming the module and
 * export; the thread that runs it loads the module and calls the export.
 * Made by `entry()` (processes/entry.ts).
 */
export interface Entry<C, M, R = never> extends EntryCodecs<C, M, R> {
  /** Absolute path of the module that exports it. */
  readonly module: string;
  /** The name it is exported under. */
  readonly name: string;
  readonly run: EntryFunction<C, M, R>;
}

/** An entry, or its module and export name (the module is then loaded to find it). */
export type EntryLike<C, M, R = never> = Entry<C, M, R> | { module: string | URL; name: string };

/** Options of `startNode`. */
export interface NodeOptions {
  /** Worker threads. Default `os.availableParallelism()`. */
  threads?: number;
  /** The node's id (in every ProcessRef). Default a random UUID. */
  id?: string;
  /** Bytes of each ring between two threads. Default 1 MiB. */
  ringBytes?: number;
  /**
   * How each thread of the node waits for envelopes from the others (the
   * shm transport's wait strategy, see `ShmOptions.wait`): `'auto'` (the
   * default) polls for `spinMicros` after activity, then sleeps until
   * woken — an idle node uses no CPU, and a message to a sleeping thread
   * costs its wake-up; `'spin'` never sleeps — the lowest latency between
   * threads, and a core per thread for as long as the node runs; `'yield'`
   * polls once per event-loop turn; `'async'` sleeps at once. (`'block'`
   * is refused: it would stop the timers of the processes on the thread.)
   */
  wait?: 'auto' | 'spin' | 'yield' | 'async';
  /** With `wait: 'auto'`, how long a thread polls after activity before it sleeps, in µs. Default 50 (it adapts: see `ShmOptions.spinMicros`). */
  spinMicros?: number;
}

/** A running node: its worker threads and the calling thread's share of it. */
export interface ProcessNode {
  /** Its id. */
  readonly id: string;
  /** How many worker threads it runs. */
  readonly threads: number;
  /** Spawns a process (placement default: least loaded worker). */
  spawn<C, M, R = never>(entry: EntryLike<C, M, R>, capture: C, options?: SpawnOptions): Process<M, R>;
  /** A handle to `ref` (which came in a message), with the entry's codecs. */
  handle<M, R = never>(ref: ProcessRef, entry: EntryCodecs<unknown, M, R>): Process<M, R>;
  /** The process registered as `name` (in `options.node`'s registry), or undefined. */
  lookup<M, R = never>(name: string, entry: EntryCodecs<unknown, M, R>, options?: LookupOptions): Promise<Process<M, R> | undefined>;
  /** How many processes are alive on each thread (workers, then this thread). */
  counts(): Promise<number[]>;
  /**
   * Ends every process (reason `shutdown`) and every thread, closing every
   * ring, port and timer. Idempotent; resolves when all threads have exited.
   */
  close(): Promise<void>;
}
