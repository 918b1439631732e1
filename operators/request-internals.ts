/**
 * The wire messages of request/reply, shared by the client (client.ts) and
 * `serve` (server side): one envelope record carries both directions over one
 * WireSubject. The user's request and reply values travel inside it as bytes,
 * encoded with the user's own codecs, so the envelope is the same for every
 * pair of request and reply types. docs/PROTOCOL.md, "Request/reply", gives
 * every byte and rule; in short:
 *
 *   record rxwire.RpcEnvelope {
 *     long   id      the request's id, chosen by the client, unique per wire
 *     int    kind    one of RpcKind
 *     bytes  body    REQUEST: the request value; NEXT, REPLY: one reply value;
 *                    CREDIT: an Avro int, the NEXTs granted; else empty
 *     union { null, rxwire.RpcError } error   ERROR only: the handler's error as data
 *   }
 *
 * Client → server: SCHEMA (once, first), REQUEST, CANCEL, CREDIT. Server →
 * client: REPLY, NEXT, COMPLETE, ERROR. A plain reply (a value, or a Promise's value) is one
 * REPLY: its one value and the end in one message, half the messages of
 * NEXT + COMPLETE. A streamed reply (an Observable) is NEXTs then COMPLETE,
 * at most STREAM_WINDOW NEXTs ahead of the client's CREDITs; a failed one
 * ends with ERROR. After CANCEL the server sends nothing more for that id
 * (and the client ignores anything still in flight).
 */
import { Buffer } from 'node:buffer';
import { codec, isCodec, type Codec } from '../core/codec';
import { DecodeError, SchemaMismatchError, toErrorData, type ErrorData } from '../core/errors';
import { errorWithin } from '../core/error-fit';
import { MAX_TIMER_MS } from '../core/thread-hold';
import { ERROR_FIELDS } from '../core/frame';
import { checkKnown } from '../core/options';
import { EnvelopeCodec, type RpcEnvelope } from './rpc-envelope-codec';

/** The kinds of envelope. */
export const RpcKind = {
  /** client → server: body is the request */
  REQUEST: 0,
  /** client → server: stop working on `id`; no reply is wanted any more */
  CANCEL: 1,
  /** server → client: body is one reply value */
  NEXT: 2,
  /** server → client: the reply to `id` is complete */
  COMPLETE: 3,
  /** server → client: the handler failed; `error` says how */
  ERROR: 4,
  /** server → client: body is the one reply value, and the reply is complete (NEXT + COMPLETE in one) */
  REPLY: 5,
  /** client → server: body is an Avro int n > 0: the server may send n more NEXTs for `id` */
  CREDIT: 6,
  /** client → server, id 0, before its first REQUEST: body is its request and reply codecs' fingerprints (see `schemas`) */
  SCHEMA: 7,
} as const;
export type RpcKind = (typeof RpcKind)[keyof typeof RpcKind];

export type { RpcEnvelope } from './rpc-envelope-codec';

// The nested RpcError shares ErrorRecord's field list, whose type the schema
// inference does not follow through a union: the envelope's type is stated.
const avroEnvelope = codec({
  type: 'record',
  name: 'RpcEnvelope',
  namespace: 'rxwire',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'kind', type: 'int' },
    { name: 'body', type: 'bytes' },
    {
      name: 'error',
      type: [
        'null',
        {
          type: 'record',
          name: 'RpcError',
          fields: ERROR_FIELDS,
        },
      ],
    },
  ],
} as const) as Codec<RpcEnvelope>;

/** The envelope codec: the avsc one, with a hand-written fast path for envelopes without an error. */
const envelope: Codec<RpcEnvelope> = new EnvelopeCodec(avroEnvelope);

/**
 * The codec of the request/reply envelope: open the wire between a client and
 * a server with it. Envelopes without an error are encoded and decoded by
 * hand-written code (rpc-envelope-codec.ts) that writes exactly avsc's bytes;
 * one that does not fit the schema still fails with `EncodeError`.
 *
 * ## Example
 * ```ts
 * import { open } from 'rxwire';
 * import { rpcCodec } from 'rxwire/operators';
 * const wire = open(end, rpcCodec());   // WireSubject<RpcEnvelope>
 * ```
 *
 * @returns the envelope codec (one immutable instance, the same every call)
 */
export function rpcCodec(): Codec<RpcEnvelope> {
  return envelope;
}

const EMPTY = Buffer.alloc(0);

/**
 * The body of a request or reply envelope: `codec.encode(value)`, a Buffer
 * of its own (every codec's `encode` returns fresh bytes; the Avro codec's
 * encodes into a scratch and copies out at the exact size).
 * @throws EncodeError when `value` does not fit the codec
 */
export function bodyOf<V>(codec: Codec<V>, value: V): Buffer {
  return codec.encode(value);
}

/** An envelope without body or error. */
export function control(id: number, kind: RpcKind): RpcEnvelope {
  return { id, kind, body: EMPTY, error: null };
}

/** An envelope carrying `body`. */
export function withBody(id: number, kind: RpcKind, body: Buffer): RpcEnvelope {
  return { id, kind, body, error: null };
}

/**
 * The NEXTs a server may send for one request before the client's first
 * CREDIT: every streamed reply starts with this much credit (fixed by the
 * protocol, not negotiated).
 */
