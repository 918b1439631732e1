/**
 * The way up of a stage worker (operators/stage-worker.ts): its output
 * envelopes, in order, onto the ring to the next step or the main thread.
 *
 * - **Backpressure.** While an envelope waits for room, the worker reads no
 *   more input (`down.holdReading`): in a pipeline, a slow step holds back
 *   the steps before it, each at its rings, instead of a step reading its
 *   whole input into memory behind a full ring. (What one input yields still
 *   waits here, unbounded: it cannot be paused.)
 * - **Records that cannot fit.** All the outputs of one input go as one
 *   envelope; one too large for the ring (a fan-out of a thousand small
 *   values) is split in halves, `last: false` before the last part, until
 *   the parts fit. Only one value too large for the ring alone fails the run,
 *   with its FrameError.
 * - **Endings.** `end` runs once every envelope before it has gone; `flush`
 *   hands what waits to the wire at once (it queues there), for a failure.
 *
 * A reader that stopped (the step after completed early) drops what is sent
 * from then on, as `next` would.
 */
import { FrameError, TransportClosedError } from '../core/errors';
import { Fifo } from '../core/fifo';
import type { WireSubject } from '../core/wire-subject';
import type { Output } from './stage-internals';

interface Waiting {
  envelope: Output<unknown>;
  /** Called once the reader has accepted the way up and taken this envelope (the ready mark). */
  confirmed?: () => void;
}

export class StageSender {
  private readonly waiting = new Fifo<Waiting>();
  /** The head waits for the wire (room, or the reader's acceptance). */
  private blocked = false;
  /** Runs once nothing waits: the way up's ending. */
  private ending: (() => void) | undefined;
  private dropping = false;

  /**
   * @param up the way up
   * @param down the way in, held while envelopes wait
   * @param fail fails the run (a value too large for the ring, the way up failed)
   */
  constructor(
    private readonly up: WireSubject<Output<unknown>>,
    private readonly down: WireSubject<unknown>,
    private readonly fail: (err: unknown) => void,
  ) {}

  /** Sends `envelope` after those before it; `confirmed` waits for the reader's acceptance of the way up. */
  send(envelope: Output<unknown>, confirmed?: () => void): void {
    if (this.dropping || this.ending) return;
    this.waiting.push({ envelope, confirmed });
    this.pump();
  }

  /** Runs `then` (the way up's complete or error) once everything sent before has gone. */
  end(then: () => void): void {
    if (this.ending) return;
    this.ending = then;
    this.pump();
  }

  /** Hands every waiting envelope to the wire now, in order, and sends nothing more: a failure follows at once. */
  flush(): void {
    const rest = this.waiting.drain();
    if (this.blocked) rest.shift(); // the head is with the wire already (its `send` waits)
    for (const { envelope } of rest) this.up.next(envelope);
    this.dropping = true;
  }

  private pump(): void {
    if (this.blocked) return;
    for (let head = this.waiting.peek(); head; head = this.waiting.peek()) {
      if (!head.confirmed) {
        const went = this.tried();
        if (went === 'gone') break;
        if (went === 'sent') continue;
        head = this.waiting.peek()!; // split: its first part
      }
      // No room (or the ready mark, which must be accepted): wait for the wire, reading no more meanwhile.
      this.blocked = true;
      if (!head.confirmed) this.down.holdReading(true);
      const waited = head;
      this.up.send(waited.envelope).then(
        () => {
          if (this.waiting.peek() !== waited) return; // flushed meanwhile
          this.blocked = false;
          this.waiting.shift();
          waited.confirmed?.();
          this.pump();
        },
        (err: unknown) => {
          if (this.waiting.peek() !== waited) return;
          this.blocked = false;
          this.refused(err);
          this.pump(); // the parts of a split, or (nothing left) the ending
        },
      );
      return;
    }
    // Reading again may deliver inputs at once (the way in's held records), whose envelopes come back in here:
    // the ending waits for them too (it ran while they waited, and the tail of the stream was lost).
    this.down.holdReading(false);
    if (this.blocked || this.waiting.length > 0) return;
    const ending = this.ending;
    this.ending = ending && (() => {}); // once
    ending?.();
  }

  /** Tries to send the head now: sent (and taken off), full (it waits), or gone (the run failed or drops). */
  private tried(): 'sent' | 'full' | 'gone' {
    for (;;) {
      try {
        if (!this.up.trySend(this.waiting.peek()!.envelope)) return 'full';
        this.waiting.shift();
        return 'sent';
      } catch (err) {
        if (!this.refused(err)) return 'gone';
      }
    }
  }

  /**
   * The wire refused the head with `err`: too large for the ring, it is split
   * in halves (true: try again); else nothing more is sent (false) — dropped
   * when the reader is gone, the run failed otherwise.
   */
  private refused(err: unknown): boolean {
    const head = this.waiting.peek()!;
    const { seq, values, last } = head.envelope;
    if (err instanceof FrameError && values.length > 1) {
      const half = values.length >> 1;
      const rest = this.waiting.drain().slice(1);
      this.waiting.push({ envelope: { seq, values: values.slice(0, half), last: false } });
      this.waiting.push({ envelope: { seq, values: values.slice(half), last }, confirmed: head.confirmed });
      for (const item of rest) this.waiting.push(item);
      return true;
    }
    this.waiting.drain();
    this.dropping = true;
    // The run fails first: reading again may deliver the input's end at once, whose ending (`up.complete`)
    // would otherwise go out, and the run resolve, before the failure (a value lost, the FrameError with it).
    if (!(err instanceof TransportClosedError) || this.up.hasError) this.fail(err);
    this.down.holdReading(false);
    return false;
  }
}
