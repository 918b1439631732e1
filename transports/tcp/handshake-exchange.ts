/**
 * Runs one side of the TCP handshake over a socket: feeds its frames, one by
 * one, to that side's steps (handshake.ts) until they finish, within a time
 * limit and with frames of at most HANDSHAKE_MAX_FRAME bytes; on a failure
 * other than the time limit tells the peer why (DENY) where it can; then drops the socket.
 */
import type { Socket } from 'node:net';
import { FrameError, TransportClosedError } from '../../core/errors';
import { denyCodeOf, denyFrame, isPeerDenial } from './handshake-bytes';
import { FrameParser } from './parser';
import { HANDSHAKE_MAX_FRAME } from './wire';

/** How long a DENY waits for the peer to close before the socket is destroyed. */
const DENY_GRACE_MS = 1000;

/** The longest a handshake may take before the socket is dropped. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** One step: the `step`-th frame from the peer (0, 1, ...); calls `finish` with the result at the last. */
export type Step<R> = (kind: number, body: Buffer, step: number, finish: (result: R) => void) => void;

/**
 * Feeds the socket's frames to `step` (0, 1, ...) until it calls `finish`;
 * rejects on a timeout, the socket's end, a frame error or a throw from
 * `step` (after sending DENY for it, unless the peer had sent DENY).
 */
export function exchange<R extends { leftover: Buffer | undefined }>(socket: Socket, timeoutMs = HANDSHAKE_TIMEOUT_MS, step: Step<R>): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    let count = 0;
    let settled = false;
    let result: R | undefined;
    const cleanup = () => {
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
    };
    const fail = (err: Error, tell: boolean) => {
      if (settled) return;
      cleanup();
      parser.stop();
      if (tell) sayDeny(socket, denyFrame(denyCodeOf(err), err.message));
      else socket.destroy();
      reject(err);
    };
    const parser = new FrameParser((kind, channel, buf, start, end) => {
      if (channel !== 0) throw new FrameError(`a channel frame (channel ${channel}) before the handshake finished`);
      step(kind, buf.subarray(start, end), count++, (done) => {
        result = done;
        parser.detach();
      });
    }, HANDSHAKE_MAX_FRAME);
    const onData = (chunk: Buffer) => {
      try {
        parser.push(chunk);
      } catch (err) {
        fail(err as Error, !isPeerDenial(err));
        return;
      }
      if (!result) return;
      // Whatever followed the last handshake frame is the connection's.
      result.leftover = parser.remainder();
      cleanup();
      socket.pause();
      resolve(result);
    };
    const onClose = () => fail(new TransportClosedError('the peer closed the connection during the handshake'), false);
    const onError = (err: Error) => fail(new TransportClosedError(`socket error during the handshake: ${err.message}`, { cause: err }), false);
    // Dropped without a DENY: no code fits (2, "unknown session", would make a resuming client give up on a
    // session the server still has), and a peer this slow may not be reading anyway. docs/PROTOCOL.md, "Handshake".
    const timer = setTimeout(() => fail(new TransportClosedError(`the handshake did not finish within ${timeoutMs} ms`), false), timeoutMs);
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', onError);
  });
}

/**
 * Sends DENY (`frame`) and closes the socket, on every path that refuses a peer. From here on the socket's
 * errors are ignored (the peer may reset it: an `error` with no listener would end the process), what the peer
 * still sends is read and dropped (a paused socket holding unread bytes never sees the peer's end, so it never
 * closes: a server's `close()` waited for it for ever), and a peer that does not close is dropped after
 * DENY_GRACE_MS.
 */
export function sayDeny(socket: Socket, frame: Buffer): void {
  socket.on('error', ignore);
  if (socket.destroyed) return;
  socket.resume();
  socket.end(frame);
  const grace = setTimeout(() => socket.destroy(), DENY_GRACE_MS);
  socket.once('close', () => clearTimeout(grace));
}

function ignore(): void {}
