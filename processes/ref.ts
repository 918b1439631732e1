/**
 * Process references as values: the Avro schema of a {@link ProcessRef}, so
 * that a handle can travel inside a message (across threads, and later
 * machines) and be turned back into a handle on the other side with
 * `self.handle(ref, entry)` or `node.handle(ref, entry)`.
 *
 * ## Example
 * ```ts
 * import { codec } from 'rxwire';
 * import { ProcessRefSchema } from 'rxwire/processes';
 * const Ask = codec({ type: 'record', name: 'Ask', fields: [
 *   { name: 'n', type: 'long' }, { name: 'replyTo', type: ProcessRefSchema },
 * ] } as const);
 * them.send({ n: 1, replyTo: self.ref });
 * ```
 */
import { codec, type Codec } from '../core/codec';
import type { ProcessRef } from './types';

/** The Avro schema of a process reference: `rxwire.ProcessRef { node: string, thread: int, id: long, incarnation: int }`. */
export const ProcessRefSchema = {
  type: 'record',
  name: 'rxwire.ProcessRef',
  fields: [
    { name: 'node', type: 'string' },
    { name: 'thread', type: 'int' },
    { name: 'id', type: 'long' },
    { name: 'incarnation', type: 'int' },
  ],
} as const;

/** The codec of a process reference on its own. */
export const ProcessRefCodec: Codec<ProcessRef> = codec(ProcessRefSchema);

/** A plain ProcessRef (no class, no extra fields) with these parts. */
export function refOf(node: string, thread: number, id: number, incarnation: number): ProcessRef {
  return { node, thread, id, incarnation };
}

/** Whether `a` and `b` name the same process (of the same run of its node). */
export function sameRef(a: ProcessRef, b: ProcessRef): boolean {
  return a.id === b.id && a.thread === b.thread && a.node === b.node && a.incarnation === b.incarnation;
}

/** `node/thread/id`, for messages and logs. */
export function refText(ref: ProcessRef): string {
  return `${ref.node}/${ref.thread}/${ref.id}`;
}
