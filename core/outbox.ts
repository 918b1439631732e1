/**
 * An outgoing queue: values that wait, in one FIFO order, for room in
 * whatever takes them (a transport's window, a pool's credits), then the
 * stream's ending once they are all out. WireSubject and the pool's
 * up-sender each keep one, each with its own `OutboxLink`.
 *
 * Three ways in, as on WireSubject:
 * - `send` waits for room (its promise resolves when the value is taken,
 *   rejects with the typed error when it cannot be);
 * - `trySend` takes the value now or returns false (and throws the typed error);
 * - `next` never throws: it queues up to `maxQueue` values, and a value that
 *   cannot be sent (does not fit, one too many) fails the stream through
 *   `link.failed`.
 * The owner calls `drain()` when room comes, `end()` for the ending, and
 * `close()` when the far side closed the way out (then nothing more is taken).
 */
import type { Ending } from './ending';
import { QueueFullError, TransportClosedError } from './errors';
import { Fifo } from './fifo';

/** What an outbox needs from the way out. */
export interface OutboxLink<T> {
  /** Takes `value` if there is room now; false (nothing taken) when full. Throws for a value it refuses. */
  offer(value: T): boolean;
  /** Throws the typed error for a value that could never be taken (checked before it is queued). */
  check(value: T): void;
  /** A value was queued (`byNext`: by `next`, so nobody waits on a promise for it). */
  queued(byNext: boolean): void;
  /** No value waits any more (all taken, or dropped). */
  emptied(): void;
  /** Every value is out: pass the ending on. Called once. */
  ended(ending: Ending): void;
  /** A value from `next` cannot be sent (it does not fit, the queue is full): the stream fails with `err`. */
  failed(err: unknown): void;
}

/** Options of an outbox. */
export interface OutboxOptions {
  /** How many values `next` may queue (values of waiting `send`s count too); one more is `QueueFullError`. */
  maxQueue: number;
  /** What `send` returns for a value taken at once (default: a resolved promise). */
  taken?: () => Promise<void>;
  /** The error for `send` and `trySend` once the stream has ended here. */
  endedError?: () => Error;
  /**
   * Whether a value taken now is final (default: always). A transport takes
   * values before the reader has accepted the schema and holds them; a
   * `send` of such a value resolves on `confirm()` and rejects on `close()`.
   */
  confirmed?: () => boolean;
}

interface Pending<T> {
  value: T;
  /** Set for a value from `send`: settles its promise. */
  resolve?: () => void;
  reject?: (err: Error) => void;
}

export class Outbox<T> {
  private readonly queue = new Fifo<Pending<T>>();
  private readonly maxQueue: number;
  private readonly taken: () => Promise<void>;
  private readonly endedError: () => Error;
  private ending: Ending | undefined;
  private endPassed = false;
  private closedBy: { error: Error; stopped: boolean } | undefined;
  private droppedCount = 0;
  /** `drain` is running (a nested call only sets `roomCame`). */
  private draining = false;
  /** The link reported room while `drain` was offering a value. */
  private roomCame = false;
  private readonly confirmed: () => boolean;
  /** `send`s whose value was taken before the reader accepted: settled by `confirm` or `close`. */
  private readonly unconfirmed = new Fifo<{ resolve: () => void; reject: (err: Error) => void }>();

  constructor(
    private readonly link: OutboxLink<T>,
    options: OutboxOptions,
  ) {
    this.maxQueue = options.maxQueue;
    this.taken = options.taken ?? (() => RESOLVED);
    this.endedError = options.endedError ?? (() => new TransportClosedError(this.ending?.kind === 'error' ? 'this end has errored' : 'this end has completed'));
    this.confirmed = options.confirmed ?? (() => true);
  }

  /** The reader accepted: every `send` taken before now resolves. */
  confirm(): void {
    for (const pending of this.unconfirmed.drain()) pending.resolve();
  }

  /** Values waiting. */
  get length(): number {
    return this.queue.length;
  }

  /** Values from `next` that were not sent: after the end, or after the far side closed. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** The ending, once `end` (or a failure) set it. */
  get ended(): boolean {
    return this.ending !== undefined;
  }

  /** Why the far side closed the way out, if it did. */
  get closed(): { error: Error; stopped: boolean } | undefined {
    return this.closedBy;
  }

