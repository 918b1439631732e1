/**
 * The bytes of the TCP handshake frames (docs/PROTOCOL.md, "Handshake"):
 * the CONNECT / CHALLENGE preface, WELCOME, DENY and what a DENY stands
 * for, the HMAC proofs, and the u64 byte counts. Building and reading only;
 * handshake.ts runs the exchange.
 */
import { Buffer } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AuthError, FrameError, TransportClosedError } from '../../core/errors';
import { connectionFrame } from './output';
import { DenyCode, MAGIC, NONCE_BYTES, REASON_BYTES, SESSION_BYTES, TCP_VERSION, TcpKind, WelcomeFlag, reasonBytes } from './wire';

/** A session id of all zeros: AUTH asks for a new session. */
export const NO_SESSION = Buffer.alloc(SESSION_BYTES);

/** Bytes of a WELCOME body before the server's proof: session id, flags, received. */
export const WELCOME_BYTES = SESSION_BYTES + 9;

/**
 * WELCOME: the session id, whether it was resumed, the session bytes
 * received from the client, and the server's proof (`hello.proof`; empty
 * without a secret).
 */
export function welcomeFrame(sessionId: Buffer, resumed: boolean, received: number, proof: Buffer): Buffer {
  return connectionFrame(TcpKind.WELCOME, Buffer.concat([sessionId, Buffer.of(resumed ? WelcomeFlag.RESUMED : 0), u64(received), proof]));
}

/** DENY with a reason code and text (at most REASON_BYTES of it). */
export function denyFrame(code: number, reason: string): Buffer {
  return connectionFrame(TcpKind.DENY, Buffer.concat([Buffer.of(code), reasonBytes(reason)]));
}

/** The DENY code for an error this side raised during the handshake. */
export function denyCodeOf(err: unknown): number {
  if (err instanceof AuthError) return DenyCode.AUTH;
  if (err instanceof TransportClosedError) return DenyCode.UNKNOWN_SESSION;
  return DenyCode.PROTOCOL;
}

/** magic, version, flags, maxFrame: the first 10 bytes of CONNECT and CHALLENGE. */
export function preface(flags: number, maxFrame: number): Buffer {
  const out = Buffer.alloc(10);
  MAGIC.copy(out, 0);
  out[4] = TCP_VERSION;
  out[5] = flags;
  out.writeUInt32LE(maxFrame, 6);
  return out;
}

export function readPreface(body: Buffer): { flags: number; maxFrame: number } {
  if (body.length < 10 || !body.subarray(0, 4).equals(MAGIC)) throw new FrameError('not an rxwire TCP peer (bad magic)');
  if (body[4] !== TCP_VERSION) throw new FrameError(`peer speaks TCP protocol ${body[4]}, this end ${TCP_VERSION}`);
  const flags = body[5];
  const expected = 10 + NONCE_BYTES;
  if (body.length !== expected) throw new FrameError(`handshake body of ${body.length} bytes, expected ${expected}`);
  const maxFrame = body.readUInt32LE(6);
  if (maxFrame < 1024) throw new FrameError(`peer's maxFrame ${maxFrame} is below 1024`);
  return { flags, maxFrame };
}

export function hmac(secret: Buffer, label: Buffer, nc: Buffer, ns: Buffer): Buffer {
  return createHmac('sha256', secret).update(label).update(nc).update(ns).digest();
}

export function proofMatches(secret: Buffer, label: Buffer, nc: Buffer, ns: Buffer, proof: Buffer): boolean {
  const expected = hmac(secret, label, nc, ns);
  return proof.length === expected.length && timingSafeEqual(proof, expected);
}

/**
 * The DENY code an error stands for, when it was made from the peer's DENY
 * (`denied`): a hidden property of the error itself, so no DENY goes back for
 * it, and a client does not retry a session the server no longer has.
 */
const DENY_CODE = Symbol('rxwire.tcp.denyCode');

/** Does `err` stand for a DENY from the peer (so no DENY goes back)? */
export function isPeerDenial(err: unknown): boolean {
  return err instanceof Error && DENY_CODE in err;
}

/** Did the server refuse to resume the session (it no longer has it)? */
export function isSessionRefusal(err: unknown): boolean {
  return isPeerDenial(err) && (err as Error & { [DENY_CODE]: number })[DENY_CODE] === DenyCode.UNKNOWN_SESSION;
}

/** The error a DENY from the peer stands for (body: u8 code, UTF-8 reason). */
export function denied(body: Buffer): Error {
  const reason = body.subarray(1, 1 + REASON_BYTES).toString('utf8'); // a receiver reads at most REASON_BYTES of it
  const err =
    body[0] === DenyCode.AUTH
      ? new AuthError(`the peer refused authentication: ${reason}`)
      : body[0] === DenyCode.UNKNOWN_SESSION
        ? new TransportClosedError(`the server has no such session: ${reason}`)
        : new FrameError(`the peer refused the handshake: ${reason}`);
  Object.defineProperty(err, DENY_CODE, { value: body[0], enumerable: false });
  return err;
}

export function u64(n: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(BigInt(n));
  return out;
}

export function readU64(buf: Buffer, at: number): number {
  const n = buf.readBigUInt64LE(at);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new FrameError(`a byte count of ${n} is beyond 2^53`);
  return Number(n);
}
