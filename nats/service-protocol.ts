/**
 * The wire of NATS services, shared by `serve` (service.ts) and `client`
 * (service-client.ts): subjects, header names and the error headers.
 * docs/PROTOCOL.md, "NATS services and subjects", gives every rule; in short:
 *
 *   client ──▶ <prefix>svc.<name>          REQUEST: body = request bytes, reply = R
 *                                          (queue group: one member gets it)
 *   member ──▶ R                           Rxwire-Kind: ack | reply | next | complete | error,
 *                                          NATS reply field = the member's control subject M
 *                                          (probe: body = M, reply = an inbox of the member; "no responders" twice = the client is gone)
 *   client ──▶ M                           Rxwire-Kind: cancel | credit | ping, NATS reply field = R
 *                                          (ping: reply = an inbox for the pong)
 *
 * R, the reply subject, is unique per request: it names the request on the
 * member's side (a retried request keeps its R, so a member that gets it
 * twice runs it once).
 */
import { Buffer } from 'node:buffer';
import { createInbox, headers, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { FrameError, TransportClosedError, type ErrorData } from '../core/errors';
import { checkSubject } from '../transports/nats/subject';

/** Header names, matched exactly (case included) when read. */
export const Header = {
  /** What a message is (see {@link Kind}); absent on a request. */
  KIND: 'Rxwire-Kind',
  /** On a request: `1` asks the member for an ACK at once and for control messages on its subject M. */
  ACK: 'Rxwire-Ack',
  /** The fingerprint of the body's schema: the request codec's on a request, the reply codec's on reply and next. */
  SCHEMA: 'Rxwire-Schema',
  /** On error: the error's name, message and code (code absent when it has none); its stack is the body. */
  ERROR_NAME: 'Rxwire-Error-Name',
  ERROR_MESSAGE: 'Rxwire-Error-Message',
  ERROR_CODE: 'Rxwire-Error-Code',
  /** On credit: how many more NEXTs the member may send for the request (decimal, > 0). */
  CREDIT: 'Rxwire-Credit',
  /** On next: its number among the request's NEXTs, from 1; on complete: how many NEXTs were sent. */
  SEQ: 'Rxwire-Seq',
} as const;

/** The values of `Rxwire-Kind`. */
export const Kind = {
  ACK: 'ack',
  REPLY: 'reply',
  NEXT: 'next',
  COMPLETE: 'complete',
  ERROR: 'error',
  CANCEL: 'cancel',
  CREDIT: 'credit',
  PING: 'ping',
  PROBE: 'probe',
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

/** The subject of service `name`: `<prefix>svc.<name>`. */
export function serviceSubject(prefix: string, name: string): string {
  return `${prefix}svc.${name}`;
}

/**
 * Is `subject` the control subject M of a member of the service whose
 * subject is `service`: `<service>.member.` and a NUID (22 characters
 * `[0-9A-Za-z]`)? A client sends control messages nowhere else, so a forged
 * reply subject or probe body cannot make it publish to any subject it names.
 */
export function isMemberSubject(service: string, subject: string | undefined): subject is string {
  return subject !== undefined && subject.length === service.length + MEMBER_SUFFIX && subject.startsWith(service) && subject.startsWith(MEMBER_INFIX, service.length) && NUID.test(subject.slice(-NUID_LENGTH));
}
const MEMBER_INFIX = '.member.';
const NUID_LENGTH = 22;
const NUID = /^[0-9A-Za-z]{22}$/;
/** What a member's M adds to its service's subject: `.member.` and the NUID (ASCII: as many bytes). */
export const MEMBER_SUFFIX = MEMBER_INFIX.length + NUID_LENGTH;

/** A new inbox under the connection's own inbox prefix (a connect option: permissions often allow only it; not in its declared type). */
export function inboxOf(nc: NatsConnection): string {
  return createInbox((nc as { options?: { inboxPrefix?: string } }).options?.inboxPrefix);
}

/** The control subject of one member of service `name`: `<prefix>svc.<name>.member.<id>`. */
export function memberSubject(prefix: string, name: string, id: string): string {
  return `${prefix}svc.${name}.member.${id}`;
}

/** Headers with `Rxwire-Kind: kind` (and `Rxwire-Schema`, `Rxwire-Seq` when given). */
export function kindHeaders(kind: Kind, schema?: string, seq?: number): MsgHdrs {
  const h = headers();
  h.set(Header.KIND, kind);
  if (schema !== undefined) h.set(Header.SCHEMA, schema);
  if (seq !== undefined) h.set(Header.SEQ, String(seq));
  return h;
}

/** The headers of an error message: kind, name, message and code. Its stack goes in the body. */
export function errorHeaders(error: ErrorData): MsgHdrs {
  const h = kindHeaders(Kind.ERROR);
  h.set(Header.ERROR_NAME, escape(error.name));
  h.set(Header.ERROR_MESSAGE, escape(error.message));
  if (error.code !== null) h.set(Header.ERROR_CODE, escape(error.code));
  return h;
}

/** The error an error message carries (the body is its stack, UTF-8; empty: none). */
export function errorOf(h: MsgHdrs | undefined, body: Uint8Array): ErrorData {
  const code = h?.get(Header.ERROR_CODE);
  return {
    name: unescape(h?.get(Header.ERROR_NAME) || 'Error'),
    message: unescape(h?.get(Header.ERROR_MESSAGE) ?? ''),
    code: code ? unescape(code) : null,
    stack: body.length > 0 ? Buffer.from(body.buffer, body.byteOffset, body.length).toString('utf8') : null,
  };
}

/** The body of an error message: its stack as UTF-8, or nothing. */
export function errorBody(error: ErrorData): Uint8Array {
  return error.stack === null ? EMPTY : Buffer.from(error.stack, 'utf8');
}

export const EMPTY = new Uint8Array(0);

/** The most reply subjects one ping asks about (its body stays far below 1 MiB). */
export const PING_MOST = 10_000;

/** What a ping's line must be to be answered: a NATS subject of printable ASCII without wildcards, at most 1,024 characters. */
export const REPLY_SUBJECT = /^(?=.{1,1024}$)[!-)+,\-/-=?-~]+(?:\.[!-)+,\-/-=?-~]+)*$/;

