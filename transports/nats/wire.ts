/**
 * What a NATS channel puts on NATS (docs/PROTOCOL.md, "NATS channels"): the
 * subjects of a channel and the layout of each message body. This file is
 * the only code that names them.
 *
 * Subjects, for prefix `p` (default `rxwire.`), channel `name`, end id `id`:
 *
 *   p + 'ch.' + name + '._open'       every end of `name` listens; an end says its id here once
 *   p + 'ch.' + name + '._pair.' + id  pairing messages for end `id` (here / propose / taken)
 *   p + 'ch.' + name + '._to.' + id    the data of the link, to end `id`
 *
 * A data message body:
 *
 *   u32 LE  seq    this direction's message number: 0, 1, 2, … (mod 2^32)
 *   u8      type   FRAMES, PING, PONG or BYE
 *   rest           FRAMES: zero or more frames as on a port (u32 LE length, u8 kind, body)
 *                  PING, PONG: empty · BYE: a UTF-8 reason
 */
import { Buffer } from 'node:buffer';
import { FrameError } from '../../core/errors';

/** Bytes before a data message's frames: u32 sequence number, u8 type. */
export const MESSAGE_HEADER = 5;

/** The type byte of a data message. */
export const MessageType = {
  /** frames follow (none: a message that only carries its sequence number) */
  FRAMES: 0x00,
  /** the other end answers PONG at once (the heartbeat) */
  PING: 0x01,
  /** the answer to PING */
  PONG: 0x02,
  /** this end released the link; a UTF-8 reason follows */
  BYE: 0x03,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** Writes a data message's header into its first MESSAGE_HEADER bytes. */
export function writeHeader(message: Uint8Array, seq: number, type: MessageType): void {
  const view = Buffer.from(message.buffer, message.byteOffset, MESSAGE_HEADER);
  view.writeUInt32LE(seq >>> 0, 0);
  view[4] = type;
}

/** A data message with no frames: its header, then `text` in UTF-8 (BYE's reason). */
export function controlMessage(seq: number, type: MessageType, text = ''): Uint8Array {
  const message = Buffer.alloc(MESSAGE_HEADER + Buffer.byteLength(text));
  writeHeader(message, seq, type);
  message.write(text, MESSAGE_HEADER);
  return message;
}

/**
 * A data message's header.
 * @throws FrameError when it is shorter than its header or of an unknown type
 */
export function readHeader(message: Buffer): { seq: number; type: MessageType } {
  if (message.length < MESSAGE_HEADER) {
    throw new FrameError(`a NATS channel message of ${message.length} bytes is shorter than its ${MESSAGE_HEADER}-byte header`);
  }
  const type = message[4];
  if (type > MessageType.BYE) throw new FrameError(`a NATS channel message of unknown type 0x${type.toString(16)}`);
  return { seq: message.readUInt32LE(0), type: type as MessageType };
}

/** The subjects of channel `name` under `prefix`. */
export class ChannelSubjects {
  /** Where every end of the channel listens for the others' ids. */
  readonly open: string;

  constructor(prefix: string, name: string) {
    this.open = `${prefix}ch.${name}._open`;
  }

  /** Pairing messages for end `id`. */
  pair(id: string): string {
    return this.open.slice(0, -'_open'.length) + '_pair.' + id;
  }

  /** Data messages for end `id`. */
  data(id: string): string {
    return this.open.slice(0, -'_open'.length) + '_to.' + id;
  }
}

const TOKEN = /^[A-Za-z0-9-][A-Za-z0-9_-]*$/;

/** The longest channel name `conn.open` takes, in characters. */
export const MAX_CHANNEL_NAME = 200;

/**
 * Checks a channel name: one or more tokens of letters, digits, `-` and `_`
 * (not first), separated by dots. A token may not start with `_`, so a name
 * never ends where the subjects' own tokens (`_open`, `_to`) begin.
 * @throws TypeError naming what is wrong
 */
export function checkChannelName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_CHANNEL_NAME || !name.split('.').every((t) => TOKEN.test(t))) {
    throw new TypeError(
      `conn.open: the channel name must be 1 to 200 characters of dot-separated tokens of letters, digits, '-' and '_' (a token not starting with '_'), got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

/**
 * Checks a subject prefix: empty, or tokens as in a channel name each
 * followed by a dot (`rxwire.`, `team-a.rxwire.`).
 * @throws TypeError naming what is wrong
 */
export function checkPrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || (prefix !== '' && !(prefix.endsWith('.') && prefix.slice(0, -1).split('.').every((t) => /^[A-Za-z0-9_-]+$/.test(t))))) {
    throw new TypeError(`connect: options.prefix must be '' or dot-separated tokens ending with a dot (such as 'rxwire.'), got ${JSON.stringify(prefix)}`);
  }
  return prefix;
}
