/**
 * The one record that crosses between two threads of a node: every message,
 * request, reply, spawn and signal is an Envelope on the ring from the
 * sending thread to the receiving one (one ring per ordered pair of threads,
 * ./direct.ts). The sending thread is the
 * ring's, so it is not in the record. Which fields a kind uses is listed at
 * {@link Kind}; the others are 0 or empty.
 */
import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { codec, type Codec } from '../core/codec';
import type { Schema } from '../core/schema';
import { copyBytes, bytesOf } from '../core/bytes';
import { MAX_LONG, readVarint, unzigzag, varLongBytes, writeVarLong, type Cursor } from '../core/varint';
import { DecodeError, messageOf, type ErrorData } from '../core/errors';
import { errorWithin } from '../core/error-fit';
import { ErrorRecord } from '../core/frame';

/** The kinds of envelope, with the fields each one uses. */
export const Kind = {
  /** A message: `to`, `tag`, `body` (encoded with the mailbox codec). */
  MSG: 1,
  /** A request: as MSG, plus `call` (the requester thread's call id). */
  REQUEST: 2,
  /** The reply to `call`: `body` encoded with the reply codec. */
  REPLY: 3,
  /** No reply to `call`: `text` is the target's exit reason (ProcessExitedError), or `body` an ErrorRecord. */
  REPLY_ERROR: 4,
  /** Start process `to`: `text` = module + '\n' + export + '\n' + the name it is spawned under (the spawner registers it; the host starts the process on NAMED), `body` = capture, `from` = parent to link (0: none), `tag` = link tag, `n` = mailbox bound, `call` = flags (1: trap exits). */
  SPAWN: 5,
  /** Link `to` with `from` (on the sending thread), `tag` = `to`'s tag for the link. */
  LINK: 6,
  /** Remove the link between `to` and `from`. */
  UNLINK: 7,
  /** Linked process `from` (on the sending thread) ended: `text` = reason, `body` = ErrorRecord or empty. */
  EXIT: 8,
  /** Monitor `to` for the sending thread: `tag` = monitor id. */
  MONITOR: 9,
  /** Remove monitor `tag` from `to`. */
  DEMONITOR: 10,
  /** Monitored process `from` ended: `tag` = monitor id, `text` = reason, `body` = ErrorRecord or empty. */
  DOWN: 11,
  /** Kill `to`. */
  KILL: 12,
  /** To the node's thread: register `from` (hosted on thread `n`) as `text`; answered by ANSWER to `call`. `tag` = 1: sent by the spawner at the spawn (the host waits for NAMED to start the process). */
  REGISTER: 13,
  /** To the node's thread: `text` no longer names `from` (it ended). */
  UNREGISTER: 14,
  /** To a host: process `to` now holds the name `text` (`n` = 0); or (`n` = 1) the name asked at its spawn is refused, `body` = ErrorRecord: it ends `noproc` without starting. */
  NAMED: 15,
  /** To the node's thread: who is `text`? Answered by ANSWER to `call` (`n` = thread or -1, `from` = id). */
  LOOKUP: 16,
  /** To a host: is `to` alive? Answered by ANSWER to `call` (`n` = 1 or 0). */
  ALIVE: 17,
  /** The answer to `call`: `n`, `from`, `text` as the question says (`text` = the error's name, or empty). */
  ANSWER: 18,
  /** A NodeFrame relayed by the node's own thread (processes/remote-relay.ts): from a worker, to send to node `text`; to a worker, one node `text` sent for it. `body` = the frame (rxwire.NodeFrame). */
  FAR: 19,
  /** To a worker, from the node's own thread: node `text` linked (`n` = 1; `tag` = its own thread, `from` = the id block it granted, `call` = the block granted it, `to` = the link's spawn counter) or dropped off (`n` = 0; `tag` = 1: this node closes). */
  NODE: 20,
  /** To a thread whose MSG or REQUEST filled a mailbox: process `from` (on the sending thread) holds its bound; its sends there are MailboxFullError until ROOM. */
  FULL: 21,
  /** Process `from` (on the sending thread), which said FULL, has room again (its mailbox drained to half its bound, or it ended). */
  ROOM: 22,
  /** Request `call` of the sending thread to process `to` timed out there: `to` owes it no reply, and forgets its asker. */
  FORGET: 23,
} as const;

