/**
 * The runner of `stage` (operators/stage.ts): what each of its worker threads
 * runs (through threads/worker-host.ts) around the user's module.
 *
 * The module's default export is an RxJS operator. It is applied ONCE to a
 * Subject fed with this worker's inputs, and its output is sent back: each
 * input is pushed into the Subject, everything the operator emits
 * synchronously during that push is sent as one envelope tagged with the
 * input's `seq` and `last: true` (an input with no output still sends one, so
 * the main thread knows it is done; too large for one ring record, it goes in
 * parts, `last: false` before the last: stage-sender.ts). Outputs emitted outside a push (timers,
 * promises, `toArray` at the end) go alone, tagged with the latest input, or
 * `BEFORE` / `AFTER` (see stage-internals.ts). When the input completes the
 * Subject completes; when the output completes the up stream completes and
 * the worker's result is undefined. An error of the operator fails the run,
 * so the main thread sees `WorkerError` naming this worker.
 *
 * In a `pipeline` (setup `chained`), a step after the first reads the
 * previous step's output envelopes instead of the main thread's inputs:
 * each of their values is pushed as one input, and an error arriving from
 * upstream is passed on as is, ending this run without failing it.
 */
import { isObservable, Subject, type Observable, type Subscription } from 'rxjs';
import type { Codec } from '../core/codec';
import { open } from '../transports/open';
import { codecFrom } from '../pool/types';
import { AFTER, BEFORE, inputCodec, outputCodec, type Input, type Output, type StageSetup } from './stage-internals';
import { StageSender } from './stage-sender';
import type { WireSubject } from '../core/wire-subject';

export async function run(userExport: unknown, setup: unknown, _index: number): Promise<{ value: unknown; release(): void }> {
  const { down: downEnd, up: upEnd, input, output, chained = false } = setup as StageSetup;
  if (typeof userExport !== 'function') {
    throw new TypeError('a stage module must export by default an RxJS operator: (in$: Observable<I>) => Observable<O>');
  }
  const outputs: Codec<unknown> = codecFrom(output);
  const upCodec = outputCodec<unknown>(output);
  // Chained (a pipeline step after the first): the previous step's envelopes.
  const down = open<Input<unknown> | Output<unknown>>(downEnd, chained ? outputCodec<unknown>(input) : inputCodec<unknown>(input));
  down.complete(); // this end only reads
  // The main thread bounds the inputs in flight, the way up's room this worker's reading (stage-sender.ts).
  const up = open(upEnd, upCodec, { maxQueue: Infinity });
  let downSub: Subscription | undefined;
  let outSub: Subscription | undefined;
  const release = () => {
    downSub?.unsubscribe();
    outSub?.unsubscribe();
    down.close();
    up.close();
  };

  const in$ = new Subject<unknown>();
  let out$: unknown;
  try {
    out$ = (userExport as (in$: Observable<unknown>) => unknown)(in$.asObservable());
    if (!isObservable(out$)) throw new TypeError('a stage module\'s operator must return an Observable');
  } catch (err) {
    release();
    throw err;
  }

  /** The outputs of the push in progress (or of the subscribe), or null between pushes. */
  let collecting: unknown[] | null = [];
  let current = BEFORE;
  return new Promise((resolve, reject) => {
    let failed = false;
    let completed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      sender.flush(); // what the operator emitted before it failed goes first
      up.error(err);
      release();
      reject(err);
    };
    // In order onto the way up, holding the way in while it is full, splitting what cannot fit (stage-sender.ts).
    // A value too large for the ring alone fails this run, named after this worker, not after the next step.
    const sender = new StageSender(up, down as WireSubject<unknown>, fail);
    /** Sends an envelope (`ready` once the reader accepted the way up); a value that does not fit `output` fails the run. */
    const send = (envelope: Output<unknown>, ready?: () => void) => {
      try {
        for (const value of envelope.values) outputs.check(value);
      } catch (err) {
        return fail(err);
      }
      sender.send(envelope, ready);
    };
    outSub = (out$ as Observable<unknown>).subscribe({
      next: (value) => {
        if (collecting) collecting.push(value);
        else send({ seq: current, values: [value], last: false });
      },
      error: fail,
      complete: () => {
        if (failed) return;
        completed = true;
        // Completed during a push (`take`): that input's outputs go first, and it is done.
        if (collecting) send({ seq: current, values: collecting, last: true });
        collecting = null;
        sender.end(() => {
          up.complete();
          resolve({ value: undefined, release });
        });
      },
    });
    /** Chained: an upstream failure goes on down the chain; this worker's run ends without failing. */
    const passOn = (err: unknown) => {
      if (failed || completed) return;
      completed = true;
      outSub?.unsubscribe();
      sender.end(() => {
        up.error(err);
        resolve({ value: undefined, release });
      });
    };
    /** Reads the inputs: once the reader of the way up has accepted it, so nothing this worker emits waits unsent in its memory (a thread that died then lost it). */
    const read = () => {
      if (failed || completed) return;
      downSub = down.subscribe(inputs);
    };
    // What the operator emitted while being subscribed (`startWith`), and the
    // mark that this worker is ready: the main thread emits no input's outputs
    // (ordered) before every worker's.
    if (!failed && !completed) send({ seq: BEFORE, values: collecting ?? [], last: true }, read);
    collecting = null;
    const inputs = {
      next: (envelope: Input<unknown> | Output<unknown>) => {
        if (failed || completed) return;
        const { seq } = envelope;
        const values = chained ? (envelope as Output<unknown>).values : [(envelope as Input<unknown>).value];
        const batch: unknown[] = [];
        collecting = batch;
        current = seq;
        // Re-entrancy: a push may fail or complete the run.
        for (let i = 0; i < values.length && !failed && !completed; i++) in$.next(values[i]);
        collecting = null;
        // Re-entrancy: the push may have failed the run.
        if (!failed && !completed) send({ seq, values: batch, last: true });
      },
      error: (err: unknown) => (chained ? passOn(err) : in$.error(err)),
      complete: () => {
        current = AFTER;
        in$.complete();
      },
    };
  });
}
