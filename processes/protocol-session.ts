/**
 * Speaking a typed protocol over two processes' mailboxes: `connect` opens
 * a session with another process, `accept` takes one that another process
 * opens. Each hands back the state of the first step (processes/protocol-types.ts);
 * each state's method sends or receives one {@link ProtocolMail} and hands
 * back the next state.
 *
 * ## Example
 * ```ts
 * import { codec } from 'rxwire';
 * import { accept, connect, end, entry, protocol, ProtocolMail, recv, send } from 'rxwire/processes';
 * const Num = codec('double');
 * export const Doubling = protocol('doubling', send(Num, recv(Num, end)));
 *
 * export const doubler = entry(__filename, 'doubler', { capture: codec('null'), mailbox: ProtocolMail }, async (_, mailbox, self) => {
 *   const [n, answer] = await (await accept(Doubling.dual(), { self, mailbox })).receive();
 *   await answer.send(n * 2).close();
 * });
 * // in another process, with `doubler` a handle to a doubler process:
 * const [twice, done] = await connect(Doubling, { self, mailbox }, doubler).send(21).receive();
 * await done.close();
 * ```
 *
 * Failure: each side monitors the other. If the other side's process ends
 * before `End` (normally or not), drops the session (`ProtocolDroppedError`
 * after a timeout or a bad message there), or sends a message out of step,
 * the waiting `receive` / `offer` / `close` rejects with
 * `ProtocolDroppedError` (or `ProtocolError` for a message out of step,
 * and the other side is told with a DROP), never hangs; a `send` after that
 * throws the same error. A session that has ended on one side (closed, or
 * failed) leaves nothing behind in that process's mailbox: its messages
 * still queued there go, and those the other side sends before it hears
 * arrive and are dropped (the mailbox remembers the last 256 sessions so
 * ended), so a long-lived acceptor whose clients time out does not fill up.
 */
import { Buffer } from 'node:buffer';
import { randomInt } from 'node:crypto';
import { raw } from '../core/codec';
import { messageOf, ProtocolDroppedError, ProtocolError } from '../core/errors';
import { OPTIONS, receiveOptions } from './checks';
import { resolveStep, type AnyStep, type Protocol } from './protocol';
import { OPEN_TAG, ProtocolMail, type ProtocolMailKind } from './protocol-mail';
import type { Endpoint, ProtocolReceiveOptions, Step } from './protocol-types';
import type { Mailbox, Monitor, Process, ProcessRef, Self } from './types';
import { sameRef } from './ref';
import { MailboxImpl } from './mailbox';

/** The process that speaks: its own handle and its mailbox (of {@link ProtocolMail}). */
export interface Speaker {
  readonly self: Self<ProtocolMail, any>;
  readonly mailbox: Mailbox<ProtocolMail, any>;
}

/** Options of {@link accept}. */
export interface AcceptOptions {
  /** Milliseconds to wait for a process to open a session; then `TimeoutError`. Default: no limit. */
  timeout?: number;
}

const EMPTY = Buffer.alloc(0);

/**
 * Opens a session of `protocol` with `peer` (a process whose mailbox is
 * {@link ProtocolMail} and that will `accept` the dual protocol), and gives
 * the state of its first step. Nothing waits: the OPEN message goes out
 * now, and a peer that speaks another protocol answers with a DROP that the
 * first `receive` (or `close`) rejects with as `ProtocolDroppedError`.
 *
 * @param protocol the protocol, as this side speaks it
 * @param speaker this process (`self`, `mailbox`)
 * @param peer a handle to the other side
 * @returns the state of the first step
 */
export function connect<S extends Step>(protocol: Protocol<S>, speaker: Speaker, peer: Process<ProtocolMail, any>): Endpoint<S> {
  // Both ends would share one mailbox and one tag: the opener would take its own messages as the answers.
  if (sameRef(speaker.self.ref, peer.ref)) throw new ProtocolError(`"${protocol.name}": a process cannot open a session with itself`);
  const tag = randomInt(1, OPEN_TAG);
  // Sent before the session (and its monitor of the peer) is made: a send that throws leaves nothing behind.
  peer.tagSend(OPEN_TAG, { kind: 'OPEN', session: tag, step: 0, label: protocol.fingerprint, payload: EMPTY, from: speaker.self.ref });
  return stateOf(new Session(protocol.name, tag, speaker.mailbox, peer), protocol.start);
}

