/**
 * The checks at the processes layer's doors that several calls share: a
 * time limit, a registered name, an options object. Each throws the typed
 * error the README promises (TypeError for a wrong type, RangeError for a
 * value out of range) at the call, before anything is queued or sent: a
 * value that failed later, inside a link's queue, would fail far from its
 * caller (and, before these checks, was taken for the other thread's death).
 */
import { Buffer } from 'node:buffer';
import { MAX_TIMER_MS } from '../core/thread-hold';
import { checkKnown } from '../core/options';
import { LONG_MAX } from '../core/codec-long';
import { refOf } from './ref';
import type { LookupOptions, NodeOptions, ProcessRef, ReceiveOptions, RequestOptions, SpawnOptions } from './types';

export { MAX_TIMER_MS };

/** The longest registered name, in UTF-8 bytes (it travels in every REGISTER, LOOKUP and NAMED). */
export const MAX_NAME_BYTES = 1024;

/**
 * A time limit in ms: `undefined` or `Infinity` is none (undefined is
 * returned); otherwise a number from 0 (above 0 with `positive`) to
 * MAX_TIMER_MS.
 */
export function checkTimeout(ms: unknown, what: string, positive = false): number | undefined {
  if (ms === undefined || ms === Number.POSITIVE_INFINITY) return undefined;
  if (typeof ms !== 'number') throw new TypeError(`${what} must be a number of milliseconds (or Infinity: no limit)`);
  if (!(positive ? ms > 0 : ms >= 0) || ms > MAX_TIMER_MS) {
    throw new RangeError(`${what} must be ${positive ? 'above 0' : '0 or more'} and at most ${MAX_TIMER_MS} ms, or Infinity (no limit)`);
  }
  return ms;
}

/** A delay in ms for a timer that must fire: 0 to MAX_TIMER_MS. */
export function checkDelay(ms: unknown, what: string): number {
  if (typeof ms !== 'number' || !(ms >= 0) || ms > MAX_TIMER_MS) throw new RangeError(`${what} must be a number of ms from 0 to ${MAX_TIMER_MS}`);
  return ms;
}

/** A registered name: a non-empty, well-formed string (no lone surrogate) of at most MAX_NAME_BYTES UTF-8 bytes. */
export function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name === '') throw new TypeError(`${what} must be a non-empty string`);
  if (/\p{Cs}/u.test(name)) throw new TypeError(`${what} has a lone surrogate (not a well-formed string)`);
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) throw new RangeError(`${what} is longer than ${MAX_NAME_BYTES} UTF-8 bytes`);
  return name;
}

/** The keys each options argument of this layer takes (core/options.ts): a misspelt one is a TypeError, not ignored. */
export const OPTIONS = {
  request: { timeout: true, tag: true } satisfies Record<keyof RequestOptions, true>,
  receive: { tags: true, timeout: true, signal: true } satisfies Record<keyof ReceiveOptions, true>,
  receiveSignal: { timeout: true, signal: true } satisfies Record<'timeout' | 'signal', true>,
  spawn: { placement: true, link: true, linkTag: true, trapExits: true, name: true, mailboxBound: true, node: true } satisfies Record<keyof SpawnOptions, true>,
  node: { threads: true, id: true, ringBytes: true, wait: true, spinMicros: true } satisfies Record<keyof NodeOptions, true>,
  lookup: { node: true } satisfies Record<keyof LookupOptions, true>,
};

/** An options argument: undefined (none) or an object of the `known` keys; `null` and other values are a TypeError. */
export function checkOptions<T extends object>(options: T | undefined, what: string, known: Readonly<Record<string, true>>): T | Record<string, never> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) throw new TypeError(`${what} must be an object when given`);
  checkKnown(options, known, what);
  return options;
}

/** An `options.signal`: undefined or an AbortSignal. @throws TypeError naming `what` */
export function checkSignal(signal: unknown, what: string): void {
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError(`${what}: options.signal must be an AbortSignal`);
}

/** `receive`'s options, checked: `tags` an array of safe integers, `timeout` as checkTimeout says, `signal` an AbortSignal. */
export function receiveOptions(options: ReceiveOptions | undefined, what: string, known: Readonly<Record<string, true>> = OPTIONS.receive): ReceiveOptions & { tags: readonly number[] | undefined } {
  const { tags, timeout, signal } = checkOptions(options, `${what}: options`, known);
  if (tags !== undefined && (!Array.isArray(tags) || !tags.every((tag) => Number.isSafeInteger(tag)))) {
    throw new TypeError(`${what}: options.tags must be an array of integer tags`);
  }
  checkSignal(signal, what);
  return { tags, timeout: checkTimeout(timeout, `${what}: options.timeout`), signal };
}

/** The mailbox bound when `SpawnOptions.mailboxBound` is not given. */
export const DEFAULT_BOUND = 65_536;

/** A spawn's options (on this node or another), checked, with their defaults. */
export function spawnOptions(options: SpawnOptions, hasParent: boolean) {
  const { link = false, linkTag = 0, trapExits = false, name, mailboxBound = DEFAULT_BOUND } = options;
  if (typeof link !== 'boolean' || typeof trapExits !== 'boolean') throw new TypeError('spawn: options.link and options.trapExits must be booleans');
  if (link && !hasParent) throw new TypeError('spawn: options.link needs a parent process (use self.spawn)');
  if (!Number.isSafeInteger(mailboxBound) || mailboxBound < 1) throw new RangeError('spawn: options.mailboxBound must be a positive integer');
  checkTag(linkTag, 'spawn: options.linkTag');
  if (name !== undefined) checkName(name, 'spawn: options.name');
  return { link, linkTag, trapExits, name, mailboxBound };
}

/**
 * A tag (tagSend, sendAfter, request's, link's, spawn's linkTag): an integer an Avro long carries exactly,
 * from −(2^53 − 2) to 2^53 − 2, as it crosses threads and nodes in one. ±(2^53 − 1) is a safe integer the
 * long refuses: refused here, on every thread, not only once it has to cross.
 * @throws TypeError when `tag` is not an integer; RangeError when it is out of that range
 */
export function checkTag(tag: unknown, what: string): number {
  if (!Number.isInteger(tag)) throw new TypeError(`${what} must be an integer`);
  if (Math.abs(tag as number) > LONG_MAX) throw new RangeError(`${what} must be from -(2^53 - 2) to 2^53 - 2 (an Avro long), got ${String(tag)}`);
  return tag as number;
}

/** A copy of `ref` (a plain ProcessRef), its parts checked: a TypeError or RangeError naming the part. */
export function checkRef(ref: ProcessRef, what: string): ProcessRef {
  if (typeof ref?.node !== 'string' || ref.node === '') throw new TypeError(`${what}: ${JSON.stringify(ref?.node)} is not a node id`);
  if (!Number.isSafeInteger(ref.id) || ref.id < 0) throw new RangeError(`${what}: process id ${ref.id} is not a non-negative safe integer`);
  if (!Number.isSafeInteger(ref.thread) || ref.thread < 0) throw new RangeError(`${what}: thread ${ref.thread} is not a thread index`);
  const { incarnation } = ref;
  if (!Number.isInteger(incarnation) || incarnation < 1 || incarnation >= 2 ** 31) throw new RangeError(`${what}: incarnation ${incarnation} is not an integer from 1 to 2^31 - 1`);
  return refOf(ref.node, ref.thread, ref.id, incarnation);
}