/** One envelope. */
export interface Envelope {
  kind: number;
  to: number;
  from: number;
  tag: number;
  call: number;
  n: number;
  text: string;
  body: Buffer;
}

const EMPTY = Buffer.alloc(0);

/**
 * The most bytes an error takes in an envelope or a frame to another node: a
 * process's exit, a refused request. A larger one is cut (its stack first,
 * then its message: core/error-fit.ts), so that telling links, monitors and
 * askers of it can never fail for its size; on a node whose rings carry less
 * (NodeOptions.ringBytes), less (Bonds.errorBytes).
 */
export const ERROR_BYTES = 16 * 1024;

/** An envelope (or a frame to another node) refused after it was queued: lost, and said as a process warning. */
export function envelopeLost(to: string, err: unknown): void {
  process.emitWarning(`rxwire: an envelope to ${to} was refused and lost: ${messageOf(err)}`, { code: 'RXWIRE_ENVELOPE_LOST' });
}

/** When each process last had a message lost for not decoding (one warning a second at most, per process). */
const undecodableAt = new WeakMap<object, number>();

/**
 * A message whose bytes the process's mailbox codec refuses has no one to answer (a request's error goes back to
 * its asker): it is lost, and said as a process warning, at most once a second for each process — from another
 * thread of the node or from another node alike.
 */
export function messageUndecodable(proc: object, id: number, err: unknown): void {
  const now = performance.now();
  if (now - (undecodableAt.get(proc) ?? -Infinity) < 1000) return;
  undecodableAt.set(proc, now);
  process.emitWarning(
    `rxwire: a message to process ${id} did not decode with its mailbox codec and was lost ` +
      `(was the sender's handle made with other codecs?): ${messageOf(err)}`,
    { code: 'RXWIRE_MESSAGE_UNDECODABLE' },
  );
}

/** `error` as an envelope's body (cut to `max` bytes), or an empty body. */
export function errorBody(error: ErrorData | null, max = ERROR_BYTES): Buffer {
  return error ? ErrorRecord.encode(errorWithin(error, max)) : EMPTY;
}

/** The Avro codec of an Envelope (avsc's), which the hand-written one below wraps. */
const AvroEnvelope: Codec<Envelope> = codec(
  {
    type: 'record',
    name: 'rxwire.Envelope',
    fields: [
      { name: 'kind', type: 'int' },
      { name: 'to', type: 'long' },
      { name: 'from', type: 'long' },
      { name: 'tag', type: 'long' },
      { name: 'call', type: 'long' },
      { name: 'n', type: 'long' },
      { name: 'text', type: 'string' },
      { name: 'body', type: 'bytes' },
    ],
  } as const,
  { validate: false },
);

/**
 * The codec of the envelope channel: byte for byte what avsc writes for the
 * schema above, hand-written for the envelopes without text (every message,
 * request and reply): avsc reads the five longs through its general reader
 * and copies `bytes` with a native call. A micro-benchmark of a MSG
 * envelope (2^33 + 517 as `to`, a one-byte body): encode ~80 → ~40 ns,
 * decode ~170 → ~105 ns, of the ~2.4 µs of a token ring's hop between two
 * threads. Envelopes with text, numbers out of the fast path's range and
 * everything that is not encoding or decoding go to avsc's codec.
 */
class EnvelopeCodecImpl implements Codec<Envelope> {
  readonly schema = AvroEnvelope.schema;
  readonly fingerprint = AvroEnvelope.fingerprint;

  encode(value: Envelope): Buffer {
    if (!plain(value)) return AvroEnvelope.encode(value);
    const buffer = Buffer.allocUnsafe(sizeOf(value));
    this.encodeInto(value, buffer, 0);
    return buffer;
  }

