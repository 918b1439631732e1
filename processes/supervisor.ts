/**
 * Supervisors (after Erlang/OTP): a process that starts its children,
 * watches them, and restarts them by its strategy when they end, up to a
 * restart limit; past it, the supervisor kills its children and fails
 * with `RestartLimitError`, so whatever links to or monitors it hears.
 *
 * How it watches: it traps exits and links each child (so a supervisor
 * that fails or is killed takes its children with it, and a failing child
 * does not take the supervisor), and monitors each child (so it learns
 * of every end, a normal one included). Before it kills a child itself
 * (for `one-for-all` or `rest-for-one`), it drops that child's monitor
 * and link, so a kill it made is not taken for a failure.
 * Children run on the supervisor's thread (`placement: 'same'`).
 *
 * A `LinkDied` from a process that is not one of its children (the
 * process that linked to the supervisor failed) ends the supervisor: it
 * stops its children, last first, and fails with that error. One with the
 * reason `normal` ends nothing (a linked process that returned).
 *
 * ## Example
 * ```ts
 * import { startNode, supervisor, supervisorSpec, supervisorChildren } from 'rxwire/processes';
 * const node = startNode({ threads: 2 });
 * const sup = node.spawn(supervisor, supervisorSpec([{ name: 'worker', entry: worker, capture: 7 }]));
 * const [{ ref }] = await supervisorChildren(sup);
 * ```
 */
import { performance } from 'node:perf_hooks';
import { ProcessExitedError, RemoteError, RestartLimitError } from '../core/errors';
import { entry, loadEntry } from './entry';
import { ChildInfos, SupervisorCapture, SupervisorCommand, type ChildInfo } from './supervisor-spec';
import type { Entry, Exit, Monitor, Process, ProcessDied, ProcessRef, Signal } from './types';
import { refText } from './ref';

/** One child, and its current incarnation. */
interface Child {
  readonly spec: SupervisorCapture['children'][number];
  readonly entry: Entry<unknown, unknown, unknown>;
  readonly capture: unknown;
  handle?: Process<unknown, unknown>;
  monitor?: Monitor;
  restarts: number;
}

/**
 * The supervisor process's entry: spawn it with a capture made by
 * `supervisorSpec`. Its mailbox takes {@link SupervisorCommand}s. It ends
 * normally on `stop` (its children stopped, last first), and fails with
 * `RestartLimitError` past its restart limit.
 */