/**
 * Takes the next session that another process opens with this one
 * (`connect` with the dual of `protocol`), and gives the state of its
 * first step. Rejects with `ProtocolError` when the opener speaks another
 * protocol (the opener is told: its session fails with
 * `ProtocolDroppedError`), and with `TimeoutError` after `options.timeout`.
 *
 * @param protocol the protocol, as this side speaks it
 * @param speaker this process (`self`, `mailbox`)
 */
export async function accept<S extends Step>(protocol: Protocol<S>, speaker: Speaker, options: AcceptOptions = {}): Promise<Endpoint<S>> {
  const { timeout } = receiveOptions(options, 'accept', { timeout: true }); // a misspelt key: TypeError, not "no limit"
  const open = await speaker.mailbox.receive({ tags: [OPEN_TAG], timeout });
  if (open.kind !== 'OPEN' || open.from === null) {
    throw new ProtocolError(`"${protocol.name}": expected an OPEN message on the open tag, got ${open.kind}`);
  }
  const peer = speaker.self.handle<ProtocolMail, any>(open.from, { capture: raw, mailbox: ProtocolMail });
  const session = new Session(protocol.name, open.session, speaker.mailbox, peer);
  if (open.label !== protocol.dual().fingerprint) {
    const err = new ProtocolError(`"${protocol.name}": the opening process speaks another protocol (fingerprint ${open.label.slice(0, 12)}…)`);
    session.abandon(err, 'the accepting process speaks another protocol');
    throw err;
  }
  return stateOf(session, protocol.start);
}


/** One session between this process and a peer: the messages of one tag, both ways, in step. */
class Session {
  private sent = 0;
  private received = 0;
  /** Set with `failure` (which may be any value a signal was aborted with, null included). */
  private over = false;
  private failure: unknown;
  private readonly monitor: Monitor;
  /** Rejects with the failure once the session fails (a handler is attached, so it never goes unhandled). */
  private readonly failed: Promise<never>;
  private rejectFailed!: (err: unknown) => void;

  constructor(
    readonly name: string,
    readonly tag: number,
    private readonly mailbox: Mailbox<ProtocolMail, any>,
    private readonly peer: Process<ProtocolMail, any>,
  ) {
    this.failed = new Promise<never>((_, reject) => (this.rejectFailed = reject));
    this.failed.catch(() => {});
    this.monitor = peer.monitor();
    this.monitor.died.then((died) => {
      // What the peer sent before it ended is in the mailbox before its ProcessDied (one
      // sender's messages and signals arrive in order), but a waiting receive may need a
      // few more turns to hand it over: the failure waits one turn of the event loop, so
      // a CLOSE or DROP that came first is taken first.
      setImmediate(() =>
        this.fail(new ProtocolDroppedError(`"${name}": the other side's process ended (${died.reason}) before the end of the protocol`, died.reason)),
      );
    });
  }

  /** Sends one message of this session; one the peer's mailbox or link refuses (it throws) is not counted: nothing went. */
  post(kind: ProtocolMailKind, label = '', payload: Buffer = EMPTY): void {
    if (this.over) throw this.failure;
    this.peer.tagSend(this.tag, { kind, session: this.tag, step: this.sent, label, payload, from: null });
    this.sent++;
  }

  /** The next message of this session, which must be a `kind` one. */
  async take(kind: ProtocolMailKind, options: ProtocolReceiveOptions): Promise<ProtocolMail> {
    if (this.over) throw this.failure;
    // If the session fails first, the receive is called off: its waiter would otherwise stay in the mailbox for good.
    // The caller's signal calls it off too (and so drops the session, as a timeout does).
    const { timeout, signal } = options;
    const callOff = new AbortController();
    const relay = (): void => callOff.abort(signal!.reason);
    if (signal?.aborted) relay();
    else signal?.addEventListener('abort', relay, { once: true });
    const next = this.mailbox.receive({ tags: [this.tag], timeout, signal: callOff.signal });
    next.catch(() => {}); // it then rejects with the abort, unheard
    let mail: ProtocolMail;
    try {
      mail = await Promise.race([next, this.failed]);
    } catch (err) {
      callOff.abort();
      this.abandon(err, messageOf(err));
      throw this.failure;
    } finally {
      signal?.removeEventListener('abort', relay);
    }
    if (mail.kind === 'DROP') {
      this.fail(new ProtocolDroppedError(`"${this.name}": the other side dropped the session: ${mail.label}`, 'dropped'));
      this.monitor.cancel(); // the session is over: its monitor of the peer goes (it stayed, one per dropped session)
      throw this.failure;
    }
    if (mail.kind !== kind || mail.step !== this.received) {
      const err = new ProtocolError(`"${this.name}": expected ${kind} #${this.received}, got ${mail.kind} #${mail.step}`);
      this.abandon(err, err.message);
      throw err;
    }
    this.received++;
    return mail;
  }

