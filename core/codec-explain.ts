/**
 * Explaining codec failures: which field of the user's own type a value or
 * a schema goes wrong at. Runs only once something has failed, so none of
 * it is on the fast path.
 */
import type * as avro from 'avsc';
import { surrogateExpectation } from './codec-strings';
import { EncodeError, SchemaMismatchError } from './errors';

/** A type's name for messages: the record's name, the union of its branches, or the primitive. */
export function typeName(type: avro.Type): string {
  if (type.name) return type.name;
  if (isUnion(type)) return branchesOf(type).map(typeName).join(' | ');
  return type.typeName;
}

/**
 * rxwire's own envelopes around user values (the stage and pool records
 * `RxwireStageInput`, ..., the request envelope in namespace `rxwire`):
 * messages skip them and name the user's type instead.
 */
function isEnvelope(type: avro.Type): boolean {
  const name = type.name ?? '';
  return isRecord(type) && (name.startsWith('Rxwire') || name.startsWith('rxwire.'));
}

/**
 * The path of a failure as the user knows it: `[root, ...path]` joined by
 * dots, with rxwire's envelopes (and the array or map index that holds the
 * user's value inside one) replaced by the name of the user's type:
 * `RxwireStageInput.value.price` reads `Trade.price`.
 */
export function userPath(root: avro.Type, path: readonly string[]): string {
  let type = root;
  let i = 0;
  while (isEnvelope(type) && i < path.length) {
    const field = (type as avro.types.RecordType).fields.find((f) => f.name === path[i]);
    if (field === undefined) break;
    type = field.type;
    i++;
    for (;;) {
      if (type.typeName === 'array' && i < path.length) type = (type as avro.types.ArrayType).itemsType;
      else if (type.typeName === 'map' && i < path.length) type = (type as avro.types.MapType).valuesType;
      else break;
      i++;
    }
  }
  return [typeName(type), ...path.slice(i)].join('.');
}

/**
 * Why `value` does not fit `type`, as an `EncodeError` naming the first field
 * at fault (with avsc's error hook, which tracks paths), or undefined when it
 * does fit. A value that refers to itself where the schema recurses would
 * send avsc around the cycle until the stack overflows: that is caught and
 * named as the field that closes the cycle.
 */
export function explainEncode(type: avro.Type, value: unknown, cause?: unknown): EncodeError | undefined {
  let failure: EncodeError | undefined;
  try {
    const ok = type.isValid(value, {
      errorHook: (path: string[], actual: unknown, at: avro.Type) => {
        failure ??= new EncodeError(userPath(type, path), surrogateExpectation(at, actual) ?? typeName(at), actual, { cause });
      },
    });
    if (ok) return undefined;
  } catch (err) {
    let cycle: string[] | undefined;
    try {
      cycle = findCycle(value);
    } catch {
      cycle = undefined; // reading it throws again
    }
    if (cycle !== undefined) return new EncodeError(userPath(type, cycle), 'an acyclic value', value, { cause: err });
    // Reading the value threw (a getter, a Proxy): it cannot be encoded, and says so as EncodeError, its own error the cause.
    return new EncodeError(typeName(type), `${typeName(type)} (reading the value threw: ${(err as Error)?.message ?? err})`, value, { cause: err });
  }
  return failure ?? new EncodeError(typeName(type), typeName(type), value, { cause });
}

/** The path (field names and indices) at which `value` refers back to one of its ancestors, if it does. */
export function findCycle(value: unknown): string[] | undefined {
  const ancestors = new Set<object>();
  const path: string[] = [];
  const walk = (v: unknown): boolean => {
    if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) return false;
    if (ancestors.has(v)) return true;
    ancestors.add(v);
    for (const key of Object.keys(v)) {
      path.push(key);
      if (walk((v as Record<string, unknown>)[key])) return true;
      path.pop();
    }
    ancestors.delete(v);
    return false;
  };
  return walk(value) ? path : undefined;
}

