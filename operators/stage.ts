import { Observable, type OperatorFunction, type Subscriber } from 'rxjs';
import type { Codec } from '../core/codec';
import { failedHere, isRemote, type WorkerError } from '../core/errors';
import { Fifo } from '../core/fifo';
import { route } from '../core/hash';
import { duplexLinks } from '../threads/links';
import type { ModuleRef } from '../threads/load-module';
import { startWorkers, type Crew } from '../threads/start';
import { runnerPath } from '../threads/worker';
import { open } from '../transports/open';
import { specOf } from '../pool/types';
import { checkOptions, type Checked, type StageOptions } from './stage-options';
import { InFlightWindow } from './stage-window';
import { Chained } from '../core/chained';
import { AFTER, BEFORE, LAST_VALUES_MS, OTHERS_MS, OrderedSlots, inputCodec, outputCodec, type Input, type Member, type Output, type StageSetup } from './stage-internals';

export type { StageOptions } from './stage-options';

/**
 * Runs a worker module's RxJS operator on N worker threads: each input goes
 * to one worker, and what the workers' operators emit comes out.
 *
 * ## Example
 * ```ts
 * import { codec } from 'rxwire';
 * import { stage } from 'rxwire/operators';
 * const Trade = codec({ type: 'record', name: 'Trade', fields: [{ name: 'sym', type: 'string' }, { name: 'price', type: 'double' }] } as const);
 * const Scored = codec({ type: 'record', name: 'Scored', fields: [{ name: 'sym', type: 'string' }, { name: 'score', type: 'double' }] } as const);
 *
 * trades$.pipe(
 *   stage(new URL('./score.worker.js', import.meta.url), { workers: 4, input: Trade, output: Scored }),
 * ).subscribe(render);
 *
 * // score.worker.ts: ordinary RxJS, run once per worker over its whole input
 * export default (in$: Observable<Trade>) => in$.pipe(map((t) => ({ sym: t.sym, score: heavy(t) })));
 * ```
 *
 * Workers. Each subscription starts `workers` threads (through threads/worker.ts,
 * so a `.ts` module runs under ts-node) and applies the module's default
 * export once per worker, to an Observable of the inputs sent to that
 * worker: stateful operators (`scan`, `distinct`, `bufferCount`) keep their
 * state across that worker's inputs. Values cross as Avro, in an envelope
 * around `input` / `output` (stage-internals.ts), on two shm pairs per worker.
 * The codecs cross as their schemas (`validate: false` does not cross).
 *
 * Dispatch. With `key`, input `v` goes to worker `keyHash(key(v)) % workers`
 * (per-key order holds at the worker, and in the output either way, since a
 * worker emits in the order it receives); otherwise to the worker with the
 * fewest inputs in flight, the lowest index on a tie.
 *
 * Ordering. The worker pushes each input into its operator and attributes to
 * that input every output emitted synchronously during the push (map, filter,
 * mergeMap over synchronous values, scan...). With `ordered` (the default),
 * an input's outputs are emitted once it and every earlier input are done, so
 * the output follows input order across workers. Outputs emitted outside a
 * push (delays, promises, `toArray` at the end) are attributed to the latest
 * input the worker had received: held until its turn, or emitted at once if
 * that input was already emitted, so they may come after outputs of later
 * inputs. Outputs emitted while the operator is subscribed (`startWith`)
 * come before any input's (no input's outputs are emitted before every
 * worker has started); those emitted later but before a worker's first input
 * go out at once; those emitted after a worker's input completed (`toArray`,
 * `count`) go out at the end, after every input's. With `ordered: false`
 * every output is emitted when it arrives.
 *
 * Backpressure and memory. An RxJS source cannot be paused: inputs beyond
 * `inFlight` (adaptive by default: ./stage-window.ts) wait in this thread,
 * without bound, and go as earlier ones finish (there). Ordered, finished
 * inputs whose outputs wait for an earlier one are bounded at 16 × `inFlight`
 * inputs' worth, so one slow input does not stop the other workers.
 *
 * Ending. When the source completes, the remaining inputs are sent, each
 * worker's input completes, and the output completes once every worker's
 * operator has completed. A worker's operator that completes early (`take`)
 * takes no more inputs: its unfinished inputs count as finished, later ones
 * go to the other workers, or, with `key`, are dropped if their key routes to
 * it; once every worker's has completed, the output completes and the source
 * is unsubscribed. A source error errors the output at once. A worker's
 * operator that errors, a value that does not fit `output`, a module without
 * a default operator, or a thread that dies errors the output with
 * `WorkerError` whose `workerIndex` names the worker, after what that worker
 * had sent and what the others sent before their wires ended or OTHERS_MS
 * passed (ordered: but for outputs still waiting for their turn or for the
 * end). An input that does not fit `input` errors it with `EncodeError`, one
 * too large for a ring with `FrameError`; a `key` that throws, with its error.
 * Every thread is then ended (released after completion, else terminated).
 *
 * @param module the worker module (a path or a `file:` URL) whose default
 *   export is an `OperatorFunction<I, O>`
 * @param options the codecs in and out, and see {@link StageOptions}
 * @returns an operator running the module on worker threads
 * @throws TypeError, RangeError at once for an option of the wrong type or out of range (naming it)
 */
