import { Observable, type OperatorFunction, type Subscriber, type Subscription } from 'rxjs';
import { isCodec, type Codec } from '../core/codec';
import { WorkerError, failedHere, isRemote } from '../core/errors';
import type { WireSubject } from '../core/wire-subject';
import { checkModuleRef, type ModuleRef } from '../threads/load-module';
import { startWorkers, type Crew } from '../threads/start';
import { runnerPath } from '../threads/worker';
import { open } from '../transports/open';
import { pair, shmTransferList, type ShmEnd } from '../transports/shm';
import { specOf } from '../pool/types';
import { LAST_VALUES_MS, inputCodec, outputCodec, type Input, type Output, type StageSetup } from './stage-internals';
import { checkRingBytes } from '../transports/shm/layout';
import { checkKnown, checkNumber } from '../core/options';
import { Chained } from '../core/chained';

/** Options of {@link step}. */
export interface StepOptions<I, O> {
  /** Worker threads of this step. Only 1 for now (the default): more per step is for later. */
  workers?: number;
  /** The codec of the values going into this step: the previous step's `output` (the same schema). */
  input: Codec<I>;
  /** The codec of the values this step's operator emits. */
  output: Codec<O>;
  /**
   * Bytes of the shared ring this step reads its inputs from (and, for the
   * last step, also of the ring back to the main thread), a power of two
   * from 256 to 2^30. Default 256 KiB.
   */
  bytes?: number;
}

const KNOWN: Record<keyof StepOptions<unknown, unknown>, true> = { workers: true, input: true, output: true, bytes: true };

/** One step of a {@link pipeline}, made by {@link step}: a description, nothing runs yet. */
export interface Step<I, O> {
  readonly module: ModuleRef;
  readonly input: Codec<I>;
  readonly output: Codec<O>;
  readonly bytes: number;
}

/**
 * Describes one step of a {@link pipeline}: a worker module whose default
 * export is an RxJS operator (as for `stage`), with its codecs.
 *
 * ## Example
 * ```ts
 * import { pipeline, step } from 'rxwire/operators';
 * const parse = step(new URL('./parse.worker.js', import.meta.url), { input: Line, output: Trade });
 * ```
 *
 * @param module the worker module (a path or a `file:` URL) whose default
 *   export is an `OperatorFunction<I, O>`
 * @param options the codecs in and out, and see {@link StepOptions}
 * @returns the step, for `pipeline`
 * @throws TypeError, RangeError at once for an option of the wrong type or out of range (naming it)
 */
export function step<I, O>(module: ModuleRef, options: StepOptions<I, O>): Step<I, O> {
  checkModuleRef(module, 'step: module');
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('step: options must be an object with the codecs `input` and `output`');
  }
  checkKnown(options, KNOWN, 'step: options');
  const { workers = 1, input, output, bytes = 256 * 1024 } = options;
  checkNumber(workers, 'options.workers');
  if (workers !== 1) throw new RangeError('options.workers must be 1: a pipeline step runs on one worker for now');
  if (!isCodec(input)) throw new TypeError('options.input must be a codec (from codec(schema), or raw)');
  if (!isCodec(output)) throw new TypeError('options.output must be a codec (from codec(schema), or raw)');
  checkRingBytes(bytes);
  return Object.freeze({ module, input: input as Codec<I>, output: output as Codec<O>, bytes });
}