  encodeInto(value: Envelope, buffer: Buffer, offset: number): number {
    if (!plain(value)) return AvroEnvelope.encodeInto(value, buffer, offset);
    // The header first, its size found by writing it (a typed array drops writes past its end), then the room.
    let pos = writeVarLong(buffer, offset, value.kind);
    pos = writeVarLong(buffer, pos, value.to);
    pos = writeVarLong(buffer, pos, value.from);
    pos = writeVarLong(buffer, pos, value.tag);
    pos = writeVarLong(buffer, pos, value.call);
    pos = writeVarLong(buffer, pos, value.n);
    buffer[pos++] = 0; // text: ''
    const { body } = value;
    pos = writeVarLong(buffer, pos, body.length);
    const end = pos + body.length;
    if (end > buffer.length) return buffer.length - end;
    copyBytes(buffer, pos, body);
    return end;
  }

  decode(buffer: Uint8Array, start = 0, end = buffer.length): Envelope {
    if (start < 0 || end > buffer.length || start > end) {
      throw new DecodeError(`range [${start}, ${end}) is outside a buffer of ${buffer.length} bytes`);
    }
    const at: Cursor = { pos: start };
    const kind = readVarint(buffer, at, end);
    const to = readVarint(buffer, at, end);
    const from = readVarint(buffer, at, end);
    const tag = readVarint(buffer, at, end);
    const call = readVarint(buffer, at, end);
    const n = readVarint(buffer, at, end);
    const text = readVarint(buffer, at, end);
    // Text, or a number past the fast path's range (NaN), or a kind that is not an int: avsc reads it, or says why not.
    if (text !== 0 || !(kind <= 0xffffffff) || !(to + from + tag + call + n >= 0)) return AvroEnvelope.decode(buffer, start, end);
    const length = unzigzag(readVarint(buffer, at, end));
    const from0 = at.pos;
    if (!(length >= 0) || length > end - from0) throw new DecodeError(`truncated: an envelope body of ${length} bytes, ${end - from0} left`);
    if (from0 + length !== end) throw new DecodeError(`${end - from0 - length} trailing bytes after an Envelope`);
    const body = bytesOf(buffer, from0, end);
    return { kind: unzigzag(kind), to: unzigzag(to), from: unzigzag(from), tag: unzigzag(tag), call: unzigzag(call), n: unzigzag(n), text: '', body };
  }

  resolve(writer: Schema | Codec<unknown>): Codec<Envelope> {
    return (writer as Codec<unknown>).fingerprint === this.fingerprint ? this : AvroEnvelope.resolve(writer);
  }

  check(value: unknown): asserts value is Envelope {
    AvroEnvelope.check(value);
  }
}

/** An envelope the fast path writes: no text, an int kind, longs avsc takes as numbers, a byte body. */
function plain(e: Envelope): boolean {
  return (
    e.text === '' &&
    (e.kind | 0) === e.kind &&
    safeLong(e.to) &&
    safeLong(e.from) &&
    safeLong(e.tag) &&
    safeLong(e.call) &&
    safeLong(e.n) &&
    e.body instanceof Uint8Array
  );
}

function safeLong(x: number): boolean {
  return Number.isInteger(x) && Math.abs(x) <= MAX_LONG;
}

function sizeOf(e: Envelope): number {
  const length = e.body.length;
  return varLongBytes(e.kind) + varLongBytes(e.to) + varLongBytes(e.from) + varLongBytes(e.tag) + varLongBytes(e.call) + varLongBytes(e.n) + 1 + varLongBytes(length) + length;
}

/** The codec of an Envelope (the envelope channel's). */
export const EnvelopeCodec: Codec<Envelope> = new EnvelopeCodecImpl();

/** An envelope of `kind` with the given fields (the rest 0 or empty). */
export function envelope(kind: number, fields: Partial<Envelope>): Envelope {
  return { kind, to: 0, from: 0, tag: 0, call: 0, n: 0, text: '', body: EMPTY, ...fields };
}
