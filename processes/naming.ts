/**
 * Names, as every thread of a node takes part in them: the spawner
 * registers the name of a process it spawns; the node's own thread keeps
 * the registry (processes/registry.ts) and answers REGISTER and LOOKUP,
 * asked in place there or by envelope from the other threads; a host
 * starts a process spawned with a name when told the name is its (NAMED),
 * and frees its names when it ends.
 */
import { NameTakenError, NodeClosedError, ProcessExitedError, toErrorData, type ErrorData } from '../core/errors';
import { Bonds } from './bonds';
import { Calls } from './calls';
import { envelope, errorBody, Kind, type Envelope } from './envelope';
import type { Mesh } from './ops';
import type { Proc } from './proc';
import { Registry } from './registry';
import type { ProcessRef } from './types';

/** The naming side of a thread's scheduler. */
export abstract class Naming extends Bonds {
  readonly calls = new Calls();
  /** The node's names (on the node's own thread only). */
  readonly registry: Registry | null;

  constructor(node: string, thread: number, counts: Int32Array, mesh: Mesh, threads: number, incarnation: number) {
    super(node, thread, counts, mesh, threads, incarnation);
    this.registry = thread === threads ? new Registry((ref) => this.isAlive(ref), (ref, name) => this.named(ref, name)) : null;
  }

  /** Whether process `ref` is alive (asked of its thread). */
  abstract isAlive(ref: ProcessRef): Promise<boolean>;

  /** The holder of `name` in the node's registry. */
  protected lookupRef(name: string): Promise<ProcessRef | undefined> {
    return this.ask(Kind.LOOKUP, { text: name }, (e) => (e.n < 0 ? undefined : this.refAt(e.n, e.from)));
  }

  /**
   * Adds `proc`; one spawned with a name starts only once the name is its
   * ({@link nameSettled}), else it ends, `noproc`, with the NameTakenError.
   */
  admitNamed(proc: Proc, named: boolean): void {
    if (!named) return this.admit(proc);
    this.procs.set(proc.id, proc);
    Atomics.add(this.counts, this.thread, 1);
    proc.waitsForName = true;
  }

  /**
   * The spawner registers the name of a process it spawns, at once: its
   * REGISTER reaches the registry before anything it asks later (a `lookup`
   * straight after the spawn waits for it there), wherever the process runs.
   * The registry tells the host the outcome (NAMED), which starts the process.
   */
  claimAtSpawn(ref: ProcessRef, name: string): void {
    this.ask(Kind.REGISTER, { from: ref.id, n: ref.thread, text: name, tag: 1 }, () => undefined).catch(() => undefined);
  }

  /** The name a process waits for at its start is its (`error` null), or refused: it starts, or ends `noproc`. */
  nameSettled(proc: Proc, name: string, error: ErrorData | null): void {
    if (error) return this.exit(proc, 'noproc', error);
    (proc.names ??= []).push(name);
    if (proc.waitsForName) {
      proc.waitsForName = false;
      this.ready(proc);
    }
  }

  register(ref: ProcessRef, name: string): Promise<void> {
    return this.ask(Kind.REGISTER, { from: ref.id, n: ref.thread, text: name }, () => undefined);
  }

  /** A question for the node's own thread (the registry): answered in place there, else by an ANSWER envelope. */
  protected async ask<T>(kind: number, fields: Partial<Envelope>, read: (answer: Envelope) => T): Promise<T> {
    if (this.closing) throw new NodeClosedError('the node is closed');
    let got: Envelope;
    if (this.registry) got = await this.answerHome(envelope(kind, fields));
    else {
      const [call, answer] = this.calls.start<Envelope>(this.threads, undefined, 'registry', () => new NodeClosedError('the node is closed'));
      this.mesh.post(this.threads, envelope(kind, { ...fields, call }));
      got = await answer;
    }
    if (got.text === 'NameTakenError') throw new NameTakenError(fields.text!);
    if (got.text === 'ProcessExitedError') throw new ProcessExitedError(`register: process ${fields.from} has ended`, 'noproc');
    return read(got);
  }

  /**
   * On the node's own thread: the ANSWER to a REGISTER or LOOKUP (`text` is
   * the name of the error that refused it, or empty).
   */
  async answerHome(question: Envelope): Promise<Envelope> {
    const registry = this.registry!;
    if (question.kind === Kind.LOOKUP) {
      const ref = await registry.lookup(question.text);
      return envelope(Kind.ANSWER, { call: question.call, n: ref ? ref.thread : -1, from: ref ? ref.id : 0 });
    }
    const ref = this.refAt(question.n, question.from);
    try {
      await registry.register(question.text, ref);
      return envelope(Kind.ANSWER, { call: question.call });
    } catch (err) {
      if (question.tag === 1) this.refused(ref, question.text, toErrorData(err));
      return envelope(Kind.ANSWER, { call: question.call, text: (err as Error).name });
    }
  }

  /** Process `ref` now holds `name` (told by the registry). */
  named(ref: ProcessRef, name: string): void {
    if (ref.thread !== this.thread) return this.mesh.post(ref.thread, envelope(Kind.NAMED, { to: ref.id, text: name }));
    const proc = this.procs.get(ref.id);
    if (proc) this.nameSettled(proc, name, null);
    else this.unname(name, ref.id);
  }

  /** The name asked for process `ref` at its spawn is refused (told by the registry): it ends without starting. */
  private refused(ref: ProcessRef, name: string, error: ErrorData): void {
    // The name travels too (up to 1 KiB of text, 3 bytes a char at most): the error gives it room, so the envelope fits small rings.
    const room = Math.max(128, this.errorBytes - 3 * name.length);
    if (ref.thread !== this.thread) return this.mesh.post(ref.thread, envelope(Kind.NAMED, { to: ref.id, text: name, n: 1, body: errorBody(error, room) }));
    const proc = this.procs.get(ref.id);
    if (proc) this.nameSettled(proc, name, error);
  }

  /** Frees `name`, held by process `id` of this thread, which ended. */
  unname(name: string, id: number): void {
    if (this.registry) this.registry.unregister(name, id);
    else if (!this.closing) this.mesh.post(this.threads, envelope(Kind.UNREGISTER, { from: id, text: name }));
  }
}
