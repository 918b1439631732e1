/**
 * Process entries: the function a process runs, named by its module and
 * export so that any thread can load it (code cannot cross threads), with
 * the codecs of its capture, mailbox and replies.
 *
 * ## Example
 * ```ts
 * // counter.ts
 * import { codec } from 'rxwire';
 * import { entry } from 'rxwire/processes';
 * const Long = codec('long');
 * export const counter = entry(__filename, 'counter', { capture: Long, mailbox: Long, reply: Long },
 *   (start, mailbox) => mailbox.letters.pipe(scan((n, l) => (l.reply(n + l.message), n + l.message), start)));
 * ```
 */
import { isAbsolute } from 'node:path';
import { isCodec } from '../core/codec';
import { EntryError } from '../core/errors';
import { modulePath, type ModuleRef } from '../threads/load-module';
import type { Entry, EntryCodecs, EntryFunction, EntryLike } from './types';

const ENTRY = Symbol.for('rxwire.processes.entry');

/**
 * Declares a process entry. Export the result under `name` from `module`
 * (pass `__filename`, or `import.meta.url` in an ES module compiled to
 * CommonJS): every thread that runs the process loads the module with
 * `require` and takes that export.
 *
 * @param module the module that exports the entry (a path or a `file:` URL)
 * @param name the name it is exported under
 * @param codecs the codecs of its capture, its mailbox and (when it answers requests) its replies
 * @param run the function the process runs
 * @returns the entry, to export and to pass to `spawn`
 * @throws TypeError when a codec or `run` is missing
 */
export function entry<C, M, R = never>(module: ModuleRef, name: string, codecs: EntryCodecs<C, M, R>, run: EntryFunction<C, M, R>): Entry<C, M, R> {
  if (typeof name !== 'string' || name === '') throw new TypeError('entry: name must be a non-empty string');
  if (!isCodec(codecs?.capture) || !isCodec(codecs.mailbox)) throw new TypeError('entry: codecs.capture and codecs.mailbox must be codecs');
  if (codecs.reply !== undefined && !isCodec(codecs.reply)) throw new TypeError('entry: codecs.reply must be a codec');
  if (typeof run !== 'function') throw new TypeError('entry: run must be a function');
  const made = { module: modulePath(module), name, capture: codecs.capture, mailbox: codecs.mailbox, reply: codecs.reply, run };
  Object.defineProperty(made, ENTRY, { value: true });
  return Object.freeze(made);
}

/** Whether `x` was made by {@link entry}. */
export function isEntry(x: unknown): x is Entry<unknown, unknown, unknown> {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[ENTRY] === true;
}

/** Entries `resolveEntry` was given and found to be the export they name: the next spawn of one skips the look-up. */
const found = new WeakSet<Entry<unknown, unknown, unknown>>();

/** Entries found, by `module\nname`: a thread loads each module once. */
const loaded = new Map<string, Entry<unknown, unknown, unknown>>();

/**
 * The entry that `module` exports as `name`, loading the module (once per
 * thread) with `require`.
 * @throws EntryError when the module does not load, or has no entry under that name
 */
export function loadEntry(module: string, name: string): Entry<unknown, unknown, unknown> {
  const key = `${module}\n${name}`;
  const known = loaded.get(key);
  if (known) return known;
  let exports: Record<string, unknown>;
  try {
    exports = require(module) as Record<string, unknown>;
  } catch (err) {
    throw new EntryError(`the module ${module} of entry ${JSON.stringify(name)} does not load: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
  const found = exports?.[name];
  if (!isEntry(found)) {
    throw new EntryError(`the module ${module} does not export an entry named ${JSON.stringify(name)} (made with entry())`);
  }
  if (found.module !== module || found.name !== name) {
    throw new EntryError(`the export ${JSON.stringify(name)} of ${module} is the entry ${found.module}#${found.name}: an entry must be exported under its own name from its own module`);
  }
  loaded.set(key, found);
  return found;
}

/**
 * The entry a SPAWN's `text` names (`module\nname\nregistered`, docs/PROTOCOL.md) and the name to register ('' for
 * none); what follows a third line is ignored. The module is an absolute path or a `file:` URL: a relative one would
 * be read against this file's folder, rxwire's own, not the sender's.
 * @throws EntryError when the text names no export, the path is relative or not a path, or as {@link loadEntry}
 */
export function spawnedEntry(text: string): { entry: Entry<unknown, unknown, unknown>; registered: string } {
  const [module, name, registered = ''] = text.split('\n');
  if (name === undefined) throw new EntryError(`spawn: the text ${JSON.stringify(text.slice(0, 200))} names no export (module, a newline, the export's name)`);
  let path: string;
  try {
    path = module.startsWith('file:') ? modulePath(module) : module;
  } catch (err) {
    throw new EntryError(`spawn: the module ${JSON.stringify(module)} is not a file: URL of a path`, { cause: err });
  }
  if (!isAbsolute(path)) throw new EntryError(`spawn: the module ${JSON.stringify(module)} is not an absolute path or a file: URL`);
  return { entry: loadEntry(path, name), registered };
}

/**
 * The codecs a handle sends with (`node.handle`, `lookup`): `mailbox`, and
 * `reply` when given, must be codecs — checked at the call, not at the first send.
 * @throws TypeError naming `what`
 */
export function checkHandleCodecs(codecs: unknown, what: string): void {
  const given = codecs as { mailbox?: unknown; reply?: unknown } | null | undefined;
  if (!isCodec(given?.mailbox)) throw new TypeError(`${what}: codecs.mailbox must be a codec (an entry, or { mailbox, reply })`);
  if (given!.reply !== undefined && !isCodec(given!.reply)) throw new TypeError(`${what}: codecs.reply must be a codec`);
}

/**
 * What `spawn` was given, as an entry this thread can also find again by
 * module and name (as the thread that runs it will).
 * @throws EntryError as {@link loadEntry}
 * @throws TypeError when `given` is neither an entry nor `{ module, name }`
 */
export function resolveEntry<C, M, R>(given: EntryLike<C, M, R>): Entry<C, M, R> {
  if (found.has(given as Entry<unknown, unknown, unknown>)) return given as Entry<C, M, R>;
  if (isEntry(given)) {
    const entry = loadEntry(given.module, given.name) as Entry<C, M, R>;
    if (entry === given) found.add(entry as Entry<unknown, unknown, unknown>);
    return entry;
  }
  const ref = given as { module?: unknown; name?: unknown } | undefined;
  if ((typeof ref?.module === 'string' || ref?.module instanceof URL) && typeof ref.name === 'string') {
    return loadEntry(modulePath(ref.module), ref.name) as Entry<C, M, R>;
  }
  throw new TypeError('spawn: entry must be an entry() or { module, name }');
}