export const STREAM_WINDOW = 128;

/** The client grants credit once it has received this many NEXTs since its last CREDIT. */
export const CREDIT_BATCH = STREAM_WINDOW / 2;

/** The body of CREDIT: the count of NEXTs granted. */
const creditCount: Codec<number> = codec('int');

/** A CREDIT envelope granting `count` more NEXTs for `id`. */
export function credit(id: number, count: number): RpcEnvelope {
  return { id, kind: RpcKind.CREDIT, body: creditCount.encode(count), error: null };
}

/**
 * The count a CREDIT envelope grants.
 * @throws DecodeError when its body is not an Avro int above 0
 */
export function creditOf(envelope: RpcEnvelope): number {
  const count = creditCount.decode(envelope.body);
  // avsc reads an int's varint without checking its range: a count past 2^31 − 1 is no Avro int.
  if (!(count > 0 && count <= 0x7fffffff)) throw new DecodeError(`a CREDIT must grant a positive Avro int count of NEXTs, not ${count}`);
  return count;
}

/** The body of SCHEMA: the fingerprints of the client's request and reply codecs, two Avro strings. */
const schemaPair = codec({
  type: 'record',
  name: 'RpcSchemas',
  namespace: 'rxwire',
  fields: [
    { name: 'request', type: 'string' },
    { name: 'reply', type: 'string' },
  ],
} as const);

/** The SCHEMA envelope of a client with these codecs: sent once, before its first request. */
export function schemas(request: Codec<unknown>, reply: Codec<unknown>): RpcEnvelope {
  return withBody(0, RpcKind.SCHEMA, schemaPair.encode({ request: request.fingerprint, reply: reply.fingerprint }));
}

/**
 * Why a server with these codecs cannot serve the client that sent this
 * SCHEMA (every REQUEST after it is answered with this ERROR), or undefined
 * when the client's codecs have the server's schemas. Fingerprints must be
 * equal: a body carries no schema to resolve, and two schemas of one layout
 * (fields swapped, `int` for `long`) would decode into wrong values.
 */
export function schemaRefusal(envelope: RpcEnvelope, request: Codec<unknown>, reply: Codec<unknown>): ErrorData | undefined {
  let theirs: { request: string; reply: string };
  let refusal: Error;
  try {
    theirs = schemaPair.decode(envelope.body);
  } catch (err) {
    return { ...toErrorData(err), stack: null }; // a DecodeError: it cannot say the schemas are the same
  }
  if (theirs.request !== request.fingerprint) {
    refusal = new SchemaMismatchError('<root>', `the request was written with schema ${theirs.request}, this server reads ${request.fingerprint}`);
  } else if (theirs.reply !== reply.fingerprint) {
    refusal = new SchemaMismatchError('<root>', `the client reads replies with schema ${theirs.reply}, this server writes ${reply.fingerprint}`);
  } else return undefined;
  return { ...toErrorData(refusal), stack: null }; // this server's own stack says nothing to the client
}

/**
 * The most bytes of a request's error (core/error-fit.ts `errorWithin`: the stack goes first): an error is
 * one request's failure, and one too large for the wire would end the wire, every client's requests with it.
 */
export const ERROR_BYTES = 16 * 1024;

/** An ERROR envelope, its error cut to `max` bytes. */
export function failure(id: number, error: ErrorData, max = ERROR_BYTES): RpcEnvelope {
  return { id, kind: RpcKind.ERROR, body: EMPTY, error: errorWithin(error, max) };
}

/** Validates a `concurrency` option: a positive integer or `Infinity`. */
export function checkConcurrency(concurrency: number): void {
  if (!(concurrency === Infinity || (Number.isInteger(concurrency) && concurrency > 0))) {
    throw new RangeError('options.concurrency must be a positive integer or Infinity');
  }
}

/** Validates a `timeout` option: milliseconds from 0 to 2^31 - 1 (Node's longest timer), or `Infinity`. */
export function checkTimeout(timeout: number): void {
  if (!(timeout === Infinity || (typeof timeout === 'number' && timeout >= 0 && timeout <= MAX_TIMER_MS))) {
    throw new RangeError('options.timeout must be a number of milliseconds from 0 to 2147483647, or Infinity');
  }
}

/** The keys of ClientOptions and ServeOptions (spec/types/option-keys.ts holds them to those types). */
export const RPC_OPTIONS = {
  client: { request: true, reply: true, concurrency: true, timeout: true },
  serve: { request: true, reply: true, concurrency: true, signal: true },
} as const;

/**
 * Checks the options object of `client` or `serve` (named by `api`) and its
 * two codecs.
 * @throws TypeError naming what is wrong
 */
export function checkCodecs(api: 'client' | 'serve', options: unknown, known: Readonly<Record<string, true>> = RPC_OPTIONS[api]): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${api}: options must be an object with the request and reply codecs`);
  }
  checkKnown(options, known, `${api}: options`);
  const { request, reply } = options as { request?: unknown; reply?: unknown };
  if (!isCodec(request)) throw new TypeError(`${api}: options.request must be a codec (from codec(schema), or raw)`);
  if (!isCodec(reply)) throw new TypeError(`${api}: options.reply must be a codec (from codec(schema), or raw)`);
}
