/**
 * A pool worker's way up (`worker.up`): values wait, in order, in an outbox
 * (core/outbox.ts, the same queue a WireSubject keeps) for a credit of the
 * pool's bounded up queue (see credits.ts), then go to the worker's up ring.
 * One instance per worker; used only in that worker's thread.
 */
import type { Codec } from '../core/codec';
import { TransportClosedError } from '../core/errors';
import { FairTurn } from '../core/fair-turn';
import { Outbox } from '../core/outbox';
import type { WireSubject } from '../core/wire-subject';
import type { Credits } from './credits';
import { mustFit } from './down';
import type { PoolSender } from './types';

/** The longest single sleep for a credit; the cell is looked at again after it even with no notify. */
const SLICE_MS = 100;

/** See `PoolSender` for the contract of each method. */
export class UpSender<U> implements PoolSender<U> {
  /** Values waiting for a credit, oldest first, then the ending. */
  private readonly outbox: Outbox<U>;
  private readonly turns = new FairTurn();
  private sleeping = false;
  private disposed = false;

  constructor(
    private readonly wire: WireSubject<U>,
    private readonly codec: Codec<U>,
    private readonly credits: Credits,
    private readonly ringBytes: number,
  ) {
    this.outbox = new Outbox<U>(
      {
        offer: (value) => this.forward(value),
        check: (value) => this.codec.check(value),
        queued: () => this.sleep(),
        emptied: () => {},
        ended: (ending) => (ending.kind === 'complete' ? this.wire.complete() : this.wire.error(ending.error)),
        // From `next`: nobody to throw to, so the up stream ends with it.
        failed: (err) => this.fail(err),
      },
      // The credits, not a count of values, bound what waits here.
      {
        maxQueue: Infinity,
        // A `send` loop with credits to spare still lets this thread breathe.
        taken: () => this.turns.next(),
        endedError: () => new TransportClosedError('the up stream has ended'),
      },
    );
  }

  send(value: U): Promise<void> {
    return this.outbox.send(value);
  }

  trySend(value: U): boolean {
    return this.outbox.trySend(value);
  }

  next(value: U): void {
    if (this.outbox.ended) return; // as on any Subject: nothing after the end
    this.outbox.next(value);
  }

  /**
   * Ends the up stream with `err` at once: values still waiting for a credit
   * are dropped (their `send`s reject with `TransportClosedError`), as RxJS
   * operators drop their buffers on error; values already sent arrive first.
   */
  error(err: unknown): void {
    if (this.outbox.ended) return;
    this.fail(err);
  }

  complete(): void {
    this.outbox.end({ kind: 'complete' });
  }

  /** The worker is released: nothing more goes up. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (!this.outbox.ended) {
      this.outbox.abort({ kind: 'complete' }, new TransportClosedError('the worker was released before this value found room'));
    }
  }

  /**
   * Hands a value to the wire if a credit is free: the credit makes it part
   * of the pool's queue, so when the ring is full for a moment it waits in the
   * wire's own queue (in order). Throws what the wire throws (the value does
   * not fit, the manager is gone); the credit is given back then. A value to
   * be queued there is measured first: one the ring can never hold would
   * fail the whole up stream when its turn came (pool/down.ts says it for
   * the way down), so it is a FrameError here, as `trySend` throws when
   * the ring has room.
   */
  private forward(value: U): boolean {
    this.codec.check(value);
    if (this.disposed || !this.credits.tryTake()) return false;
    try {
      if (!this.wire.trySend(value)) {
        mustFit(this.codec, this.ringBytes, value, 'worker.up');
        this.wire.next(value);
      }
    } catch (err) {
      this.credits.giveBack(1);
      throw err;
    }
    return true;
  }

  /** Ends the up stream with `err`, even after `complete()` while values still waited. */
  private fail(err: unknown): void {
    this.outbox.abort({ kind: 'error', error: err }, new TransportClosedError('the up stream ended with an error before this value found room', { cause: err }));
    this.wire.error(err);
  }

  /** Sleeps on the credit cell until the waiting values are forwarded (one loop per worker). */
  private sleep(): void {
    if (this.sleeping) return;
    this.sleeping = true;
    const wake = (): void => {
      this.outbox.drain();
      if (this.outbox.length === 0 || this.disposed) {
        this.sleeping = false;
        return;
      }
      void this.credits.wait(SLICE_MS).then(wake);
    };
    void this.credits.wait(SLICE_MS).then(wake);
  }
}