/** Publishes, and drops what the connection refuses (closed, over max_payload): for answers nobody is owed. */
export function publishQuietly(nc: NatsConnection, subject: string, body: Uint8Array): void {
  try {
    nc.publish(subject, body);
  } catch {
    // the asker times out, as on any lost answer
  }
}

/**
 * A header value cannot hold CR or LF: `%`, CR and LF are written `%25`,
 * `%0D` and `%0A` (every other character as it is, UTF-8).
 */
function escape(text: string): string {
  return text.replace(/[%\r\n]/g, (c) => (c === '%' ? '%25' : c === '\r' ? '%0D' : '%0A'));
}

function unescape(text: string): string {
  return text.replace(/%(25|0D|0A)/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Was `msg` the server's "no responders" status (503, empty body)? */
export function isNoResponders(h: MsgHdrs | undefined, body: Uint8Array): boolean {
  return body.length === 0 && h?.code === 503;
}

/**
 * Why the client refused a publish: `FrameError` naming both sizes when the message — its body and its headers, as
 * NATS counts them — is over the server's `max_payload`.
 */
export function tooLarge(nc: NatsConnection, err: unknown, body: Uint8Array, h?: MsgHdrs): Error {
  const size = body.length + (h ? (h as MsgHdrs & { encode(): Uint8Array }).encode().length : 0);
  const max = nc.info?.max_payload;
  if (max !== undefined && size > max) return new FrameError(`the message is ${size} bytes, over the server's max_payload of ${max} bytes`, { cause: err });
  return new TransportClosedError(`the NATS connection refused the message: ${(err as Error).message}`, { cause: err });
}

/**
 * Checks a service name: a NATS subject without wildcards.
 * @throws TypeError naming `api`
 */
export function checkServiceName(api: string, name: unknown): asserts name is string {
  if (isLiteralSubject(name)) return;
  checkSubject(api, name);
  throw new TypeError(`${api}: a service name cannot hold wildcards (* or >), not ${JSON.stringify(name)}`);
}

/** Is `name` a NATS subject without wildcards: dot-separated non-empty tokens, no whitespace, no token `*` or `>`? */
function isLiteralSubject(name: unknown): name is string {
  return typeof name === 'string' && name !== '' && !/\s/.test(name) && name.split('.').every((t) => t !== '' && t !== '*' && t !== '>');
}
