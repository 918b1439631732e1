import { Observable, asapScheduler, type OperatorFunction, type SchedulerLike, type Subscriber, type Subscription } from 'rxjs';
import { WireSubject } from '../core/wire-subject';
import { checkKnown } from '../core/options';
import { Chained } from '../core/chained';

/** Options of {@link burstRecv}. */
export interface BurstRecvOptions {
  /**
   * The most values one burst holds; what is left of a burst goes, in order,
   * in the bursts that follow at once. A positive integer or `Infinity`.
   * Default `Infinity`.
   */
  maxSize?: number;
  /**
   * Where the end of a burst is scheduled, for a source that is not a
   * WireSubject (a `TestScheduler` in tests). Default `asapScheduler`.
   */
  scheduler?: SchedulerLike;
}

const KNOWN: Record<keyof BurstRecvOptions, true> = { maxSize: true, scheduler: true };

/**
 * Emits what arrived in arrays: each burst holds what had arrived when it
 * began, and nothing that arrives while it is being handled.
 *
 * ## Example
 * ```ts
 * import { codec, open } from 'rxwire';
 * import { burstRecv } from 'rxwire/operators';
 * const wire = open(workerData.end, codec('long'));
 * wire.pipe(burstRecv({ maxSize: 1024 })).subscribe((batch) => db.insertMany(batch));
 * ```
 *
 * On a `WireSubject` it takes the transport's own drains (`bursts$`): over
 * shm, one run of the reader — what was published in the ring when the run
 * began, at most 256 values and an eighth of the ring's bytes (what is left
 * comes in the bursts right after, in order; a run is what a borrowed view
 * stays valid for); over a port, one batch as it was posted. A burst is thus
 * bounded by the writer's window (the ring's size, or `windowBytes`), however
 * fast the writer is. The array
 * is the transport's own, fresh for each drain; every subscriber of the same
 * wire's bursts gets the same one, so treat it as read-only. On a wire
 * reached through other operators (`wire.pipe(map(f), burstRecv())`) the
 * general case below applies.
 *
 * On any other Observable it groups what was delivered since the last burst:
 * the first value schedules the end of the burst on `scheduler`; there the
 * values gathered so far are taken out (a fresh array takes their place)
 * and only then emitted, so a value that arrives while the subscriber
 * handles a burst, even one the subscriber itself pushes into the source,
 * goes into a later burst and never into the array already emitted. A burst
 * never waits for more values, so a source that is always busy still gets
 * its bursts out (no livelock). A source that never leaves a synchronous loop
 * gives the scheduler no chance: its values come out when it completes.
 *
 * Every burst is non-empty. `maxSize` splits a larger one into consecutive
 * bursts, emitted one after another before anything that arrived later.
 *
 * Endings: on complete, what is gathered is emitted, then complete. On error,
 * what is gathered is emitted too, then the error: every value that arrived
 * before the failure reaches the subscriber, as on a WireSubject, where
 * values that arrived before a peer's error are delivered before it. (RxJS's
 * `bufferTime` and `bufferCount` drop their buffer on error; this operator
 * does not.) Unsubscribing cancels a scheduled burst and drops what is
 * gathered.
 *
 * @param options see {@link BurstRecvOptions}
 * @returns an operator from values to non-empty arrays of them, in order
 * @throws RangeError when `options.maxSize` is not a positive integer or `Infinity`
 * @throws TypeError when `options.scheduler` is not a scheduler
 */
export function burstRecv<T>(options: BurstRecvOptions = {}): OperatorFunction<T, T[]> {
  checkKnown(options, KNOWN, 'burstRecv: options');
  const { maxSize = Infinity, scheduler = asapScheduler } = options;
  if (typeof (scheduler as Partial<SchedulerLike> | null)?.schedule !== 'function') throw new TypeError('burstRecv: options.scheduler must be an RxJS scheduler');
  if (!(maxSize === Infinity || (Number.isInteger(maxSize) && maxSize > 0))) {
    throw new RangeError('options.maxSize must be a positive integer or Infinity');
  }
  return (source) =>
    source instanceof WireSubject ? drains(source as WireSubject<T>, maxSize) : gathered(source, maxSize, scheduler);
}

/** The bursts of a WireSubject: one per drain of its transport, split at `maxSize`. */
function drains<T>(wire: WireSubject<T>, maxSize: number): Observable<T[]> {
  return new Observable<T[]>((subscriber) =>
    wire.bursts$.subscribe({
      next: (values) => emit(subscriber, values, maxSize),
      error: (err) => subscriber.error(err),
      complete: () => subscriber.complete(),
    }),
  );
}

/** The bursts of any other source: what it delivered since the last burst began. */
function gathered<T>(source: Observable<T>, maxSize: number, scheduler: SchedulerLike): Observable<T[]> {
  return new Observable<T[]>((subscriber) => {
    let gathering: T[] = [];
    let scheduled: Subscription | undefined;
    /** Bursts begun: tells a burst a scheduler ran inside `schedule` from one still pending. */
    let bursts = 0;
    /** A burst is being emitted (the subscriber may push into the source meanwhile). */
    let emitting = false;
    let ending: { error: unknown } | 'complete' | undefined;

    const take = (): T[] => {
      const burst = gathering;
      gathering = [];
      return burst;
    };

    const finish = (): void => {
      scheduled?.unsubscribe();
      scheduled = undefined;
      emit(subscriber, take(), maxSize);
      if (ending === 'complete') subscriber.complete();
      else if (ending) subscriber.error(ending.error);
    };

    const endBurst = (): void => {
      bursts++;
      scheduled = undefined;
      emitting = true;
      // Take the values out before emitting: what arrives during the emission
      // goes into `gathering`, for a later burst.
      emit(subscriber, take(), maxSize);
      emitting = false;
      // The source ended while the subscriber handled the burst.
      if (ending) finish();
    };

    // Chained to the subscriber: one that leaves during a synchronous source's subscribe call (a burst emitted
    // at once by a scheduler that runs it there, then take(1)) stops the source (core/chained.ts).
    const input = new Chained<T>({
      next: (value) => {
        gathering.push(value);
        if (scheduled) return;
        const before = bursts;
        const action = scheduler.schedule(endBurst);
        // A scheduler that ran the burst at once (queueScheduler outside its queue) left nothing pending.
        if (bursts === before) scheduled = action;
      },
      error: (error) => {
        ending = { error };
        if (!emitting) finish();
      },
      complete: () => {
        ending = 'complete';
        if (!emitting) finish();
      },
    });
    subscriber.add(input);
    source.subscribe(input);

    return () => {
      scheduled?.unsubscribe();
      scheduled = undefined;
      gathering = [];
    };
  });
}

/** Emits `values` as one burst, or as consecutive bursts of at most `maxSize`; never an empty one. */
function emit<T>(subscriber: Subscriber<T[]>, values: T[], maxSize: number): void {
  if (values.length <= maxSize) {
    if (values.length > 0) subscriber.next(values);
    return;
  }
  for (let at = 0; at < values.length && !subscriber.closed; at += maxSize) {
    subscriber.next(values.slice(at, at + maxSize));
  }
}