/** A `SchemaMismatchError` naming the first field `reader` cannot resolve from `writer`. */
export function mismatch(reader: avro.Type, writer: avro.Type, err: unknown): SchemaMismatchError {
  const found = findMismatch(reader, writer, typeName(reader));
  return new SchemaMismatchError(found?.path ?? typeName(reader), found?.reason ?? (err as Error).message);
}

/**
 * Walks a reader and a writer type side by side to name the first field the
 * reader cannot resolve; avsc's own message does not say where.
 */
function findMismatch(reader: avro.Type, writer: avro.Type, path: string): { path: string; reason: string } | undefined {
  if (isRecord(reader) && isRecord(writer)) {
    const writerFields = new Map<string, avro.Type>();
    for (const f of (writer as avro.types.RecordType).fields) writerFields.set(f.name, f.type);
    for (const field of (reader as avro.types.RecordType).fields) {
      const names = [field.name, ...(field.aliases ?? [])];
      const match = names.map((n) => writerFields.get(n)).find((t) => t !== undefined);
      if (match === undefined) {
        if (field.defaultValue() === undefined) {
          return { path: `${path}.${field.name}`, reason: 'the writer has no such field and the reader gives no default' };
        }
        continue;
      }
      // Inside rxwire's envelope the path restarts at the user's type, in the field that carries it;
      // the envelope's own fields (a request's `kind`, a stage's `seq`) are named as any others.
      const carrier = isEnvelope(reader) && USER_VALUE_FIELDS.has(field.name);
      const [r, w] = carrier ? unwrapCollections(field.type, match) : [field.type, match];
      const inner = findMismatch(r, w, carrier ? typeName(r) : `${path}.${field.name}`);
      if (inner) return inner;
    }
    return undefined;
  }
  try {
    reader.createResolver(writer);
    return undefined;
  } catch {
    if (isUnion(reader) && isUnion(writer)) {
      // The branches of one name (or primitive) on both sides: the first that cannot resolve is named at this path.
      for (const branch of branchesOf(writer)) {
        const same = branchesOf(reader).find((b) => b.typeName === branch.typeName && b.name === branch.name);
        const inner = same && findMismatch(same, branch, path);
        if (inner) return inner;
      }
    }
    if (reader.typeName === 'array' && writer.typeName === 'array') {
      return findMismatch((reader as avro.types.ArrayType).itemsType, (writer as avro.types.ArrayType).itemsType, `${path}[]`);
    }
    if (reader.typeName === 'map' && writer.typeName === 'map') {
      return findMismatch((reader as avro.types.MapType).valuesType, (writer as avro.types.MapType).valuesType, `${path}{}`);
    }
    return { path, reason: `cannot read ${describeType(writer)} as ${describeType(reader)}` };
  }
}

/** The item types of a reader's and a writer's arrays or maps, layer by layer, while both are of one kind. */
function unwrapCollections(reader: avro.Type, writer: avro.Type): [avro.Type, avro.Type] {
  while (reader.typeName === writer.typeName && (reader.typeName === 'array' || reader.typeName === 'map')) {
    if (reader.typeName === 'array') {
      reader = (reader as avro.types.ArrayType).itemsType;
      writer = (writer as avro.types.ArrayType).itemsType;
    } else {
      reader = (reader as avro.types.MapType).valuesType;
      writer = (writer as avro.types.MapType).valuesType;
    }
  }
  return [reader, writer];
}

/** The fields of rxwire's envelopes that carry the user's values (core/frame.ts, operators/stage-internals.ts). */
const USER_VALUE_FIELDS = new Set(['value', 'values']);

function isUnion(type: avro.Type): boolean {
  return type.typeName.startsWith('union');
}

function branchesOf(union: avro.Type): avro.Type[] {
  return (union as unknown as { types: avro.Type[] }).types;
}

function isRecord(type: avro.Type): boolean {
  return type.typeName === 'record' || type.typeName === 'error';
}

function describeType(type: avro.Type): string {
  return type.name ? `${type.typeName} ${type.name}` : typeName(type);
}
