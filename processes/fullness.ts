/**
 * A mailbox's bound across threads. A send on the same thread sees the
 * target's mailbox and refuses at its bound; one from another thread cannot,
 * and the ring between the threads drains into the mailbox as fast as it
 * fills, so a sender that never waited grew a mailbox without limit. Now the
 * target's thread tells each thread whose MSG or REQUEST filled the mailbox
 * (FULL, once per thread); that thread refuses further sends and requests to
 * the process with `MailboxFullError` until ROOM comes, when the mailbox has
 * drained to half its bound or the process ended. A mailbox so exceeds its
 * bound by at most what was on the way when it filled: the ring and the
 * link's queue (LINK_QUEUE envelopes), per sending thread. A `sendAfter`
 * timer's message is never refused (the timer held it already).
 */
import { MailboxFullError } from '../core/errors';
import { envelope, Kind } from './envelope';
import type { Mesh } from './ops';
import type { Proc } from './proc';

export class Fullness {
  /** Processes on other threads that told this thread their mailbox is full: id → their thread. */
  private readonly full = new Map<number, number>();

  constructor(private readonly mesh: Mesh) {}

  /** @throws MailboxFullError when process `id` (on another thread) said its mailbox is full, and has not said it has room since. */
  check(id: number, what: string): void {
    if (this.full.size > 0 && this.full.has(id)) throw new MailboxFullError(`${what}: the mailbox of process ${id} holds its bound`);
  }

  /** FULL (`full`) or ROOM from process `id` of thread `thread`. */
  heard(thread: number, id: number, full: boolean): void {
    if (full) this.full.set(id, thread);
    else this.full.delete(id);
  }

  /** Thread `thread` died: its processes' FULLs go with it (what is sent to them now is dropped). */
  threadGone(thread: number): void {
    for (const [id, at] of this.full) if (at === thread) this.full.delete(id);
  }

  /** A MSG or REQUEST from `thread` found `proc`'s mailbox at its bound: that thread is told, once. */
  filled(proc: Proc, thread: number): void {
    const told = (proc.fullFor ??= new Set());
    if (told.has(thread)) return;
    told.add(thread);
    this.mesh.post(thread, envelope(Kind.FULL, { from: proc.id }));
  }

  /** `proc`'s mailbox has room again, or it ended: every thread told FULL hears ROOM. */
  room(proc: Proc): void {
    const told = proc.fullFor;
    if (!told) return;
    proc.fullFor = null;
    for (const thread of told) this.mesh.post(thread, envelope(Kind.ROOM, { from: proc.id }));
  }
}
