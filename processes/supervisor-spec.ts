/**
 * What a supervisor is told: its children (each an entry, a capture and a
 * name), its strategy and its restart limit; and what it answers. Types,
 * codecs and {@link supervisorSpec}; the process itself is in
 * processes/supervisor.ts.
 */
import { checkKnown } from '../core/options';
import { checkName, checkOptions } from './checks';
import { codec, isCodec, type Codec } from '../core/codec';
import { ProcessRefSchema } from './ref';
import { loadEntry } from './entry';
import type { Entry, ProcessRef } from './types';

/**
 * Which children a supervisor restarts when one ends and must be restarted:
 * - `'one-for-one'`: that child only;
 * - `'one-for-all'`: every child (the others are killed first, in reverse order of the list, then all are started in order);
 * - `'rest-for-one'`: that child and the ones after it in the list (killed in reverse order, started in order).
 */
export type Strategy = 'one-for-one' | 'one-for-all' | 'rest-for-one';

/**
 * When a child that ended is restarted: `'permanent'` always, `'transient'`
 * only when it did not end normally (it failed, was killed, its thread
 * died...), `'temporary'` never.
 */
export type Restart = 'permanent' | 'transient' | 'temporary';

/** One child of a supervisor. */
export interface ChildSpec<C = any> {
  /** Its name, unique among the supervisor's children; with `register`, also its name in the node's registry. */
  readonly name: string;
  /** What it runs: an entry made by `entry()` (its module, export name and capture codec are what the supervisor needs). */
  readonly entry: Pick<Entry<C, unknown, unknown>, 'module' | 'name' | 'capture'>;
  /** Its capture, encoded now with the entry's capture codec (an `EncodeError` is thrown by `supervisorSpec`). */
  readonly capture: C;
  /** When it is restarted. Default `'permanent'`. */
  readonly restart?: Restart;
  /** Register each incarnation under `name` (`lookup(name)` finds the current one). Default false. */
  readonly register?: boolean;
}

const STRATEGIES: readonly Strategy[] = ['one-for-one', 'one-for-all', 'rest-for-one'];
const RESTARTS: readonly Restart[] = ['permanent', 'transient', 'temporary'];

/** Options of {@link supervisorSpec}. */
export interface SupervisorOptions {
  /** Default `'one-for-one'`. */
  strategy?: Strategy;
  /** At most this many restarts within `period` ms; one more and the supervisor kills its children and fails with `RestartLimitError`. Default 3. */
  maxRestarts?: number;
  /** The window of `maxRestarts`, in ms. Default 5000. */
  period?: number;
}

const SUPERVISOR_OPTIONS: Record<keyof SupervisorOptions, true> = { strategy: true, maxRestarts: true, period: true };

/** A supervisor's capture, as `supervisorSpec` makes it (each child's capture already encoded). */
export interface SupervisorCapture {
  readonly strategy: Strategy;
  readonly maxRestarts: number;
  readonly period: number;
  readonly children: readonly {
    readonly name: string;
    readonly module: string;
    readonly export: string;
    readonly capture: Buffer;
    readonly restart: Restart;
    readonly register: boolean;
  }[];
}

/** The codec of {@link SupervisorCapture}. */
export const SupervisorCapture: Codec<SupervisorCapture> = codec({
  type: 'record',
  name: 'rxwire.SupervisorCapture',
  fields: [
    { name: 'strategy', type: 'string' }, // a Strategy (its names are not Avro enum symbols)
    { name: 'maxRestarts', type: 'int' },
    { name: 'period', type: 'double' },
    {
      name: 'children',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'rxwire.ChildSpec',
          fields: [
            { name: 'name', type: 'string' },
            { name: 'module', type: 'string' },
            { name: 'export', type: 'string' },
            { name: 'capture', type: 'bytes' },
            { name: 'restart', type: 'string' }, // a Restart
            { name: 'register', type: 'boolean' },
          ],
        },
      },
    },
  ],
} as const) as Codec<SupervisorCapture>;

/** What a supervisor's mailbox takes: `children` (answered with {@link ChildInfo}s), or `stop` (it stops its children, last first, and ends normally). */
export interface SupervisorCommand {
  readonly op: 'children' | 'stop';
}

/** The codec of {@link SupervisorCommand}. */
export const SupervisorCommand: Codec<SupervisorCommand> = codec({
  type: 'record',
  name: 'rxwire.SupervisorCommand',
  fields: [{ name: 'op', type: { type: 'enum', name: 'rxwire.SupervisorOp', symbols: ['children', 'stop'] } }],
} as const);