/**
 * Runs several worker modules in a chain, each on its own thread, wired
 * worker to worker over shared rings: a value goes from this thread to the
 * first step, from each step straight to the next, and from the last step
 * back here. Between steps nothing passes through this thread (a disruptor
 * pipeline).
 *
 * ## Example
 * ```ts
 * import { codec } from 'rxwire';
 * import { pipeline, step } from 'rxwire/operators';
 * const worker = (name: string) => new URL(`./${name}.worker.js`, import.meta.url);
 *
 * lines$.pipe(
 *   pipeline(
 *     step(worker('parse'), { input: Line, output: Trade }),     // map(parse)
 *     step(worker('filter'), { input: Trade, output: Trade }),   // filter(valid)
 *     step(worker('total'), { input: Trade, output: Total }),    // scan(running total)
 *   ),
 * ).subscribe(render);
 * ```
 *
 * Steps. Each subscription starts one thread per step and applies the
 * step's module once, to an Observable of everything the previous step
 * emitted (the first step: of the source's values), as `stage` does with
 * one worker: stateful operators keep their state across the whole stream.
 * Adjacent steps must agree: step k+1's `input` has the schema of step k's
 * `output` (checked at once).
 *
 * Wiring. This thread makes one shm pair per link (here → step 0 → step 1 →
 * ... → here), used one way, and hands each worker its two ends; the values
 * cross in the envelopes of `stage` (stage-internals.ts), the steps after
 * the first reading the previous step's output envelopes (setup `chained`).
 *
 * Order. One thread per step and FIFO rings: the output is what the same
 * operators would emit in one thread, in that order, outputs emitted later
 * (timers, promises) included.
 *
 * Backpressure and memory. A step whose output ring is full pauses reading
 * its input, so a slow step holds back the ones before it; this thread
 * cannot pause an RxJS source, so what the first ring cannot take waits
 * here, without bound.
 *
 * Ending. The source's completion reaches each step in turn after its
 * inputs; the output completes when the last step's operator does. A step
 * that completes early (`take`) completes the steps after it, then the
 * output; the source is then unsubscribed. A source error errors the output
 * at once. A step's operator that errors, a value that does not fit its
 * `output`, a module without a default operator, or a thread that dies
 * errors the output with `WorkerError` whose `workerIndex` is that step's
 * index, from 0 (the steps after it pass the failure on without failing
 * themselves). An input that does not fit the first step's `input` errors it
 * with `EncodeError`, one too large for the ring with `FrameError`, at once
 * (as a source error: values still in the steps are dropped), whatever the
 * first step does with its input's failure. On any ending, and on
 * unsubscribe, every thread is ended.
 *
 * Not yet: more than one worker per step (`workers`), and the `stage`
 * options `ordered`, `inFlight` and `key` that go with it.
 *
 * @param steps the steps, in order, from {@link step}
 * @returns an operator running the steps on a chain of worker threads
 * @throws TypeError at once for no step, a step not made by `step`, or adjacent steps whose codecs differ
 */
export function pipeline<A, B>(s1: Step<A, B>): OperatorFunction<A, B>;
export function pipeline<A, B, C>(s1: Step<A, B>, s2: Step<B, C>): OperatorFunction<A, C>;
export function pipeline<A, B, C, D>(s1: Step<A, B>, s2: Step<B, C>, s3: Step<C, D>): OperatorFunction<A, D>;
export function pipeline<A, B, C, D, E>(s1: Step<A, B>, s2: Step<B, C>, s3: Step<C, D>, s4: Step<D, E>): OperatorFunction<A, E>;
export function pipeline<A, B, C, D, E, F>(
  s1: Step<A, B>,
  s2: Step<B, C>,
  s3: Step<C, D>,
  s4: Step<D, E>,
  s5: Step<E, F>,
): OperatorFunction<A, F>;
export function pipeline(...steps: Step<unknown, unknown>[]): OperatorFunction<unknown, unknown>;
export function pipeline(...steps: Step<unknown, unknown>[]): OperatorFunction<unknown, unknown> {
  checkSteps(steps);
  return (source) => new Observable<unknown>((subscriber) => run(source, subscriber, steps));
}

/** How long a failure that reached the end of the chain waits for the report of the step it came from. */
const REPORT_GRACE_MS = 1000;

