/**
 * The connection handshake, before any channel frame: version check,
 * optional mutual authentication by a shared secret, and the session (new or
 * resumed). Both sides run it on a fresh socket; each resolves with what the
 * connection needs, or rejects with a typed error after telling the peer
 * (DENY) where it can.
 *
 *   client                                   server
 *   CONNECT  magic ver flags maxFrame Nc  →
 *                                          ←  CHALLENGE magic ver flags maxFrame Ns
 *   AUTH     [Pc] session received        →
 *                                          ←  WELCOME session flags received [Ps]   (or DENY)
 *
 *   Pc = HMAC-SHA256(secret, "rxwire client" ‖ Nc ‖ Ns)
 *   Ps = HMAC-SHA256(secret, "rxwire server" ‖ Nc ‖ Ns)
 *
 * The secret never crosses the wire; each side checks the other's proof with
 * `crypto.timingSafeEqual`. The client proves itself first, and the server
 * answers with its own proof only to a client that did: anyone may connect
 * to a server, so a server that sent its proof first would hand every
 * stranger something to guess the secret against offline. (A client gives
 * its proof only to the address it chose to dial.) The client checks the
 * server's proof before it uses the connection. Frames here are limited to
 * HANDSHAKE_MAX_FRAME bytes, and the whole exchange to `timeoutMs`, so a
 * peer that is not authenticated can make this end hold next to nothing.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import { AuthError, FrameError, TransportClosedError } from '../../core/errors';
import { connectionFrame } from './output';
import { FrameParser } from './parser';
import {
  CLIENT_LABEL,
  DenyCode,
  Flag,
  HANDSHAKE_MAX_FRAME,
  MAGIC,
  NONCE_BYTES,
  PROOF_BYTES,
  SERVER_LABEL,
  SESSION_BYTES,
  TCP_VERSION,
  TcpKind,
  WelcomeFlag,
} from './wire';

/** A session id of all zeros: AUTH asks for a new session. */
export const NO_SESSION = Buffer.alloc(SESSION_BYTES);

/** How long a DENY waits for the peer to close before the socket is destroyed. */
const DENY_GRACE_MS = 1000;

/** Bytes of a WELCOME body before the server's proof: session id, flags, received. */
const WELCOME_BYTES = SESSION_BYTES + 9;

/** The longest a handshake may take before the socket is dropped. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** What the client learned. */
export interface ClientHello {
  sessionId: Buffer;
  resumed: boolean;
  /** Session bytes of ours the server had received (where to resume from). */
  received: number;
  peerMaxFrame: number;
  /** Bytes after WELCOME in the same chunk: the first channel frames. */
  leftover: Buffer | undefined;
}

/** What the server learned from a client that proved itself. */
export interface ServerHello {
  /** The session the client asks to resume, or undefined for a new one. */
  resumeId: Buffer | undefined;
  /** Session bytes of ours the client had received. */
  received: number;
  resumable: boolean;
  peerMaxFrame: number;
  /** The server's proof, for WELCOME (empty without a secret): the client has proved itself. */
  proof: Buffer;
  leftover: Buffer | undefined;
}

interface Common {
  secret: Buffer | undefined;
  maxFrame: number;
  timeoutMs?: number;
}

