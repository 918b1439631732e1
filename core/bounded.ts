/**
 * A bounded pre-check of untrusted bytes against a writer's schema, run
 * before avsc decodes them. avsc trusts an array or map block count: a
 * garbage count (say 2^50 items of `null`) makes it loop for hours. This walk
 * checks every length and count against the bytes that are left, and caps
 * the items that take no bytes, so hostile input costs at most about
 * `end - start + MAX_EMPTY_ITEMS` steps. Only schemas that contain an array
 * or a map need it (`guardFor` returns undefined for the others).
 *
 * It walks avsc's canonical schema form (core/codec-avro.ts `canonicalSchema`
 * of what the HELLO carries: a writer may send any valid Avro): names, types,
 * fields, symbols, items, values, size; named types referred to by full name.
 */
import type { Codec } from './codec';
import { canonicalSchema } from './codec-avro';
import { DecodeError } from './errors';
import { readVarLong } from './varint';

/** The most zero-byte items (e.g. `null`s) one value may hold in its arrays and maps. */
export const MAX_EMPTY_ITEMS = 1 << 20;

/** Returns the offset after one value of the schema at `pos`; throws DecodeError. */
type Skip = (buf: Uint8Array, pos: number, end: number, budget: Budget) => number;
interface Budget {
  empty: number;
}

/** Checks that `buf[start, end)` can be one value of the schema without running away. */
export type Guard = (buf: Uint8Array, start: number, end: number) => void;

/**
 * The guard of the values a session reads with `reader` from a writer whose
 * HELLO said `writer` (every transport runs it before it decodes a value:
 * core/session-in.ts), or undefined when none is needed (`raw`, or no array
 * or map in the schema). An equal fingerprint says "the reader's own schema"
 * (the HELLO's text is then only parsed, not resolved: docs/PROTOCOL.md
 * "Fingerprint and schema"), so that is the one walked.
 */
export function guardOfHello(reader: Codec<unknown>, writer: { readonly fingerprint: string; readonly schema: string }): Guard | undefined {
  if (reader.fingerprint === 'raw') return undefined;
  return guardFor(reader.fingerprint === writer.fingerprint ? reader.schema : canonicalSchema(JSON.parse(writer.schema)));
}

/**
 * A guard for values written under `schema` (canonical JSON, parsed), or
 * undefined when the schema has no array or map (avsc's own decode is then
 * bounded by the bytes).
 */
export function guardFor(schema: unknown): Guard | undefined {
  const named = new Map<string, { skip?: Skip; min?: number }>();
  let unbounded = false;
  const compile = (s: unknown): { skip: Skip; min: number } => {
    if (typeof s === 'string') {
      const prim = PRIMITIVES[s];
      if (prim) return prim;
      const ref = named.get(s);
      if (!ref) throw new DecodeError(`unknown type ${s} in the writer's schema`);
      // A recursive reference: resolved when called (the definition is done by then), through a getter rather
      // than a wrapper, so a level of nesting costs no extra stack frame (the walk must go as deep as avsc reads).
      return {
        get skip() {
          return ref.skip!;
        },
        min: ref.min ?? 0,
      };
    }
    if (Array.isArray(s)) {
      const branches = s.map(compile);
      return {
        min: 1,
        skip: (b, p, e, g) => {
          const i = varint(b, p, e);
          if (i.value < 0 || i.value >= branches.length) throw new DecodeError(`union branch ${i.value} of ${branches.length}`);
          return branches[i.value].skip(b, i.next, e, g);
        },
      };
    }
    const t = s as { type: string; name?: string; fields?: { type: unknown }[]; symbols?: string[]; items?: unknown; values?: unknown; size?: number };
    switch (t.type) {
      case 'record':
      case 'error': {
        const slot: { skip?: Skip; min?: number } = {};
        named.set(t.name!, slot);
        const fields = (t.fields ?? []).map((f) => compile(f.type));
        slot.min = fields.reduce((n, f) => n + f.min, 0);
        slot.skip = (b, p, e, g) => {
          for (let i = 0; i < fields.length; i++) p = fields[i].skip(b, p, e, g);
          return p;
        };
        return slot as { skip: Skip; min: number };
      }
      case 'enum':
        named.set(t.name!, PRIMITIVES.int);
        return PRIMITIVES.int;
      case 'fixed': {
        const size = t.size ?? 0;
        const fixed = { min: size, skip: (_b: Uint8Array, p: number, e: number) => within(p + size, e) };
        named.set(t.name!, fixed);
        return fixed;
      }
      case 'array':
        unbounded = true;
        return blocks(compile(t.items), undefined);
      case 'map':
        unbounded = true;
        return blocks(compile(t.values), PRIMITIVES.string);
      default:
        return compile(t.type);
    }
  };
  const root = compile(schema);
  if (!unbounded) return undefined;
  return (buf, start, end) => {
    let stop: number;
    try {
      stop = root.skip(buf, start, end, { empty: MAX_EMPTY_ITEMS });
    } catch (err) {
      // A value nested deeper than this thread's stack: hostile or not, it cannot be read here.
      if (err instanceof RangeError) throw new DecodeError(`the value nests too deep to read (${err.message})`);
      throw err;
    }
    if (stop !== end) throw new DecodeError(`${end - stop} trailing bytes after a value`);
  };
}

