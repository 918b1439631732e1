/**
 * Checked writers: for each avsc type of a schema, made once, a writer that
 * checks a value while it writes it, in one walk, and throws for exactly the
 * values avsc's `isValid` refuses. The codec used to walk every value twice,
 * `isValid` and then avsc's `_write` (which re-checks most of what it writes
 * anyway): for a Trade the first walk cost about as much as the second.
 *
 * How each type is written:
 * - avsc's primitive writers (null, boolean, int, long, float, double,
 *   string, rxwire's strict string, bytes, enum, fixed) already throw for
 *   every value their `_check` refuses: they are used as they are.
 * - A record: avsc's own writer reads the fields of whatever it is given (a
 *   string's `length`, a number's nothing, each field with a default then
 *   written as its default), so records get a writer of their own, generated
 *   once per record type as avsc generates its own: the value must be a
 *   non-null object, then each field is written by its checked writer (a
 *   field with a default may be `undefined`: its default's bytes).
 * - An array, a map (its keys well-formed too, core/codec-strings.ts) and a
 *   union without logical branches: avsc's loop, with the checked writers of
 *   the items, values or branches.
 * - Any other type (a logical type, avsc's wrapped unions, a type of the
 *   user's own given to `codecOfType`): its `_check`, then its `_write`, two
 *   walks as before.
 *
 * A writer that throws may have written part of the value past the offset
 * it was given: the codec then runs the explaining check
 * (core/codec-explain.ts) for the typed error, and no caller ever makes the
 * bytes of a failed encode visible. spec/core/codec-writer.spec.ts compares
 * the writers with `isValid` and `toBuffer`, value by value.
 */
import * as avro from 'avsc';
import { FastDouble, FastFloat } from './codec-reads';
import { ExactLong } from './codec-long';
import { StrictEnum, StrictKeysMap, StrictString, wellFormed } from './codec-strings';
import type { Tap } from './codec-tap';

/** Anything with avsc's internal write: the types themselves, and the writers made here. */
export interface Writer {
  _write(tap: Tap, value: unknown): void;
}

/** The avsc internals the writers use (avsc 5.7; stable across 5.x). */
interface AvscType {
  _check(value: unknown, flags: number): boolean;
  _write(tap: Tap, value: unknown): void;
}
interface WriteTap extends Tap {
  writeLong(n: number): void;
  writeString(s: string): void;
  writeBinary(s: string, length: number): void;
}
interface UnionInternals {
  readonly types: avro.Type[];
  readonly _dynamicBranches: unknown;
  _getIndex(value: unknown): number | undefined;
}

/** Types whose own `_write` throws for every value their `_check` refuses. */
const STRICT = new Set<object>(
  [
    avro.types.NullType,
    avro.types.BooleanType,
    avro.types.IntType,
    avro.types.LongType,
    ExactLong,
    avro.types.FloatType,
    avro.types.DoubleType,
    FastFloat,
    FastDouble,
    avro.types.StringType,
    StrictString,
    avro.types.BytesType,
    avro.types.EnumType,
    StrictEnum,
    avro.types.FixedType,
  ].map((c) => c.prototype as object),
);

/**
 * The checked writer of `type`: `_write(tap, value)` writes `value` at
 * `tap.pos` when `type.isValid(value)`, and throws otherwise (having
 * perhaps written part of it).
 */
export function checkedWriter(type: avro.Type): Writer {
  return writerOf(type, new Map());
}

/** A writer filled in once its parts are made: a recursive type refers to it before that. */
class Slot implements Writer {
  _write: (tap: Tap, value: unknown) => void = notYet;
}

function notYet(): never {
  throw new Error('a checked writer was used before it was made');
}