  /** Sends `value`, waiting for room; see the file comment. */
  send(value: T): Promise<void> {
    try {
      // (Not taken: trySend has checked the value against the schema.)
      if (this.trySend(value)) return this.confirmed() ? this.taken() : new Promise((resolve, reject) => this.unconfirmed.push({ resolve, reject }));
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.closedBy) return Promise.reject(this.closedBy.error);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ value, resolve, reject });
      this.link.queued(false);
    });
  }

  /** Takes `value` now if there is room and nothing waits; false otherwise. Throws the typed error. */
  trySend(value: T): boolean {
    const closed = this.closedBy?.error ?? (this.ending && this.endedError());
    if (closed) throw closed;
    let taken: boolean;
    try {
      taken = this.queue.length === 0 && this.link.offer(value);
    } catch (err) {
      // The way out may learn only now that the far side closed: report why.
      throw this.closedBy?.error ?? err;
    }
    // Not taken (no room, or values wait): a value that does not fit the schema still throws its EncodeError,
    // whatever the window's state (it returned false, and a caller keeping it for later met the error late).
    if (!taken) this.link.check(value);
    return taken;
  }

  /** Queues `value` behind the others; never throws (see the file comment). */
  next(value: T): void {
    if (this.ending || this.closedBy) {
      this.droppedCount++;
      return;
    }
    try {
      if (this.queue.length === 0 && this.link.offer(value)) return;
      if (this.queue.length >= this.maxQueue) {
        throw new QueueFullError(`next: ${this.queue.length} values already wait for the reader (options.maxQueue)`);
      }
      this.link.check(value);
    } catch (err) {
      // The far side closed as we offered: as after the fact, dropped.
      if (this.closedBy) this.droppedCount++;
      else this.link.failed(err);
      return;
    }
    if (this.closedBy) {
      this.droppedCount++;
      return;
    }
    this.queue.push({ value });
    this.link.queued(true);
  }

  /** Ends the stream once every queued value is out (no-op once ended or closed). */
  end(ending: Ending): void {
    if (this.ending || this.closedBy) return;
    this.ending = ending;
    this.drain();
  }

  /**
   * Offers queued values while there is room; passes the ending on once they
   * are all out. Safe to call from inside `link.offer`: a session may learn
   * of the reader's acceptance while taking a value and report room at once
   * (core/session-out.ts `offer` → `answerNow` → `wake`). Such a nested call
   * only notes that room came; the drain already running goes on with it.
   * (Before, the nested drain sent the head the outer one was offering, and
   * the outer one then sent it again and shifted the next value unsent: one
   * value replaced by a copy of another, under load, in `exchange`.)
   */
  drain(): void {
    if (this.draining) {
      this.roomCame = true;
      return;
    }
    this.draining = true;
    try {
      this.drainNow();
    } finally {
      this.draining = false;
    }
  }

  private drainNow(): void {
    for (;;) {
      if (this.queue.length > 0 && !this.offerQueued()) return;
      // `emptied` may resume reading, and a subscriber then queue values and end this end: they go first.
      this.link.emptied();
      if (this.queue.length === 0) break;
    }
    const ending = this.ending;
    if (!ending || this.closedBy || this.endPassed) return;
    this.endPassed = true;
    this.link.ended(ending);
  }

  /** Offers queued values until the queue is empty (true) or the link is full (false). */
  private offerQueued(): boolean {
    let retried = false;
    while (this.queue.length > 0) {
      const head = this.queue.peek()!;
      this.roomCame = false;
      let taken: boolean;
      try {
        taken = this.link.offer(head.value);
      } catch (err) {
        // Checked when queued, a value can still fail here (too large a
        // frame): `send` rejects it; from `next`, it fails the stream as
        // `next` does. Nothing is dropped without a trace. (Unless the far
        // side closed during the offer: `close` already dropped it.)
        if (this.queue.peek() !== head) continue;
        this.queue.shift();
        if (head.reject) head.reject(err as Error);
        else if (err instanceof TransportClosedError) this.droppedCount++;
        else this.failQueued(err); // empties the queue; the error's ending goes out below
        continue;
      }
      if (!taken) {
        // Room came during the refused offer (the link reported it, nested): try once more.
        if (this.roomCame && !retried && this.queue.peek() === head) {
          retried = true;
          continue;
        }
        return false;
      }
      retried = false;
      if (this.queue.peek() !== head) continue; // closed during the offer: already dropped
      this.queue.shift();
      if (!head.resolve) continue;
      if (this.confirmed()) head.resolve();
      else this.unconfirmed.push({ resolve: head.resolve, reject: head.reject! });
    }
    return true;
  }

  /**
   * The far side closed the way out (`stopped`: it stopped reading). Waiting
   * `send`s reject with `error`, queued `next` values count as dropped.
   * Returns false if it was closed already.
   */
  close(error: Error, stopped: boolean): boolean {
    if (this.closedBy) return false;
    this.closedBy = { error, stopped };
    // Taken before the reader accepted, never sent: refused with the rest.
    for (const pending of this.unconfirmed.drain()) pending.reject(error);
    this.dropAll(error);
    this.link.emptied();
    return true;
  }

  /**
   * Ends the stream at once with `ending`, dropping what waits (as RxJS
   * operators drop their buffers on error): waiting `send`s reject with
   * `reason`. The ending is not passed to the link: the caller sends it.
   */
  abort(ending: Ending, reason: Error): void {
    this.ending = ending;
    this.endPassed = true;
    this.dropAll(reason);
    this.link.emptied();
  }

  /**
   * A value queued by `next` failed on its way out: later ones are not sent,
   * the stream fails (`link.failed` ends it with the error, which the drain
   * running passes on once the queue is seen empty).
   */
  private failQueued(err: unknown): void {
    this.dropAll(err as Error);
    this.ending = undefined;
    this.link.failed(err);
  }

  private dropAll(reason: Error): void {
    for (const pending of this.queue.drain()) {
      if (pending.reject) pending.reject(reason);
      else this.droppedCount++;
    }
  }
}

const RESOLVED = Promise.resolve();
