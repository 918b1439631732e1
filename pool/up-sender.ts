/**
 * A pool worker's way up (`worker.up`): values wait here, in order, for a
 * credit of the pool's bounded up queue (see credits.ts), then go to the
 * worker's up ring. One instance per worker; used only in that worker's
 * thread.
 */
import type { Codec } from '../core/codec';
import { TransportClosedError } from '../core/errors';
import { Fifo } from '../core/fifo';
import type { WireSubject } from '../core/wire-subject';
import type { Credits } from './credits';
import type { PoolSender } from './types';

/** The longest single sleep for a credit; the cell is looked at again after it even with no notify. */
const SLICE_MS = 100;

interface Waiting<U> {
  value: U;
  /** Set for a value from `send`: settles its promise. */
  resolve?: () => void;
  reject?: (err: Error) => void;
}

/** See `PoolSender` for the contract of each method. */
export class UpSender<U> implements PoolSender<U> {
  /** Values waiting for a credit, oldest first. */
  private readonly waiting = new Fifo<Waiting<U>>();
  private ended = false;
  /** `complete()` was called; the wire completes once `waiting` is empty. */
  private completing = false;
  private sleeping = false;
  private disposed = false;

  constructor(
    private readonly wire: WireSubject<U>,
    private readonly codec: Codec<U>,
    private readonly credits: Credits,
  ) {}

  send(value: U): Promise<void> {
    try {
      this.checkOpen();
      this.codec.check(value);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.waiting.length === 0 && this.credits.tryTake()) return this.forwardSend(value);
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ value, resolve, reject });
      this.sleep();
    });
  }

  trySend(value: U): boolean {
    this.checkOpen();
    this.codec.check(value);
    if (this.waiting.length > 0 || !this.credits.tryTake()) return false;
    this.forward(value);
    return true;
  }

  next(value: U): void {
    if (this.ended || this.disposed) return; // as on any Subject: nothing after the end
    try {
      this.codec.check(value);
    } catch (err) {
      this.error(err);
      return;
    }
    if (this.waiting.length === 0 && this.credits.tryTake()) {
      try {
        this.forward(value);
      } catch (err) {
        this.fail(err);
      }
      return;
    }
    this.waiting.push({ value });
    this.sleep();
  }

  /**
   * Ends the up stream with `err` at once: values still waiting for a credit
   * are dropped (their `send`s reject with `TransportClosedError`), as RxJS
   * operators drop their buffers on error; values already sent arrive first.
   */
  error(err: unknown): void {
    if (this.ended || this.disposed) return;
    this.fail(err);
  }

  complete(): void {
    if (this.ended || this.disposed) return;
    this.ended = true;
    this.completing = true;
    this.completeWhenFlushed();
  }

  /** The worker is released: nothing more goes up. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.dropWaiting(new TransportClosedError('the worker was released before this value found room'));
  }

  private checkOpen(): void {
    if (this.ended || this.disposed) throw new TransportClosedError('the up stream has ended');
  }

  /**
   * Hands a value whose credit is taken to the wire. The credit makes it part
   * of the pool's queue, so when the ring is full for a moment it waits in the
   * wire's own queue (in order). Throws what the wire throws (the manager is
   * gone); the credit is given back then.
   */
  private forward(value: U): void {
    try {
      if (!this.wire.trySend(value)) this.wire.next(value);
    } catch (err) {
      this.credits.giveBack(1);
      throw err;
    }
  }

  /** As `forward`, for `send`: its promise settles when the wire has taken the value. */
  private forwardSend(value: U): Promise<void> {
    return this.wire.send(value).catch((err: unknown) => {
      this.credits.giveBack(1);
      throw err;
    });
  }

  /** Forwards waiting values while credits last; completes the wire after the last one if asked. */
  private flush(): void {
    while (this.waiting.length > 0 && !this.disposed && this.credits.tryTake()) {
      const item = this.waiting.shift()!;
      if (item.resolve) {
        this.forwardSend(item.value).then(item.resolve, item.reject);
        continue;
      }
      try {
        this.forward(item.value);
      } catch (err) {
        // From `next`: nobody to throw to, so the up stream ends with it.
        this.fail(err);
        return;
      }
    }
    this.completeWhenFlushed();
  }

  /** Ends the up stream with `err`, even after `complete()` while values still waited. */
  private fail(err: unknown): void {
    this.ended = true;
    this.completing = false;
    this.dropWaiting(new TransportClosedError('the up stream ended with an error before this value found room', { cause: err }));
    this.wire.error(err);
  }

  private completeWhenFlushed(): void {
    if (!this.completing || this.waiting.length > 0) return;
    this.completing = false;
    this.wire.complete();
  }

  /** Sleeps on the credit cell until the waiting values are forwarded (one loop per worker). */
  private sleep(): void {
    if (this.sleeping) return;
    this.sleeping = true;
    const wake = (): void => {
      this.flush();
      if (this.waiting.length === 0 || this.disposed) {
        this.sleeping = false;
        return;
      }
      void this.credits.wait(SLICE_MS).then(wake);
    };
    void this.credits.wait(SLICE_MS).then(wake);
  }

  private dropWaiting(reason: Error): void {
    for (const item of this.waiting.drain()) item.reject?.(reason);
  }
}