function writerOf(type: avro.Type, made: Map<avro.Type, Writer>): Writer {
  const known = made.get(type);
  if (known) return known;
  const proto = Object.getPrototypeOf(type) as object;
  if (STRICT.has(proto)) return type as unknown as Writer;
  const slot = new Slot();
  made.set(type, slot);
  if (proto === avro.types.RecordType.prototype) slot._write = recordWriter(type as avro.types.RecordType, made);
  else if (proto === avro.types.ArrayType.prototype) slot._write = arrayWriter(writerOf((type as avro.types.ArrayType).itemsType, made), type);
  else if (proto === avro.types.MapType.prototype || proto === StrictKeysMap.prototype) {
    slot._write = mapWriter(writerOf((type as avro.types.MapType).valuesType, made), proto === StrictKeysMap.prototype, type);
  } else if (proto === avro.types.UnwrappedUnionType.prototype && !(type as unknown as UnionInternals)._dynamicBranches) {
    slot._write = unionWriter(type as unknown as UnionInternals, made);
  } else slot._write = checkThenWrite(type as unknown as AvscType);
  return slot;
}

/** Thrown by a writer at the first part of a value that does not fit; the codec replaces it with the explained EncodeError. */
function misfit(value: unknown, type: avro.Type): never {
  throw new Error(`invalid ${type.typeName}: ${typeof value}`);
}

/**
 * A record's writer, generated as avsc generates its own, so that each field
 * is a named property read and a call on a fixed writer (both monomorphic).
 * Field names are Avro names (avsc has checked them), quoted all the same.
 */
function recordWriter(type: avro.types.RecordType, made: Map<avro.Type, Writer>): (tap: Tap, value: unknown) => void {
  const names = ['type', 'misfit'];
  const values: unknown[] = [type, misfit];
  let body = "if (v === null || typeof v != 'object') misfit(v, type);\n";
  type.fields.forEach((field, i) => {
    names.push(`w${i}`);
    values.push(writerOf(field.type, made));
    const read = `v[${JSON.stringify(field.name)}]`;
    const fallback = field.defaultValue();
    if (fallback === undefined) {
      body += `w${i}._write(t, ${read});\n`;
      return;
    }
    // As avsc: a field left out is written as its default, encoded once here.
    const bytes = field.type.toBuffer(fallback).toString('binary');
    names.push(`d${i}`);
    values.push(bytes);
    body += `var v${i} = ${read};\nif (v${i} === undefined) t.writeBinary(d${i}, ${bytes.length}); else w${i}._write(t, v${i});\n`;
  });
  const name = (type.name ?? 'record').replace(/\W/g, '_');
  const source = `return function write${name}(t, v) {\n${body}};`;
  // Compiled once per record type; the source holds only avsc-checked names, quoted.
  return new Function(...names, source)(...values) as (tap: Tap, value: unknown) => void;
}

function arrayWriter(items: Writer, type: avro.Type): (tap: Tap, value: unknown) => void {
  return (tap, value) => {
    if (!Array.isArray(value)) misfit(value, type);
    const t = tap as WriteTap;
    const n = value.length;
    if (n > 0) {
      t.writeLong(n);
      for (let i = 0; i < n; i++) items._write(t, value[i]);
    }
    t.writeLong(0);
  };
}

function mapWriter(values: Writer, strictKeys: boolean, type: avro.Type): (tap: Tap, value: unknown) => void {
  return (tap, value) => {
    if (!value || typeof value != 'object' || Array.isArray(value)) misfit(value, type);
    const t = tap as WriteTap;
    const keys = Object.keys(value);
    const n = keys.length;
    if (n > 0) {
      t.writeLong(n);
      for (let i = 0; i < n; i++) {
        const key = keys[i];
        if (strictKeys && !wellFormed(key)) misfit(key, type);
        t.writeString(key);
        values._write(t, (value as Record<string, unknown>)[key]);
      }
    }
    t.writeLong(0);
  };
}

/** A union's branch is chosen by the kind of value, as avsc chooses it; `null` is its index alone. */
function unionWriter(union: UnionInternals, made: Map<avro.Type, Writer>): (tap: Tap, value: unknown) => void {
  const branches = union.types.map((t) => writerOf(t, made));
  return (tap, value) => {
    const index = union._getIndex(value);
    if (index === undefined) misfit(value, union as unknown as avro.Type);
    (tap as WriteTap).writeLong(index);
    if (value !== null) branches[index]._write(tap, value);
  };
}

function checkThenWrite(type: AvscType): (tap: Tap, value: unknown) => void {
  return (tap, value) => {
    if (!type._check(value, 0)) misfit(value, type as unknown as avro.Type);
    type._write(tap, value);
  };
}
