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
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { AuthError, FrameError } from '../../core/errors';
import { NO_SESSION, WELCOME_BYTES, denied, hmac, preface, proofMatches, readPreface, readU64, u64 } from './handshake-bytes';
import { exchange } from './handshake-exchange';
import { connectionFrame } from './output';
import { CLIENT_LABEL, Flag, NONCE_BYTES, PROOF_BYTES, SERVER_LABEL, SESSION_BYTES, TcpKind, WelcomeFlag } from './wire';

/** For the doc-example test, which builds a WELCOME. */
export { welcomeFrame } from './handshake-bytes';

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
 * caller then answers WELCOME (`welcomeFrame`) or DENY (`denyFrame`),
 * both in handshake-bytes.ts.
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