export const supervisor = entry(__filename, 'supervisor', { capture: SupervisorCapture, mailbox: SupervisorCommand, reply: ChildInfos }, (spec, mailbox, self) =>
  new Promise<void>((resolve, reject) => {
    self.trapExits(true);
    const children: Child[] = spec.children.map((c) => {
      const found = loadEntry(c.module, c.export);
      return { spec: c, entry: found, capture: found.capture.decode(c.capture), restarts: 0 };
    });
    const restarts: number[] = [];
    /** The children's current incarnations, and those let go whose LinkDied may still come (the last INCARNATIONS_KEPT). */
    const live = new Set<string>();
    const letGo = new Set<string>();
    const release = (handle: Process<unknown, unknown>) => {
      const key = refKey(handle.ref);
      if (!live.delete(key)) return;
      letGo.add(key);
      if (letGo.size > INCARNATIONS_KEPT) letGo.delete(letGo.values().next().value!);
    };
    let over = false;

    const start = (child: Child) => {
      // Linked right after the spawn, not with `spawn(..., { link: true })`: the same thing
      // on the supervisor's thread, and it links both ways even where the spawn's own link
      // is made before the child is admitted (the child would not be killed with us).
      const handle = self.spawn(child.entry, child.capture, { name: child.spec.register ? child.spec.name : undefined });
      handle.link();
      const monitor = handle.monitor();
      Object.assign(child, { handle, monitor });
      live.add(refKey(handle.ref));
      monitor.died.then((died) => ended(child, died));
    };
    const stop = (child: Child) => {
      const { handle, monitor } = child;
      child.handle = child.monitor = undefined;
      if (!handle) return;
      release(handle);
      monitor?.cancel();
      handle.unlink();
      handle.kill();
    };
    const finish = (err?: Error) => {
      if (over) return;
      over = true;
      for (const child of [...children].reverse()) stop(child);
      subscriptions.forEach((s) => s.unsubscribe());
      if (err) reject(err);
      else resolve();
    };
    /** Whether one more restart now stays within the limit. */
    const mayRestart = () => {
      const now = performance.now();
      while (restarts.length > 0 && now - restarts[0] > spec.period) restarts.shift();
      restarts.push(now);
      return restarts.length <= spec.maxRestarts;
    };

    const ended = (child: Child, died: ProcessDied) => {
      if (over || child.monitor?.id !== died.monitor) return; // an incarnation already let go
      release(child.handle!);
      child.handle = child.monitor = undefined;
      const { restart } = child.spec;
      if (restart === 'temporary' || (restart === 'transient' && died.reason === 'normal')) return;
      if (!mayRestart()) {
        const why = died.error ? `${died.reason}: ${died.error.name}: ${died.error.message}` : died.reason;
        return finish(new RestartLimitError(spec.maxRestarts, spec.period, `child ${JSON.stringify(child.spec.name)} ended (${why})`));
      }
      const at = children.indexOf(child);
      const again = spec.strategy === 'one-for-one' ? [child] : spec.strategy === 'one-for-all' ? children : children.slice(at);
      for (const other of [...again].reverse()) stop(other);
      for (const other of again) if (other === child || other.spec.restart !== 'temporary') toRestart.add(other);
      // In the next turn: a child that fails as it starts would otherwise be restarted in microtasks only, and its
      // thread (I/O, timers, every other process) would not run until the limit — for ever with a large one. One
      // restart a turn for all the deaths of that turn, in the children's order (rest-for-one: dependants after).
      if (!restartQueued) setImmediate(restartAll);
      restartQueued = true;
    };
    const toRestart = new Set<Child>();
    let restartQueued = false;
    const restartAll = () => {
      restartQueued = false;
      if (over) return;
      try {
        for (const other of children) {
          if (!toRestart.delete(other) || other.handle) continue;
          other.restarts++;
          start(other);
        }
      } catch (err) {
        finish(err as Error); // the node is closing, or this supervisor ended: spawn refuses
      }
    };

    const subscriptions = [
      mailbox.letters.subscribe((letter) => {
        if (letter.message.op === 'stop') return finish();
        if (letter.isRequest) letter.reply(children.map(infoOf));
      }),
      mailbox.signals.subscribe((signal: Signal) => {
        // A child's death is `ended`'s (by its monitor, which may run first: then the handle is already let go). Another
        // linked process that ends normally is no failure (as for a process that does not trap exits): nothing ends.
        if (signal.type !== 'LinkDied') return;
        const key = refKey(signal.process);
        if (live.delete(key) || letGo.delete(key) || signal.reason === 'normal') return;
        finish(exitError(signal));
      }),
    ];
    children.forEach(start);
  }),
);

/**
 * What the supervisor `sup` reports of its children: each one's name, the
 * address of its current incarnation (null while none runs) and how often
 * it was restarted.
 */
export function supervisorChildren(sup: Process<SupervisorCommand, ChildInfo[]>, options?: { timeout?: number }): Promise<ChildInfo[]> {
  return sup.request({ op: 'children' }, options);
}

function infoOf(child: Child): ChildInfo {
  return { name: child.spec.name, ref: child.handle?.ref ?? null, restarts: child.restarts };
}

/** The error a supervisor fails with when the process linked to it died. */
function exitError(exit: Exit): Error {
  return exit.error ? new RemoteError(exit.error) : new ProcessExitedError(`the process linked to this supervisor ended (${exit.reason})`, exit.reason);
}

/**
 * How many let-go child incarnations a supervisor remembers, so that the
 * LinkDied of one (restarted meanwhile: its monitor ran before the signal
 * was read, or a sibling stopped with it) is not taken for the death of the
 * process it is linked to, its parent. The current incarnations are kept
 * apart, however many: before, one list held both, and incarnations a
 * one-for-all or rest-for-one restart let go (unlinked: no LinkDied ever
 * came to remove them) pushed out a live child's, whose one crash then
 * ended the supervisor as if its parent had died.
 */
const INCARNATIONS_KEPT = 4096;

function refKey(ref: ProcessRef): string {
  return `${refText(ref)}/${ref.incarnation}`;
}