export function stage<I, O>(module: ModuleRef, options: StageOptions<I, O>): OperatorFunction<I, O> {
  const checked = checkOptions(module, options);
  return (source) => new Observable<O>((subscriber) => run(source, subscriber, module, checked));
}

function run<I, O>(
  source: Observable<I>,
  subscriber: Subscriber<O>,
  module: ModuleRef,
  options: Checked<I, O>,
): () => void {
  const { workers, ordered, key } = options;
  const members: Member<I, O>[] = [];
  const waiting = new Fifo<I>(); // inputs waiting for room in flight
  const slots = new OrderedSlots<O>(); // ordered: the outputs of inputs sent and not yet emitted, by seq
  const tail: O[] = []; // ordered: outputs emitted after a worker's input completed
  let nextSeq = 0;
  const flight = new InFlightWindow(options.inFlight);
  /** Another input may go down: the window bounds the workers' queues; ordered, HELD_PER_IN_FLIGHT × it bounds what waits for its turn. */
  const room = () => !dying && flight.now < flight.limit && (!ordered || slots.size < flight.held);
  let sourceDone = false;
  let inputsClosed = false;
  let ended = false;
  /** A worker's own failure, held while its thread is ended and what it had sent is read (see `failAfterRest`). */
  let dying: WorkerError | undefined;
  const upEnded = new Set<number>(); // the workers whose up wire has ended
  let lastValues: ReturnType<typeof setTimeout> | undefined;
  let crew: Crew<Member<I, O>[]> | undefined;
  const teardown = (graceful: boolean) => {
    if (ended) return;
    ended = true;
    waiting.drain();
    slots.clear();
    clearTimeout(lastValues);
    void crew?.end(graceful);
  };
  const fail = (err: unknown) => {
    if (ended) return;
    // A worker that failed because this thread could not write it an input (told of the EncodeError or
    // FrameError) is reported as that input's error, whichever news came first.
    const mine = isRemote(err) ? members.find((m) => failedHere(m.down))?.down.thrownError : undefined;
    teardown(false);
    subscriber.error(mine ?? err);
  };
  /** A worker failed on its side (its report, its exit): what was sent comes first. Its up wire ends after it (its ERROR;
   * at its exit, after the ring is read to the end) and the others answer the inputs they were sent, or LAST_VALUES_MS
   * passes; then OTHERS_MS more (each ending restarts it) unless every up wire has ended: the output fails with it. */
  const failAfterRest = (err: WorkerError) => {
    if (ended || dying) return;
    const member = members.find((m) => m.index === err.workerIndex);
    if (!member || member.done || members.some((m) => failedHere(m.down))) return fail(err);
    dying = err;
    crew?.hosts[member.index].release();
    lastValues = setTimeout(() => fail(err), LAST_VALUES_MS);
    if (upEnded.has(member.index)) settle();
  };
  const settle = () => { // while a failure waits (`dying`), a wire ended or an input was answered: see failAfterRest
    if (members.every((m) => upEnded.has(m.index))) return fail(dying);
    if (!upEnded.has(dying!.workerIndex!)) return; // its own last values: LAST_VALUES_MS stands
    // So do the others' answers to inputs they were sent: a loaded machine may not have run them yet (stage.spec, 'never').
    if (members.some((m) => !upEnded.has(m.index) && m.pending.length > 0)) return;
    clearTimeout(lastValues);
    lastValues = setTimeout(() => fail(dying), OTHERS_MS);
  };
  const finishIfDone = () => { // every operator has completed: after the whole input, or early (`take` in every worker)
    if (ended || !members.every((m) => m.done)) return;
    for (const value of tail) {
      if (subscriber.closed) return;
      subscriber.next(value);
    }
    teardown(true);
    subscriber.complete();
  };
  const pump = () => {
    while (!ended && waiting.length > 0 && room()) dispatch(waiting.shift()!);
    if (ended || !sourceDone || waiting.length > 0 || inputsClosed) return;
    // Every input is sent: each worker's in$ completes after what it was sent.
    inputsClosed = true;
    for (const member of members) member.down.complete();
  };
  const dispatch = (value: I) => {
    let target = 0;
    if (key) {
      try {
        target = route(key(value), workers);
      } catch (err) {
        return fail(err);
      }
      // A worker whose operator has completed takes nothing more: its keys' inputs are dropped.
      if (members[target].done) return;
    } else {
      target = -1;
      for (let i = 0; i < workers; i++) {
        if (!members[i].done && (target < 0 || members[i].pending.length < members[target].pending.length)) target = i;
      }
      if (target < 0) return; // every operator has completed; the output is completing
    }
    const seq = nextSeq++;
    if (ordered) slots.open(seq);
    flight.now++;
    const { down, pending } = members[target];
    pending.push(seq);
    down.next({ seq, value });
    if (failedHere(down)) fail(down.thrownError); // an input that did not fit: the worker completed its side at start
  };
  const emit = (value: O): boolean => {
    if (subscriber.closed) return false;
    subscriber.next(value);
    return true;
  };
  /** Ordered: emits every slot whose turn has come (none before every worker is ready). */
  const release = () => {
    if (members.every((m) => m.ready)) slots.release(emit);
  };
  const receive = (member: Member<I, O>, { seq, values, last }: Output<O>) => {
    if (ended) return;
    if (last && seq === BEFORE) member.ready = true;
    if (last && seq >= 0 && member.pending.peek() === seq) {
      member.pending.shift();
      flight.finished(members);
      if (dying) settle();
    }
    if (!ordered || seq === BEFORE || (seq >= 0 && slots.passed(seq))) {
      for (const value of values) {
        if (subscriber.closed) return;
        subscriber.next(value);
      }
      if (seq === BEFORE && last && ordered) release();
    } else if (seq === AFTER) {
      tail.push(...values);
    } else {
      slots.add(seq, values, last);
      release();
    }
    if (!subscriber.closed) pump();
  };
  /** Worker `member`'s operator has completed: what it had not finished is finished, with no more output. */
  const retire = (member: Member<I, O>) => {
    if (ended) return;
    member.done = true;
    member.ready = true;
    for (const seq of member.pending.drain()) {
      if (ordered) slots.finish(seq);
      flight.now--;
    }
    if (ordered) release();
    if (!subscriber.closed) pump();
    finishIfDone();
  };

  const input = specOf(options.input as Codec<unknown>);
  const output = specOf(options.output as Codec<unknown>);
  const downCodec = inputCodec<I>(input);
  const upCodec = outputCodec<O>(output);
  const { links, ports } = duplexLinks(workers, options.bytes);
  try {
    crew = startWorkers({
      runner: runnerPath(__dirname, 'stage-worker'),
      plans: links.map(({ there, transferList }, index) => {
        const setup: StageSetup = { down: there.down, up: there.up, input, output };
        return { module, index, setup, transferList };
      }),
      ports,
      connect: (hosts, own) =>
        hosts.map(({ worker }, index) => {
          // inFlight, not this queue, bounds what goes down.
          const down = own(open(links[index].here.down, downCodec, { worker, maxQueue: Infinity }));
          const up = own(open(links[index].here.up, upCodec, { worker }));
          up.complete(); // this end only reads
          return { index, down, up, pending: new Fifo<number>(), ready: false, done: false };
        }),
      onFailure: failAfterRest,
    });
  } catch (err) {
    fail(err);
    return () => teardown(false);
  }
  const started = crew;
  members.push(...started.wires);
  for (const member of members) {
    // Only the failures of the way down matter here: this thread's own (an input that does not fit `options.input`
    // or the ring: EncodeError, FrameError) as they are; a dead thread's as its WorkerError. An input this thread
    // could not write fails the way down here and, told, the worker (see `fail`); the way down's incoming side may
    // have ended already (the worker completes it at once), so its error may not come. While a worker's failure
    // waits (`dying`), an ending settles it (see failAfterRest).
    const failed = (err: unknown, local: boolean) => (dying ? settle() : local || member.down.hasError ? fail(err) : started.fail(err, member.index));
    member.down.subscribe({ error: (err: unknown) => failed(err, !isRemote(err)) });
    const upEnd = (then: () => void) => (upEnded.add(member.index), then());
    member.up.subscribe({ next: (envelope) => receive(member, envelope), error: (err: unknown) => upEnd(() => failed(err, false)), complete: () => upEnd(() => (dying ? settle() : retire(member))) });
  }
  // Chained to the subscriber: a failure during a synchronous source's own subscribe call stops it (core/chained.ts).
  const sourceSub = new Chained<I>({
    next: (value) => {
      if (ended) return;
      if (waiting.length === 0 && room()) dispatch(value);
      else waiting.push(value);
    },
    error: fail,
    complete: () => {
      sourceDone = true;
      pump();
    },
  });
  subscriber.add(sourceSub);
  source.subscribe(sourceSub);
  return () => teardown(false);
}