  /** The session is over at both ends: the monitor goes. */
  finish(): void {
    this.monitor.cancel();
    this.fail(new ProtocolError(`"${this.name}": the session is over`));
  }

  /** Ends the session on this side with `err`, and tells the other side why (a DROP), unless it failed already. */
  abandon(err: unknown, why: string): void {
    if (this.over) return;
    try {
      this.post('DROP', why);
    } catch {
      // the peer's mailbox is full or its node closed: its monitor of this process still tells it
    }
    this.fail(err);
    this.monitor.cancel();
  }

  /** Ends the session on this side; what the peer sent, or still sends, on its tag is dropped (nobody will take it). */
  private fail(err: unknown): void {
    if (this.over) return;
    this.over = true;
    this.failure = err;
    this.rejectFailed(err);
    if (this.mailbox instanceof MailboxImpl) this.mailbox.discard(this.tag);
  }
}

/** Each state may be used once. */
function unused(state: { used: boolean; session: Session }, method: string): void {
  if (state.used) throw new ProtocolError(`"${state.session.name}": ${method}() on a state already used (use the state it returned)`);
}

/** Checks a receive's options at the door: one that is refused leaves the state, and the session, as they were. */
function receiveArgs(state: State, method: string, options: ProtocolReceiveOptions | undefined): ProtocolReceiveOptions {
  unused(state, method);
  const { timeout, signal } = receiveOptions(options, `"${state.session.name}": ${method}`, OPTIONS.receiveSignal);
  state.used = true;
  return { timeout, signal };
}

/** The state object of `node`: only the method of its step works (the type shows only that one). */
function stateOf<S>(session: Session, node: AnyStep): Endpoint<S> {
  return new State(session, resolveStep(node)) as unknown as Endpoint<S>;
}

class State {
  used = false;
  constructor(
    readonly session: Session,
    private readonly step: Step,
  ) {}

  send(value: unknown): unknown {
    const step = this.expect('send');
    const payload = step.codec.encode(value); // an EncodeError leaves this state usable
    unused(this, 'send');
    this.session.post('VALUE', '', payload); // so does a FrameError or MailboxFullError: nothing went
    this.used = true;
    return stateOf(this.session, step.next);
  }

  async receive(options?: ProtocolReceiveOptions): Promise<[unknown, unknown]> {
    const step = this.expect('recv');
    const mail = await this.session.take('VALUE', receiveArgs(this, 'receive', options));
    let value: unknown;
    try {
      value = step.codec.decode(mail.payload);
    } catch (err) {
      this.session.abandon(err, `a value that does not decode: ${messageOf(err)}`);
      throw err;
    }
    return [value, stateOf(this.session, step.next)];
  }

  choose(label: string): unknown {
    const step = this.expect('choose');
    const next = (step.branches as Record<string, AnyStep>)[label];
    if (!Object.hasOwn(step.branches, label)) throw new ProtocolError(`"${this.session.name}": no branch ${JSON.stringify(label)} to choose`);
    unused(this, 'choose');
    this.session.post('CHOICE', label);
    this.used = true;
    return stateOf(this.session, next);
  }

  async offer(options?: ProtocolReceiveOptions): Promise<{ label: string; next: unknown }> {
    const step = this.expect('offer');
    const mail = await this.session.take('CHOICE', receiveArgs(this, 'offer', options));
    if (!Object.hasOwn(step.branches, mail.label)) {
      const err = new ProtocolError(`"${this.session.name}": the other side chose ${JSON.stringify(mail.label)}, which is not offered`);
      this.session.abandon(err, err.message);
      throw err;
    }
    return { label: mail.label, next: stateOf(this.session, (step.branches as Record<string, AnyStep>)[mail.label]) };
  }

  async close(options?: ProtocolReceiveOptions): Promise<void> {
    this.expect('end');
    const args = receiveArgs(this, 'close', options);
    try {
      this.session.post('CLOSE');
    } catch (err) {
      this.used = false; // nothing went: the state may be closed again
      throw err;
    }
    await this.session.take('CLOSE', args);
    this.session.finish();
  }

  /** This state's step, which must be a `op` one (a JavaScript caller may call any method). */
  private expect<Op extends Step['op']>(op: Op): Extract<Step, { op: Op }> {
    if (this.step.op !== op) throw new ProtocolError(`"${this.session.name}": this step is ${this.step.op}, not ${op}`);
    return this.step as Extract<Step, { op: Op }>;
  }
}
