/**
 * The manager's way down to one worker: `WorkerPool.send` and `broadcast`
 * never wait, and throw what is wrong with a value at once.
 */
import type { Codec } from '../core/codec';
import { EncodeError, FrameError } from '../core/errors';
import type { WireSubject } from '../core/wire-subject';
import { largestValue } from '../transports/shm';

/**
 * Puts `value` on `wire` now if the ring takes it, else queues it behind
 * what waits (the way down is unbounded). A value that does not fit the codec
 * throws EncodeError, and one larger than the ring can ever hold throws
 * FrameError, here: queued, it would fail the worker's stream when its turn
 * came, and with it the pool, the values after it lost and the worker
 * blamed. So a value that must queue is measured first (one encode more,
 * paid only while the worker is behind). A way down the worker has closed
 * drops the value, as `next` does (counted in the wire's stats).
 */
export function sendDown<D>(wire: WireSubject<D>, codec: Codec<D>, ringBytes: number, value: D, what: string): void {
  try {
    if (wire.trySend(value)) return;
  } catch (err) {
    if (err instanceof EncodeError || err instanceof FrameError) throw err;
    return wire.next(value);
  }
  mustFit(codec, ringBytes, value, what);
  wire.next(value);
}

/**
 * Throws FrameError when `value` is larger than a pool ring of `ringBytes`
 * can ever hold: a value about to be queued behind others is measured (one
 * encode more) on either way, down ({@link sendDown}) and up
 * (pool/up-sender.ts).
 */
export function mustFit<V>(codec: Codec<V>, ringBytes: number, value: V, what: string): void {
  const bytes = codec.encode(value).length;
  if (bytes > largestValue(ringBytes)) {
    throw new FrameError(`${what}: a value of ${bytes} bytes can never fit the pool's rings of ${ringBytes} bytes (options.bytes)`);
  }
}