/** A child as its supervisor sees it: its current incarnation (null while it is not running) and how often it was restarted. */
export interface ChildInfo {
  readonly name: string;
  readonly ref: ProcessRef | null;
  readonly restarts: number;
}

/** The codec of a supervisor's answer to `children`. */
export const ChildInfos: Codec<ChildInfo[]> = codec({
  type: 'array',
  items: {
    type: 'record',
    name: 'rxwire.ChildInfo',
    fields: [
      { name: 'name', type: 'string' },
      { name: 'ref', type: ['null', ProcessRefSchema] },
      { name: 'restarts', type: 'int' },
    ],
  },
} as const) as Codec<ChildInfo[]>;

/**
 * The capture of a supervisor (spawn the `supervisor` entry with it).
 *
 * ## Example
 * ```ts
 * import { startNode, supervisor, supervisorSpec } from 'rxwire/processes';
 * const node = startNode({ threads: 2 });
 * const sup = node.spawn(supervisor, supervisorSpec([
 *   { name: 'ledger', entry: ledger, capture: { accounts: 100 } },
 *   { name: 'audit', entry: audit, capture: null, restart: 'transient' },
 * ], { strategy: 'rest-for-one', maxRestarts: 5, period: 10_000 }));
 * ```
 *
 * @param children the children, started in this order (and stopped in the reverse one)
 * @param options strategy and restart limit
 * @throws TypeError when a name is missing or repeated; RangeError for a bad `maxRestarts` or `period`
 * @throws EncodeError when a child's capture does not fit its entry's capture codec
 * @throws EntryError when a child's module does not load or does not export its entry under its name (as `spawn`)
 */
const CHILD_KEYS: Record<keyof ChildSpec, true> = { name: true, entry: true, capture: true, restart: true, register: true };

export function supervisorSpec(children: readonly ChildSpec[], options?: SupervisorOptions): SupervisorCapture {
  const { strategy = 'one-for-one', maxRestarts = 3, period = 5000 } = checkOptions(options, 'supervisorSpec: options', SUPERVISOR_OPTIONS) as SupervisorOptions;
  if (!Array.isArray(children)) throw new TypeError('supervisorSpec: children must be an array');
  if (!STRATEGIES.includes(strategy)) throw new TypeError(`options.strategy must be one of ${STRATEGIES.join(', ')}`);
  if (!Number.isInteger(maxRestarts) || maxRestarts < 0 || maxRestarts > 2 ** 31 - 1) throw new RangeError('options.maxRestarts must be an integer from 0 to 2^31 - 1');
  if (typeof period !== 'number' || !(period > 0)) throw new RangeError('options.period must be a positive number of milliseconds');
  const names = new Set<string>();
  const specs = children.map((child) => {
    if (typeof child?.name !== 'string' || child.name === '') throw new TypeError('a supervisor child needs a non-empty name');
    checkKnown(child as unknown, CHILD_KEYS, `child ${child.name}`); // a misspelt `restarts: 'temporary'` made a permanent child in silence
    if (names.has(child.name)) throw new TypeError(`two supervisor children are named ${JSON.stringify(child.name)}`);
    names.add(child.name);
    if (child.restart !== undefined && !RESTARTS.includes(child.restart)) throw new TypeError(`child ${child.name}: restart must be one of ${RESTARTS.join(', ')}`);
    if (child.register !== undefined && typeof child.register !== 'boolean') throw new TypeError(`child ${child.name}: register must be a boolean`);
    if (child.register) checkName(child.name, `child ${child.name}: a registered child's name`);
    const { entry } = child;
    if (typeof entry?.module !== 'string' || typeof entry.name !== 'string' || !isCodec(entry.capture)) {
      throw new TypeError(`child ${child.name}: entry must be an entry made by entry() (with its module, name and capture codec)`);
    }
    // As spawn does: an entry its module does not export is an EntryError here, not the supervisor's failure at its start.
    loadEntry(entry.module, entry.name);
    return {
      name: child.name,
      module: child.entry.module,
      export: child.entry.name,
      capture: child.entry.capture.encode(child.capture),
      restart: child.restart ?? 'permanent',
      register: child.register ?? false,
    };
  });
  return { strategy, maxRestarts, period, children: specs };
}
