/**
 * The errors rxwire raises. Each is a real subclass of `Error` with a stable
 * `code`, so callers match on `instanceof` or `err.code`, never on message
 * text. Errors that cross a transport travel as data (see `ErrorData`) and
 * arrive as {@link RemoteError}.
 */

import { Buffer } from 'node:buffer';
import { ErrorCode, RxwireError } from './error-base';

export { ErrorCode, RxwireError } from './error-base';
export * from './process-errors';

/** A value does not fit its schema. `path` names the field, `expected` its type. */
export class EncodeError extends RxwireError {
  readonly code = ErrorCode.ENCODE;
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly actual: unknown,
    options?: { cause?: unknown },
  ) {
    super(`cannot encode ${path}: expected ${expected}, got ${describe(actual)}`, options);
  }
}

/** Bytes that do not decode under the reader's schema (truncated, trailing or garbage). */
export class DecodeError extends RxwireError {
  readonly code = ErrorCode.DECODE;
}

/** A frame that is malformed or larger than the limit. */
export class FrameError extends RxwireError {
  readonly code = ErrorCode.FRAME;
}

/** A writer's schema the reader cannot resolve; `path` names the field at fault. */
export class SchemaMismatchError extends RxwireError {
  readonly code = ErrorCode.SCHEMA_MISMATCH;
  constructor(
    readonly path: string,
    /** What is wrong at `path`, without the location. */
    readonly reason: string,
  ) {
    super(`schema mismatch at ${path}: ${reason}`);
  }
}

/** An error raised on the other end of a transport, carried over as data. */
export class RemoteError extends RxwireError {
  readonly code = ErrorCode.REMOTE;
  /** The `name` of the error on the remote side (e.g. `TypeError`). */
  readonly remoteName: string;
  /** The `code` of the error on the remote side, if it had one. */
  readonly remoteCode: string | undefined;
  /** The stack as the remote side printed it. */
  readonly remoteStack: string | undefined;
  constructor(data: ErrorData) {
    super(data.message);
    this.remoteName = data.name;
    this.remoteCode = data.code ?? undefined;
    this.remoteStack = data.stack ?? undefined;
  }
}

/** `next` found the outgoing queue at its limit; the value was not taken. */
export class QueueFullError extends RxwireError {
  readonly code = ErrorCode.QUEUE_FULL;
}

/** The transport is closed: completed, stopped by its reader, or its peer is gone. */
export class TransportClosedError extends RxwireError {
  readonly code = ErrorCode.TRANSPORT_CLOSED;
}

/** An operation did not finish within its time limit. */
export class TimeoutError extends RxwireError {
  readonly code = ErrorCode.TIMEOUT;
}

/** Why a worker that exited by itself is gone, for a WorkerError's message: code 0 with work unfinished is an event
 * loop that ran out (nothing settles, nothing held open) or `process.exit(0)`, which Node does not tell apart. */
export function exitedText(code: number): string {
  if (code !== 0) return `the worker exited with code ${code}`;
  return 'the worker exited with code 0 while its work was unfinished: nothing was left to run (an operator or function that never settles and holds no timer or handle), or it called process.exit(0)';
}

/** A worker thread threw or exited; carries its message, stack and index. */
export class WorkerError extends RxwireError {
  readonly code = ErrorCode.WORKER;
  /** The name of the error the worker threw (`TypeError`, `EncodeError`, ...), when known. */
  readonly workerName: string | undefined;
  /** Its `code`, when it had one (rxwire's own errors do). */
  readonly workerCode: string | undefined;
  constructor(
    message: string,
    readonly workerIndex: number | undefined,
    readonly workerStack: string | undefined,
    options?: { cause?: unknown; name?: string; code?: string | null },
  ) {
    super(workerIndex === undefined ? message : `worker ${workerIndex}: ${message}`, options);
    this.workerName = options?.name;
    this.workerCode = options?.code ?? undefined;
  }
}

