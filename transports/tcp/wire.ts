/**
 * The TCP transport's bytes: frame layout, kinds, and the fixed bodies of
 * the connection handshake. docs/PROTOCOL.md ("TCP") is the reference; this
 * file and `output.ts` (writing) / `parser.ts` (reading, through
 * core/frame-reader.ts) are the only code that writes or reads them.
 *
 *   u32 LE  length    bytes after this field: 1 (kind) + 4 (channel) + body
 *   u8      kind      one of TcpKind
 *   u32 LE  channel   the SENDER's id of the channel; 0 = the connection itself
 *   body              kind-specific
 */
import { Buffer } from 'node:buffer';
import { codec, type Codec } from '../../core/codec';
import { FrameError } from '../../core/errors';
import { FrameKind, HELLO_FIELDS } from '../../core/frame';
import type { FrameLayout } from '../../core/frame-reader';

/** Bytes before a frame's body: length, kind, channel. */
export const TCP_HEADER = 9;

/** Kinds. Channel kinds reuse the port protocol's codes; connection kinds travel on channel 0. */
export const TcpKind = {
  /** body: one or more items, each an Avro long byte count then the value's bytes */
  NEXT: FrameKind.NEXT,
  /** body: empty */
  COMPLETE: FrameKind.COMPLETE,
  /** body: ErrorRecord */
  ERROR: FrameKind.ERROR,
  /** body: ChannelHelloRecord; first frame of each channel from each side */
  HELLO: FrameKind.HELLO,
  /** body: Avro long, item bytes consumed on this channel in all (credit) */
  ACK: FrameKind.ACK,
  /** body: empty */
  STOP: FrameKind.STOP,
  /** body: RejectRecord */
  REJECT: FrameKind.REJECT,
  /** client → server, first frame: magic, version, flags, maxFrame, nonce */
  CONNECT: 0x20,
  /** server → client: magic, version, flags, maxFrame, nonce */
  CHALLENGE: 0x21,
  /** client → server: proof, session id, session bytes received */
  AUTH: 0x22,
  /** server → client: session id, flags, session bytes received, proof */
  WELCOME: 0x23,
  /** either way during the handshake: u8 reason code, UTF-8 text; then the socket closes */
  DENY: 0x24,
  /** either way after the handshake: UTF-8 reason; the connection ends for good */
  CLOSE: 0x25,
  /** either way, resumable sessions only: Avro long, session bytes received in all */
  CACK: 0x26,
  /** either way after the handshake: empty; asks the peer for a PONG (heartbeat) */
  PING: 0x27,
  /** either way after the handshake: empty; the answer to a PING */
  PONG: 0x28,
} as const;
export type TcpKind = (typeof TcpKind)[keyof typeof TcpKind];

const CHANNEL_KINDS = new Set<number>([
  TcpKind.NEXT,
  TcpKind.COMPLETE,
  TcpKind.ERROR,
  TcpKind.HELLO,
  TcpKind.ACK,
  TcpKind.STOP,
  TcpKind.REJECT,
]);
const CONNECTION_KINDS = new Set<number>([
  TcpKind.CONNECT,
  TcpKind.CHALLENGE,
  TcpKind.AUTH,
  TcpKind.WELCOME,
  TcpKind.DENY,
  TcpKind.CLOSE,
  TcpKind.CACK,
  TcpKind.PING,
  TcpKind.PONG,
]);

/** Is `kind` assigned, and does it belong on `channel` (0: connection kinds, else channel kinds)? */
export function kindFits(kind: number, channel: number): boolean {
  return channel === 0 ? CONNECTION_KINDS.has(kind) : CHANNEL_KINDS.has(kind);
}

/** TCP's frame header for the frame parser: length, kind, channel; the kind must fit the channel (`kindFits`). */
export const TCP_LAYOUT: FrameLayout = {
  header: TCP_HEADER,
  checkHeader(buf, at) {
    const kind = buf[at + 4];
    const channel = buf.readUInt32LE(at + 5);
    if (!kindFits(kind, channel)) {
      throw new FrameError(`frame kind 0x${kind.toString(16)} is not valid on ${channel === 0 ? 'the connection (channel 0)' : `channel ${channel}`}`);
    }
  },
};

/** "RXWT": the first four bytes of CONNECT and CHALLENGE bodies. */
export const MAGIC = Buffer.from('RXWT', 'ascii');
/** The version of the TCP connection protocol (the channel session inside is protocol version 1). */
export const TCP_VERSION = 1;
/** Bytes of each side's random nonce. */
export const NONCE_BYTES = 32;
/** Bytes of an HMAC-SHA256 proof. */
export const PROOF_BYTES = 32;
/** Bytes of a session id. */
export const SESSION_BYTES = 16;
/** The largest body a handshake frame may have: a peer not yet authenticated makes us hold no more. */
export const HANDSHAKE_MAX_FRAME = 256;

/** CONNECT / CHALLENGE `flags` bits. */
export const Flag = {
  /** CONNECT, CHALLENGE: this side has a shared secret and will prove it. */
  SECRET: 0x01,
  /** CONNECT: the client keeps a replay buffer and may resume the session. */
  RESUMABLE: 0x02,
} as const;

/** WELCOME `flags` bits. */
export const WelcomeFlag = {
  /** The session named in AUTH was found and continues. */
  RESUMED: 0x01,
} as const;

/** DENY reason codes. */
export const DenyCode = {
  /** Authentication failed (wrong, missing or unexpected secret). */
  AUTH: 1,
  /** AUTH asked to resume a session the server no longer has. */
  UNKNOWN_SESSION: 2,
  /** Bad magic, another version, or a malformed handshake frame. */
  PROTOCOL: 3,
} as const;

/** The labels that make the two proofs differ (no reflection). ASCII, no terminator. */
export const SERVER_LABEL = Buffer.from('rxwire server', 'ascii');
export const CLIENT_LABEL = Buffer.from('rxwire client', 'ascii');

/** The per-channel HELLO body: the channel's name, then the fields of core/frame.ts's HelloRecord. */
export const ChannelHelloRecord = codec({
  type: 'record',
  name: 'ChannelHelloRecord',
  namespace: 'rxwire.tcp',
  fields: [{ name: 'name', type: 'string' }, ...HELLO_FIELDS],
} as const);
export type ChannelHello = typeof ChannelHelloRecord extends Codec<infer T> ? T : never;

/** An Avro long body (ACK, CACK). */
export const LongRecord: Codec<number> = codec('long');

/** The longest reason text of a DENY or CLOSE, in UTF-8 bytes. */
export const REASON_BYTES = 200;

/** A DENY's or CLOSE's reason: the text as UTF-8, cut to REASON_BYTES at a character's start. */
export function reasonBytes(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= REASON_BYTES) return bytes;
  let end = REASON_BYTES;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--; // a continuation byte: back to its character's first
  return bytes.subarray(0, end);
}

/** The longest channel name, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 1024;

/** Reads an Avro long (see core/varint.ts). */
export { readVarLong } from '../../core/varint';
