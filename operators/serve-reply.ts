/**
 * How `serve` sends a one-value REPLY: straight into the wire when its
 * output goes to one with nothing between, else as an envelope with its
 * bytes (./serve.ts).
 */
import type { Subscriber } from 'rxjs';
import type { Codec } from '../core/codec';
import { EncodeError, FrameError, toErrorData, type ErrorData } from '../core/errors';
import { WireSubject } from '../core/wire-subject';
import { RpcKind, bodyOf, failure, withBody, type RpcEnvelope } from './request-internals';
import { ValueEnvelope } from './rpc-envelope-codec';

/**
 * The WireSubject that `subscriber` hands values to with nothing between —
 * `wire.pipe(serve(…)).subscribe(wire)`, the one-line server — found through
 * RxJS 7's SafeSubscriber (`destination.partialObserver`). Undefined when an
 * operator or any other Observer is between, or when the RxJS in use keeps it
 * elsewhere: replies then take the general path, which any Observer may keep
 * or clone.
 */
export function directWire(subscriber: Subscriber<RpcEnvelope>): WireSubject<RpcEnvelope> | undefined {
  const observer = (subscriber as unknown as { destination?: { partialObserver?: unknown } }).destination?.partialObserver;
  return observer instanceof WireSubject ? (observer as WireSubject<RpcEnvelope>) : undefined;
}

/**
 * Sends the REPLY to request `id` with `value`, or an ERROR when it does not
 * encode. Into `wire` itself when the wire takes it now: the value encoded in
 * place behind the envelope's header (a ValueEnvelope, as the client's
 * requests), with no body Buffer of its own and no copy — about 0.1 µs of a
 * round trip over shm. Otherwise (no such wire, a full way, envelopes queued
 * before it, a wire that ended) the body is made now and the envelope goes
 * to the subscriber, in order behind what waits (to the wire's `send` when
 * the wire is known and open). A reply larger than the wire carries fails
 * its request with an ERROR (FrameError) when the wire is known; otherwise it
 * ends the wire, as any value too large for a wire's `next`.
 */
export function sendReply<A>(subscriber: Subscriber<RpcEnvelope>, wire: WireSubject<RpcEnvelope> | undefined, codec: Codec<A>, id: number, value: A): void {
  let envelope: ValueEnvelope<A> | undefined;
  if (wire && !subscriber.closed) {
    envelope = new ValueEnvelope(id, RpcKind.REPLY, codec, value);
    try {
      if (wire.trySend(envelope)) return;
    } catch (err) {
      // Its value did not encode, or is larger than the wire carries (nothing went out): an ERROR for this request
      // instead — through the wire's `next`, the FrameError would end it for every request. Anything else is the
      // wire's end, which the general path meets as the wire reports it (a value after the end is dropped and counted).
      if ((err instanceof EncodeError && envelope.unmade) || err instanceof FrameError) return sendFailure(subscriber, wire, id, toErrorData(err));
    }
  }
  let body: Buffer;
  try {
    body = envelope ? envelope.body : bodyOf(codec, value); // the body a refused trySend's check made, if it did
  } catch (err) {
    return sendFailure(subscriber, wire, id, toErrorData(err));
  }
  const reply = withBody(id, RpcKind.REPLY, body);
  if (!wire || subscriber.closed || wire.hasError || wire.isStopped) return subscriber.next(reply);
  // The wire is full: `send` waits in the same order as `next`, and refuses one too large for the wire with its
  // FrameError — `next` would end the wire with it.
  wire.send(reply).catch((err: unknown) => {
    if (err instanceof FrameError && !subscriber.closed) sendFailure(subscriber, wire, id, toErrorData(err));
  });
}

/** Shorter cuts of an error that did not fit the wire at ERROR_BYTES (a ring or a peer's maxFrame may be smaller). */
const SMALLER_CUTS = [1024, 128];

/**
 * Sends the ERROR of request `id`. Into `wire` itself when it is known: an
 * error too large for it (its ring, or the peer's `maxFrame`, under 16 KiB)
 * is cut shorter and sent again (its stack goes first, then the end of its
 * message), so that one error fails its request, not the wire. Otherwise to
 * the subscriber, cut to ERROR_BYTES.
 */
export function sendFailure(subscriber: Subscriber<RpcEnvelope>, wire: WireSubject<RpcEnvelope> | undefined, id: number, error: ErrorData): void {
  if (!wire || subscriber.closed || wire.hasError || wire.isStopped) return subscriber.next(failure(id, error));
  const attempt = (cut: number): void => {
    const envelope = cut === 0 ? failure(id, error) : failure(id, error, SMALLER_CUTS[cut - 1]);
    // Anything but a size, or no shorter cut left: the wire's `next` has it (and ends the wire, as before).
    const smaller = (err: unknown) => (err instanceof FrameError && cut < SMALLER_CUTS.length ? attempt(cut + 1) : subscriber.next(envelope));
    try {
      if (wire.trySend(envelope)) return;
    } catch (err) {
      return smaller(err);
    }
    // A full way: in order behind what waits, as `next` would.
    wire.send(envelope).catch((err: unknown) => {
      if (err instanceof FrameError && cut < SMALLER_CUTS.length && !subscriber.closed) attempt(cut + 1);
    });
  };
  attempt(0);
}
