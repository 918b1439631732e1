/**
 * One WireSubject per end. The object that carries an end's traffic in this
 * thread — a pair's MessagePort, a Worker, `parentPort`, an shm end's
 * liveness port — is claimed when a channel opens on it. Opened twice, an
 * shm end had two readers take every record (each value delivered twice,
 * one cursor moved by both) and a port end failed both wires; now the
 * second `open` throws ChannelTakenError. A claim is this thread's only:
 * an end opened here and then sent to another thread (its port moves with
 * it) is not refused there — the wire here ends (TransportClosedError:
 * its port is gone) and the peer sees a second HELLO (FrameError). Open an
 * end in the one thread that keeps it.
 */
import { ChannelTakenError } from '../core/errors';

const claimed = new WeakSet<object>();

/**
 * Claims `target` for one channel.
 * @throws ChannelTakenError when a channel of this thread has it already
 */
export function claimEnd(target: object): void {
  if (claimed.has(target)) {
    throw new ChannelTakenError('open: this end is taken (one WireSubject per end: a Worker, parentPort or MessagePort is free again once its wire has ended both ways; an end of a pair never is: make another pair)');
  }
  claimed.add(target);
}

/** Lets `target` be opened again (a Worker or `parentPort` whose channel closed: they are the user's, and outlive it). */
export function releaseEnd(target: object): void {
  claimed.delete(target);
}