/** Array or map blocks: each count checked against the bytes left (or the empty-item budget). */
function blocks(item: { skip: Skip; min: number }, key: { skip: Skip; min: number } | undefined): { skip: Skip; min: number } {
  const min = item.min + (key?.min ?? 0);
  return {
    min: 1,
    // Few locals here: this frame is on the stack once per level of nesting (see header).
    skip: (b, p, e, g) => {
      for (;;) {
        const block = header(b, p, e, g, min);
        if (block.items === 0) return block.start;
        p = block.start;
        for (let i = 0; i < block.items; i++) {
          if (key) p = key.skip(b, p, e, g);
          p = item.skip(b, p, e, g);
        }
        // Else a reader that skips the block (one resolving another schema) reads its items' bytes as the next
        // block's count: ten bytes could then count 2^40 empty items, past this walk.
        if (block.end >= 0 && p !== block.end) throw new DecodeError(`a block said it ends at byte ${block.end}; its items end at ${p}`);
      }
    },
  };
}

/**
 * One block's header at `p`: its item count (0: the last block) checked against the bytes left (items of
 * `min` bytes) or the empty-item budget, where its items start, and where it ends when it gives its byte size
 * (a negative count), else -1.
 */
function header(b: Uint8Array, p: number, e: number, g: Budget, min: number): { items: number; start: number; end: number } {
  const count = varint(b, p, e);
  let items = count.value;
  let start = count.next;
  let end = -1;
  if (items < 0) {
    items = -items;
    const size = varint(b, start, e);
    if (size.value < 0) throw new DecodeError(`negative block size ${size.value}`);
    start = size.next;
    end = within(start + size.value, e);
  }
  if (items > 0 && (min > 0 ? items * min > e - start : (g.empty -= items) < 0)) {
    throw new DecodeError(`a block of ${items} items cannot fit in the ${e - start} bytes left`);
  }
  return { items, start, end };
}

function varint(b: Uint8Array, p: number, e: number): { value: number; next: number } {
  const r = readVarLong(b, p, e);
  if (!r) throw new DecodeError('truncated or oversized varint');
  return r;
}

function within(p: number, e: number): number {
  if (p > e) throw new DecodeError('truncated value');
  return p;
}

const fixedSize = (size: number) => ({ min: size, skip: (_b: Uint8Array, p: number, e: number) => within(p + size, e) });
/** An int or long, skipped: up to 10 bytes (a long beyond 2^56 from another writer is valid; its value is the codec's business). */
const number = {
  min: 1,
  skip: (b: Uint8Array, p: number, e: number) => {
    for (let i = 0; i < 10 && p < e; i++) if ((b[p++] & 0x80) === 0) return p;
    throw new DecodeError('truncated or oversized varint');
  },
};
const lengthPrefixed = {
  min: 1,
  skip: (b: Uint8Array, p: number, e: number) => {
    const n = varint(b, p, e);
    if (n.value < 0) throw new DecodeError(`negative length ${n.value}`);
    return within(n.next + n.value, e);
  },
};
const PRIMITIVES: Record<string, { skip: Skip; min: number }> = {
  null: fixedSize(0),
  boolean: fixedSize(1),
  int: number,
  long: number,
  float: fixedSize(4),
  double: fixedSize(8),
  bytes: lengthPrefixed,
  string: lengthPrefixed,
};