/**
 * Any failure of worker `index` (undefined: unknown) as a `WorkerError`
 * naming it: a link's own WorkerError (it knows the worker, not its index),
 * a RemoteError the worker sent, or any thrown value (`throw null` too).
 */
export function asWorkerError(err: unknown, index: number | undefined): WorkerError {
  if (err instanceof WorkerError) {
    if (err.workerIndex === index) return err;
    const message = err.workerIndex === undefined ? err.message : err.message.replace(/^worker \d+: /, '');
    return new WorkerError(message, index, err.workerStack, { cause: err, name: err.workerName, code: err.workerCode });
  }
  if (err instanceof RemoteError) {
    return new WorkerError(err.message, index, err.remoteStack, { cause: err, name: err.remoteName, code: err.remoteCode });
  }
  const { message, stack, name, code } = toErrorData(err);
  return new WorkerError(message, index, stack ?? undefined, { cause: err, name, code: code ?? undefined });
}

/** A peer failed authentication. */
export class AuthError extends RxwireError {
  readonly code = ErrorCode.AUTH;
}

/**
 * Messages were lost on a link that cannot replay them (NATS core drops
 * messages for a slow consumer or across a server restart): the message with
 * sequence number `expected` never came, `got` came instead. The stream ends
 * with this error after the values that came before the hole, never with a
 * hole delivered in silence.
 */
export class GapError extends RxwireError {
  readonly code = ErrorCode.GAP;
  constructor(
    readonly expected: number,
    readonly got: number,
    message: string,
  ) {
    super(message);
  }
}

/** A point-to-point channel name that already has its two ends (a third opener gets this), an end opened a second time (`open`: one WireSubject per end), or a TCP channel name opened twice on one connection. */
export class ChannelTakenError extends RxwireError {
  readonly code = ErrorCode.CHANNEL_TAKEN;
}

/**
 * Nobody listens where a request was sent: no member of a NATS service
 * (`nats/serve`) is subscribed to its subject. `subject` names it.
 */
export class NoRespondersError extends RxwireError {
  readonly code = ErrorCode.NO_RESPONDERS;
  constructor(
    readonly subject: string,
    options?: { cause?: unknown },
  ) {
    super(`no responders on ${subject}: no member of the service is running`, options);
  }
}

/**
 * A process could not join its cluster: the processes disagree on its shape
 * (`processes`, `workers`), two claim one index, or more processes than
 * `processes` came under one cluster name (a stray, or a cluster already
 * running under that name).
 */
export class ClusterError extends RxwireError {
  readonly code = ErrorCode.CLUSTER;
}

/** An error as it crosses the wire. */
export interface ErrorData {
  name: string;
  message: string;
  code: string | null;
  stack: string | null;
}

/** A failure that came from the other side (a worker, a peer), not from this thread's own writing. */
export function isRemote(err: unknown): boolean {
  return err instanceof WorkerError || err instanceof RemoteError;
}

/**
 * Did `wire` fail by this thread's own writing (a value that did not encode
 * or fit: `EncodeError`, `FrameError`), not by its peer's? Once the peer has
 * completed its side, such a failure reaches no subscriber (RxJS delivers one
 * ending), so a writer checks it after `next`; its error is `thrownError`.
 */
export function failedHere(wire: { readonly hasError: boolean; readonly thrownError: unknown }): boolean {
  return wire.hasError && !isRemote(wire.thrownError);
}