function run(
  source: Observable<unknown>,
  subscriber: Subscriber<unknown>,
  steps: Step<unknown, unknown>[],
): () => void {
  const last = steps.length - 1;
  let crew: Crew<{ down: WireSubject<Input<unknown>>; up: WireSubject<Output<unknown>> }> | undefined;
  let sourceSub: Subscription | undefined;
  let grace: ReturnType<typeof setTimeout> | undefined;
  let nextSeq = 0;
  let ended = false;
  /** The last step's output has ended (its values all delivered). */
  let upEnded = false;
  /** A step's own failure, held until what went through the chain before it is out (see `failAfterRest`). */
  let dying: WorkerError | undefined;

  const teardown = (graceful: boolean) => {
    if (ended) return;
    ended = true;
    clearTimeout(grace);
    sourceSub?.unsubscribe();
    void crew?.end(graceful);
  };
  const fail = (err: unknown) => {
    if (ended) return;
    teardown(false);
    subscriber.error(err);
  };
  /**
   * A step failed on its side (its report, its thread's exit): what it and
   * the steps before it passed on comes first. Its failure goes down the
   * chain behind those values (the next step reads the rest of its ring at
   * its exit and passes the error on), so the last output's ending — or
   * LAST_VALUES_MS — fails the stream with this error. Released, the step's
   * thread exits once its ends are done. Values already in the chain were
   * lost when the crew's news came first.
   */
  const failAfterRest = (err: WorkerError) => {
    if (ended || dying) return;
    const down = crew?.wires.down;
    if (upEnded || (down && failedHere(down))) return fail(err);
    dying = err;
    crew?.hosts[err.workerIndex ?? 0]?.release();
    clearTimeout(grace);
    grace = setTimeout(() => fail(err), LAST_VALUES_MS);
  };

  // links[k] goes into step k (from here when k = 0) and links[last + 1] back here; [writer's end, reader's end].
  const links: [ShmEnd, ShmEnd][] = [];
  for (let k = 0; k <= last + 1; k++) links.push(pair({ bytes: steps[Math.min(k, last)].bytes }));
  try {
    crew = startWorkers({
      runner: runnerPath(__dirname, 'stage-worker'),
      plans: steps.map(({ module, input, output }, index) => {
        const setup: StageSetup = {
          down: links[index][1],
          up: links[index + 1][0],
          input: specOf(input),
          output: specOf(output),
          chained: index > 0,
        };
        return { module, index, setup, transferList: [...shmTransferList(setup.down), ...shmTransferList(setup.up)] };
      }),
      ports: links.flat().map((end) => end.live),
      connect: (hosts, own) => {
        // Nothing bounds what goes down but the rings: the rest waits here (see the comment above).
        const down = own(open(links[0][0], inputCodec<unknown>(specOf(steps[0].input)), { worker: hosts[0].worker, maxQueue: Infinity }));
        const up = own(open(links[last + 1][1], outputCodec<unknown>(specOf(steps[last].output)), { worker: hosts[last].worker }));
        up.complete(); // this end only reads
        return { down, up };
      },
      onFailure: failAfterRest,
    });
  } catch (err) {
    fail(err);
    return () => teardown(false);
  }
  const { down, up } = crew.wires;
  const started = crew;
  down.subscribe({
    // This thread's own failures (EncodeError, FrameError) as they are; the first step's as its WorkerError.
    error: (err: unknown) => (isRemote(err) ? started.fail(err, 0) : fail(err)),
  });
  up.subscribe({
    next: ({ values }) => {
      for (const value of values) {
        if (subscriber.closed) return;
        subscriber.next(value);
      }
    },
    // A failure passed down the chain: the report of the step it came from names
    // it. Were none to come (a failure of a step's ring, not of its run), the
    // last step is named.
    error: (err: unknown) => {
      upEnded = true;
      if (dying) return fail(dying);
      if (ended || grace) return;
      grace = setTimeout(() => started.fail(err, last), REPORT_GRACE_MS);
    },
    complete: () => {
      upEnded = true;
      if (dying) return fail(dying);
      if (ended) return;
      teardown(true);
      subscriber.complete();
    },
  });
  const wire = down;
  // The teardown can stop a synchronous source during its own subscribe call (core/chained.ts).
  const input = new Chained<unknown>({
    next: (value) => {
      if (ended) return;
      wire.next({ seq: nextSeq++, value });
      // A value that did not fit: the first step completed its side of the way down at start, so only this sees it.
      if (failedHere(wire)) fail(wire.thrownError);
    },
    error: fail,
    complete: () => {
      if (!ended) wire.complete();
    },
  });
  sourceSub = input;
  subscriber.add(input); // a subscriber that leaves during the source's subscribe call stops it too
  if (!ended) source.subscribe(input); // else failed already (the first wire's own error)
  return () => teardown(false);
}

/** Validates `pipeline`'s steps at the door. */
function checkSteps(steps: Step<unknown, unknown>[]): void {
  if (steps.length === 0) throw new TypeError('pipeline: give at least one step');
  steps.forEach((s, index) => {
    const made = typeof s === 'object' && s !== null && isCodec(s.input) && isCodec(s.output) && typeof s.bytes === 'number';
    if (!made) throw new TypeError(`pipeline: step ${index} must be made by step(module, options)`);
    // A look-alike of a step (an object literal, a spread of one) gets step()'s checks here, not a failure at subscribe.
    checkModuleRef(s.module, `pipeline: step ${index}'s module`);
    checkRingBytes(s.bytes, `pipeline: step ${index}'s bytes`);
    if (index > 0 && steps[index - 1].output.fingerprint !== s.input.fingerprint) {
      throw new TypeError(`pipeline: step ${index}'s input codec must have the schema of step ${index - 1}'s output codec`);
    }
  });
}
