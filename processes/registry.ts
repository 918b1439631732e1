/**
 * The names of a node's processes, kept by the node's own thread (every
 * other thread asks it with REGISTER, LOOKUP and UNREGISTER envelopes). A
 * name is freed when its process ends (its host says UNREGISTER) or its
 * thread dies. Registering a name whose holder is still recorded asks the
 * holder's thread whether it is alive first: its UNREGISTER, sent before
 * anything else learned of the end, then cannot lose a race with a new
 * registration.
 */
import { NameTakenError, ProcessExitedError } from '../core/errors';
import type { ProcessRef } from './types';

/** A node's names. */
export class Registry {
  private readonly names = new Map<string, ProcessRef>();
  /** Per name, the registration in progress (they run one after another). */
  private readonly busy = new Map<string, Promise<void>>();

  constructor(
    private readonly alive: (ref: ProcessRef) => Promise<boolean>,
    /** Tells `ref`'s thread that it holds `name` (so it frees it when it ends). */
    private readonly named: (ref: ProcessRef, name: string) => void,
  ) {}

  /**
   * Registers `ref` as `name`.
   * @throws NameTakenError when a live process holds it; ProcessExitedError when `ref` has ended
   */
  register(name: string, ref: ProcessRef): Promise<void> {
    const before = this.busy.get(name) ?? Promise.resolve();
    const done = before.then(() => this.claim(name, ref));
    const settled = done.then(
      () => undefined,
      () => undefined,
    );
    this.busy.set(name, settled);
    void settled.then(() => {
      if (this.busy.get(name) === settled) this.busy.delete(name);
    });
    return done;
  }

  private async claim(name: string, ref: ProcessRef): Promise<void> {
    const holder = this.names.get(name);
    if (holder?.id === ref.id) return;
    if (holder && (await this.alive(holder)) && this.names.get(name) === holder) throw new NameTakenError(name);
    if (!(await this.alive(ref))) throw new ProcessExitedError(`register: process ${ref.id} has ended`, 'noproc');
    this.names.set(name, ref);
    this.named(ref, name);
  }

  /** The holder of `name`, if any, once the registrations of `name` in progress have settled. */
  async lookup(name: string): Promise<ProcessRef | undefined> {
    const busy = this.busy.get(name);
    if (busy) await busy;
    return this.names.get(name);
  }

  /** Process `id` ended and held `name`. */
  unregister(name: string, id: number): void {
    if (this.names.get(name)?.id === id) this.names.delete(name);
  }

  /** Every name held on `thread` is freed. */
  threadGone(thread: number): void {
    for (const [name, ref] of [...this.names]) if (ref.thread === thread) this.names.delete(name);
  }
}