/**
 * Turns anything thrown (or passed to `error()`) into the data that crosses
 * the wire, keeping what a receiver can use (docs/PROTOCOL.md, "Errors as
 * data"):
 * - an `Error`: its name, message, `code` (a string, or a number as its
 *   decimal text) and stack;
 * - a string: the string is the message (`error('boom')` arrives as `boom`);
 * - any other value: the message is its `message`, else its `reason` (when a
 *   string), else its JSON text; the code is its `code` as above; the name is
 *   its `name` when a string, else `Error`; and the stack field carries the
 *   value's JSON text (null when it has none), so
 *   `error({ code: 1337, reason: 'x' })` arrives with message `x`,
 *   `remoteCode` `'1337'` and `remoteStack` `{"code":1337,"reason":"x"}`.
 * It never throws: an Error's field that is not a string is carried as its
 * text (`name: 42` → `"42"`), and a value whose fields cannot be read at all
 * (a getter that throws) as a generic Error saying so — an ending must go out.
 * For the same reason each text is made well-formed: a lone UTF-16 surrogate
 * (`new Error('bad "\uD800"')`, a map key in an EncodeError's path), which
 * the codec refuses in any string, becomes U+FFFD.
 */
export function toErrorData(err: unknown): ErrorData {
  let data: ErrorData;
  try {
    data = dataOf(err);
  } catch {
    return { name: 'Error', message: 'a thrown value whose fields cannot be read', code: null, stack: null };
  }
  const { name, message, code, stack } = data;
  return { name: whole(name), message: whole(message), code: code === null ? null : whole(code), stack: stack === null ? null : whole(stack) };
}

/** The text of any thrown value, for a message that quotes it: an Error's message, a string, else its JSON or a short rendering (`null` → "null"). Never throws. */
export function messageOf(err: unknown): string {
  return toErrorData(err).message;
}

/** `text` with each lone surrogate replaced by U+FFFD (`String.prototype.toWellFormed`, ES2024: Node 20 has it, the project's `lib` does not declare it). */
function whole(text: string): string {
  return (text as unknown as { toWellFormed(): string }).toWellFormed();
}

function dataOf(err: unknown): ErrorData {
  if (err instanceof RemoteError) {
    // Forwarding a remote error keeps the original remote identity.
    return { name: err.remoteName, message: err.message, code: err.remoteCode ?? null, stack: err.remoteStack ?? null };
  }
  if (err instanceof Error) {
    const stack = err.stack;
    return { name: textOf(err.name, 'Error'), message: textOf(err.message, ''), code: codeOf(err), stack: stack == null ? null : textOf(stack, null) };
  }
  if (typeof err === 'string') return { name: 'Error', message: err, code: null, stack: null };
  const json = jsonOf(err);
  // An error of another realm (a worker's, as its 'error' event rebuilds it) is no `instanceof Error` here: its stack is kept.
  const fields = typeof err === 'object' && err !== null ? (err as { name?: unknown; message?: unknown; reason?: unknown; stack?: unknown }) : {};
  const message = typeof fields.message === 'string' ? fields.message : typeof fields.reason === 'string' ? fields.reason : (json ?? describe(err));
  return { name: typeof fields.name === 'string' ? fields.name : 'Error', message, code: codeOf(err), stack: typeof fields.stack === 'string' ? fields.stack : json };
}

/** `value` if a string; else its text (`String`), or `fallback` when it is undefined or has none. */
function textOf<F extends string | null>(value: unknown, fallback: F): string | F {
  if (typeof value === 'string') return value;
  if (value === undefined) return fallback;
  try {
    return String(value);
  } catch {
    return fallback;
  }
}

/** A thrown value's `code` as the wire carries it: a string as is, a finite number as its decimal text. */
function codeOf(err: unknown): string | null {
  if (typeof err !== 'object' || err === null) return null;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  if (typeof code === 'number' && Number.isFinite(code)) return String(code);
  return null;
}

/** `JSON.stringify(value)`, or null when the value has no JSON text (undefined, a function, a cycle, a bigint). */
function jsonOf(value: unknown): string | null {
  try {
    return JSON.stringify(value) ?? null;
  } catch {
    return null;
  }
}

/** A short, safe rendering of a value for error messages. */
export function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value !== 'object' || value === null) return String(value);
  if (Buffer.isBuffer(value)) return `Buffer(${value.length})`;
  if (Array.isArray(value)) return `array(${value.length})`;
  return `object ${value.constructor?.name ?? 'Object'}`;
}

/* Processes (rxwire/processes) */
