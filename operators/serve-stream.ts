/**
 * One streamed reply on the server side of `serve`: the handler's Observable
 * goes out as NEXTs under the client's credit, then COMPLETE or ERROR.
 *
 * Flow control, per request: the server may send `STREAM_WINDOW` NEXTs for a
 * request before the client's first CREDIT, and each CREDIT from the client
 * grants its count more. Values the handler emits beyond the credit wait
 * here, encoded, in arrival order; the ending (COMPLETE, or ERROR) goes out
 * after the last of them and takes no credit. So a reply far larger than
 * the wire (a synchronous `range(0, 1e6)`) never fills the wire's queue:
 * the wire holds at most `STREAM_WINDOW` NEXTs of each reply, and the other
 * requests' replies pass between them.
 *
 * An RxJS Observable cannot be paused: what waits for credit is held in
 * this server's memory (one Buffer per value). A handler that can produce
 * lazily should do so at the pace its own source allows.
 *
 * Once the server's input has ended no CREDIT can come (`unlimit`). Where
 * `serve` knows its wire, the rest then goes at the wire's own pace: at
 * most `STREAM_WINDOW` NEXTs of the reply waiting in the wire at a time
 * (its `send`, each one taken gives the next), so a reply of a million
 * values drains without filling the wire's queue past `maxQueue`; a value
 * too large for the wire ends the reply with ERROR. Otherwise everything
 * left goes to the output at once.
 */
import type { Observable, Subscription } from 'rxjs';
import type { Codec } from '../core/codec';
import { FrameError, toErrorData } from '../core/errors';
import { Fifo } from '../core/fifo';
import { RpcKind, bodyOf, STREAM_WINDOW, control, creditOf, failure, withBody, type RpcEnvelope } from './request-internals';
import { Chained } from '../core/chained';

export class StreamedReply<A> {
  /** NEXTs this reply may still send before the client grants more. */
  private credit = STREAM_WINDOW;
  /** Encoded values waiting for credit, oldest first. */
  private readonly waiting = new Fifo<Buffer>();
  /** COMPLETE or ERROR, once the reply has ended: sent after the last waiting value. */
  private ending: RpcEnvelope | undefined;
  /** Nothing more is sent: the ending went out, or the reply was stopped. */
  private done = false;
  /** A flush is running (a send may call back in here: a CREDIT, a value, a CANCEL). */
  private flushing = false;
  /** No CREDIT can come: each NEXT the wire takes (`paced`) gives back its credit. */
  private selfPaced = false;
  private subscription: Subscription | undefined;

  /**
   * @param id the request's id
   * @param codec the reply codec
   * @param send puts one envelope on the wire
   * @param finished called once, after the ending went out (not after `stop`)
   * @param paced sends one envelope, resolving once the wire took it (serve knows its wire), for `unlimit`
   */
  constructor(
    private readonly id: number,
    private readonly codec: Codec<A>,
    private readonly send: (envelope: RpcEnvelope) => void,
    private readonly finished: () => void,
    private readonly paced?: (envelope: RpcEnvelope) => Promise<void>,
  ) {}

  /** Subscribes to the handler's Observable. */
  start(reply$: Observable<A>): void {
    // Chained: an ending during a synchronous source's subscribe call (a value that did not encode) stops it there.
    const input = new Chained<A>({
      next: (value) => {
        if (this.ending || this.done) return;
        let body: Buffer;
        try {
          body = bodyOf(this.codec, value);
        } catch (err) {
          // The values before it still go out, then the ERROR.
          return this.end(failure(this.id, toErrorData(err)));
        }
        this.waiting.push(body);
        this.flush();
      },
      error: (err) => this.end(failure(this.id, toErrorData(err))),
      complete: () => this.end(control(this.id, RpcKind.COMPLETE)),
    });
    this.subscription = input;
    reply$.subscribe(input);
  }

  /** A CREDIT for this reply arrived: sends what it allows. A malformed one ends the reply with ERROR. */
  grant(envelope: RpcEnvelope): void {
    if (this.done) return;
    let count: number;
    try {
      count = creditOf(envelope);
    } catch (err) {
      // Whatever waits, and whatever ending, gives way to the ERROR.
      this.waiting.drain();
      this.ending = failure(this.id, toErrorData(err));
      this.subscription?.unsubscribe();
      return this.flush();
    }
    this.credit += count;
    this.flush();
  }

  /** The client can grant no more (the server's input ended): the rest goes at the wire's pace, or at once (see above). */
  unlimit(): void {
    if (this.paced) {
      this.selfPaced = true;
      this.credit = Math.max(this.credit, STREAM_WINDOW);
    } else this.credit = Infinity;
    this.flush();
  }

  /** Stops for good (CANCEL, or the server stops): unsubscribes the handler's Observable, drops what waits, sends nothing more. */
  stop(): void {
    this.done = true;
    this.waiting.drain();
    this.subscription?.unsubscribe();
  }

  /** The reply ended (completed, failed, or a value did not encode): the ending waits behind the values. */
  private end(ending: RpcEnvelope): void {
    if (this.ending || this.done) return;
    this.ending = ending;
    this.subscription?.unsubscribe();
    this.flush();
  }

  /** The wire took a paced NEXT: its credit comes back. */
  private taken(): void {
    this.credit++;
    this.flush();
  }

  /** The wire refused a paced NEXT: too large for it, the reply ends with that ERROR; else the wire is over. */
  private refused(err: unknown): void {
    if (!(err instanceof FrameError) || this.done) return this.stop();
    this.waiting.drain();
    this.ending = failure(this.id, toErrorData(err));
    this.subscription?.unsubscribe();
    this.flush();
  }

  /** Sends waiting values while there is credit; then the ending, once nothing waits. */
  private flush(): void {
    if (this.flushing) return; // the running flush sees the new credit or value
    this.flushing = true;
    try {
      while (this.credit > 0 && this.waiting.length > 0 && !this.done) {
        this.credit--;
        const next = withBody(this.id, RpcKind.NEXT, this.waiting.shift()!);
        if (this.selfPaced) this.paced!(next).then(() => this.taken(), (err: unknown) => this.refused(err));
        else this.send(next);
      }
    } finally {
      this.flushing = false;
    }
    if (this.ending && this.waiting.length === 0 && !this.done) {
      this.done = true;
      this.send(this.ending);
      this.finished();
    }
  }
}