/** Runs the client's side on a connected socket. */
export function clientHandshake(
  socket: Socket,
  options: Common & { resumable: boolean; sessionId: Buffer; received: number },
): Promise<ClientHello> {
  const { secret, maxFrame, resumable, sessionId, received } = options;
  const nc = randomBytes(NONCE_BYTES);
  let ns: Buffer | undefined;
  let peerMaxFrame = 0;
  const flags = (secret ? Flag.SECRET : 0) | (resumable ? Flag.RESUMABLE : 0);
  socket.write(connectionFrame(TcpKind.CONNECT, Buffer.concat([preface(flags, maxFrame), nc])));
  return exchange<ClientHello>(socket, options.timeoutMs, (kind, body, step, finish) => {
    if (kind === TcpKind.DENY) throw denied(body);
    if (step === 0) {
      if (kind !== TcpKind.CHALLENGE) throw new FrameError(`expected CHALLENGE, got kind 0x${kind.toString(16)}`);
      const p = readPreface(body);
      peerMaxFrame = p.maxFrame;
      ns = Buffer.from(body.subarray(10, 10 + NONCE_BYTES));
      if (!(p.flags & Flag.SECRET) !== !secret) {
        throw new AuthError(secret ? 'the server does not authenticate, but this client has a secret' : 'the server requires a secret');
      }
      const proof = secret ? hmac(secret, CLIENT_LABEL, nc, ns) : Buffer.alloc(0);
      socket.write(connectionFrame(TcpKind.AUTH, Buffer.concat([proof, sessionId, u64(received)])));
      return;
    }
    if (kind !== TcpKind.WELCOME) throw new FrameError(`expected WELCOME, got kind 0x${kind.toString(16)}`);
    const expected = WELCOME_BYTES + (secret ? PROOF_BYTES : 0);
    if (body.length !== expected) throw new FrameError(`WELCOME body of ${body.length} bytes, expected ${expected}`);
    if (secret && !proofMatches(secret, SERVER_LABEL, nc, ns!, body.subarray(WELCOME_BYTES))) {
      throw new AuthError("the server's proof does not match this client's secret");
    }
    finish({
      sessionId: Buffer.from(body.subarray(0, SESSION_BYTES)),
      resumed: (body[SESSION_BYTES] & WelcomeFlag.RESUMED) !== 0,
      received: readU64(body, SESSION_BYTES + 1),
      peerMaxFrame,
      leftover: undefined,
    });
  });
}

/**
 * Runs the server's side on an accepted socket, up to a proven AUTH; the
 * caller then answers WELCOME (`welcomeFrame`) or DENY (`denyFrame`).
 */
export function serverHandshake(socket: Socket, options: Common): Promise<ServerHello> {
  const { secret, maxFrame } = options;
  const ns = randomBytes(NONCE_BYTES);
  let nc: Buffer | undefined;
  let clientFlags = 0;
  let peerMaxFrame = 0;
  return exchange<ServerHello>(socket, options.timeoutMs, (kind, body, step, finish) => {
    if (kind === TcpKind.DENY) throw denied(body);
    if (step === 0) {
      if (kind !== TcpKind.CONNECT) throw new FrameError(`expected CONNECT, got kind 0x${kind.toString(16)}`);
      const p = readPreface(body);
      clientFlags = p.flags;
      peerMaxFrame = p.maxFrame;
      nc = Buffer.from(body.subarray(10, 10 + NONCE_BYTES));
      if (!(clientFlags & Flag.SECRET) !== !secret) {
        throw new AuthError(secret ? 'the client gave no secret' : 'the client has a secret, this server has none');
      }
      socket.write(connectionFrame(TcpKind.CHALLENGE, Buffer.concat([preface(secret ? Flag.SECRET : 0, maxFrame), ns])));
      return;
    }
    if (kind !== TcpKind.AUTH) throw new FrameError(`expected AUTH, got kind 0x${kind.toString(16)}`);
    const proofLength = secret ? PROOF_BYTES : 0;
    if (body.length !== proofLength + SESSION_BYTES + 8) {
      throw new FrameError(`AUTH body of ${body.length} bytes, expected ${proofLength + SESSION_BYTES + 8}`);
    }
    if (secret && !proofMatches(secret, CLIENT_LABEL, nc!, ns, body.subarray(0, PROOF_BYTES))) {
      throw new AuthError("the client's proof does not match this server's secret");
    }
    const id = body.subarray(proofLength, proofLength + SESSION_BYTES);
    finish({
      resumeId: id.equals(NO_SESSION) ? undefined : Buffer.from(id),
      received: readU64(body, proofLength + SESSION_BYTES),
      resumable: (clientFlags & Flag.RESUMABLE) !== 0,
      peerMaxFrame,
      proof: secret ? hmac(secret, SERVER_LABEL, nc!, ns) : Buffer.alloc(0),
      leftover: undefined,
    });
  });
}

/**
 * WELCOME: the session id, whether it was resumed, the session bytes
 * received from the client, and the server's proof (`hello.proof`; empty
 * without a secret).
 */
export function welcomeFrame(sessionId: Buffer, resumed: boolean, received: number, proof: Buffer): Buffer {
  return connectionFrame(TcpKind.WELCOME, Buffer.concat([sessionId, Buffer.of(resumed ? WelcomeFlag.RESUMED : 0), u64(received), proof]));
}

/** DENY with a reason code and text (at most 200 bytes of it). */
export function denyFrame(code: number, reason: string): Buffer {
  return connectionFrame(TcpKind.DENY, Buffer.concat([Buffer.of(code), Buffer.from(reason, 'utf8').subarray(0, 200)]));
}

/** The DENY code for an error this side raised during the handshake. */
export function denyCodeOf(err: unknown): number {
  if (err instanceof AuthError) return DenyCode.AUTH;
  if (err instanceof TransportClosedError) return DenyCode.UNKNOWN_SESSION;
  return DenyCode.PROTOCOL;
}

type Step<R> = (kind: number, body: Buffer, step: number, finish: (result: R) => void) => void;

/**
 * Feeds the socket's frames to `step` (0, 1, ...) until it calls `finish`;
 * rejects on a timeout, the socket's end, a frame error or a throw from
 * `step` (after sending DENY for it, unless the peer had sent DENY).
 */
function exchange<R extends { leftover: Buffer | undefined }>(socket: Socket, timeoutMs = HANDSHAKE_TIMEOUT_MS, step: Step<R>): Promise<R> {
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
      if (tell && !socket.destroyed) {
        socket.end(denyFrame(denyCodeOf(err), err.message));
        // A peer that never closes its side is not waited for.
        const grace = setTimeout(() => socket.destroy(), DENY_GRACE_MS);
        socket.once('close', () => clearTimeout(grace));
      } else {
        socket.destroy();
      }
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
        fail(err as Error, !peerDenials.has(err as Error));
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
    const timer = setTimeout(() => fail(new TransportClosedError(`the handshake did not finish within ${timeoutMs} ms`), true), timeoutMs);
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', onError);
  });
}

/** magic, version, flags, maxFrame: the first 10 bytes of CONNECT and CHALLENGE. */
function preface(flags: number, maxFrame: number): Buffer {
  const out = Buffer.alloc(10);
  MAGIC.copy(out, 0);
  out[4] = TCP_VERSION;
  out[5] = flags;
  out.writeUInt32LE(maxFrame, 6);
  return out;
}

function readPreface(body: Buffer): { flags: number; maxFrame: number } {
  if (body.length < 10 || !body.subarray(0, 4).equals(MAGIC)) throw new FrameError('not an rxwire TCP peer (bad magic)');
  if (body[4] !== TCP_VERSION) throw new FrameError(`peer speaks TCP protocol ${body[4]}, this end ${TCP_VERSION}`);
  const flags = body[5];
  const expected = 10 + NONCE_BYTES;
  if (body.length !== expected) throw new FrameError(`handshake body of ${body.length} bytes, expected ${expected}`);
  const maxFrame = body.readUInt32LE(6);
  if (maxFrame < 1024) throw new FrameError(`peer's maxFrame ${maxFrame} is below 1024`);
  return { flags, maxFrame };
}

function hmac(secret: Buffer, label: Buffer, nc: Buffer, ns: Buffer): Buffer {
  return createHmac('sha256', secret).update(label).update(nc).update(ns).digest();
}

function proofMatches(secret: Buffer, label: Buffer, nc: Buffer, ns: Buffer, proof: Buffer): boolean {
  const expected = hmac(secret, label, nc, ns);
  return proof.length === expected.length && timingSafeEqual(proof, expected);
}

/** Errors that stand for the peer's own DENY: no DENY goes back for them. */
const peerDenials = new WeakSet<Error>();
/** Errors that stand for the server's DENY of an unknown session. */
const sessionRefusals = new WeakSet<Error>();

/** Did the server refuse to resume the session (it no longer has it)? */
export function isSessionRefusal(err: unknown): boolean {
  return err instanceof Error && sessionRefusals.has(err);
}

/** The error a DENY from the peer stands for (body: u8 code, UTF-8 reason). */
export function denied(body: Buffer): Error {
  const reason = body.subarray(1).toString('utf8');
  const err =
    body[0] === DenyCode.AUTH
      ? new AuthError(`the peer refused authentication: ${reason}`)
      : body[0] === DenyCode.UNKNOWN_SESSION
        ? new TransportClosedError(`the server has no such session: ${reason}`)
        : new FrameError(`the peer refused the handshake: ${reason}`);
  peerDenials.add(err);
  if (body[0] === DenyCode.UNKNOWN_SESSION) sessionRefusals.add(err);
  return err;
}

function u64(n: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(BigInt(n));
  return out;
}

function readU64(buf: Buffer, at: number): number {
  const n = buf.readBigUInt64LE(at);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new FrameError(`a byte count of ${n} is beyond 2^53`);
  return Number(n);
}
