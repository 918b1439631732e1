/**
 * Strings that UTF-8 cannot carry. A JavaScript string is UTF-16 and may hold
 * a lone surrogate (`'a\uD800b'`); UTF-8 has no bytes for it, so avsc would
 * write replacement bytes and the reader would get a different string.
 * rxwire refuses such strings instead, with an `EncodeError` naming the
 * field. The test is `String.prototype.isWellFormed`, which V8 answers at
 * once for strings held as one byte per character (all Latin-1 text), so
 * ordinary values pay next to nothing.
 *
 * avsc freezes its types, so the check is built in when the schema is
 * parsed: {@link strictStrings} is an avsc `typeHook` that makes every
 * `string` type, and every map (for its keys), one of the subclasses below.
 * Their schema, and so their bytes and fingerprint, are avsc's own.
 */
import * as avro from 'avsc';
import { fastNumbers, readString, writeString } from './codec-reads';
import type { Tap } from './codec-tap';
import { EncodeError } from './errors';

/** avsc's internal hook signature for `_check` (avsc 5.7): reports the failing value and its type. */
type Hook = (val: unknown, type: avro.Type) => void;

/** The part of avsc's internal type protocol these subclasses override. */
interface Internals {
  _check(val: unknown, flags: number, hook?: Hook, path?: string[]): boolean;
  _write(tap: { writeString(s: string): void }, val: unknown): void;
}

/** `String.prototype.isWellFormed` (ES2024; Node 20 has it, the project's `lib` does not declare it). */
type WellFormedCheck = { isWellFormed(): boolean };

/** Is `s` a string whose UTF-8 form decodes back to itself? */
export function wellFormed(s: unknown): boolean {
  return typeof s === 'string' && (s as unknown as WellFormedCheck).isWellFormed();
}

const EXPECTED = 'a well-formed string (no lone surrogate)';

/** avsc's string type, refusing strings with lone surrogates in the check and in the write. */
export class StrictString extends avro.types.StringType {
  _check(val: unknown, _flags: number, hook?: Hook): boolean {
    const ok = wellFormed(val);
    if (!ok && hook) hook(val, this);
    return ok;
  }

  /** A short ASCII string without avsc's native call (core/codec-reads.ts). */
  _read(tap: Tap): string {
    return readString(tap);
  }

  _write(tap: Tap, val: unknown): void {
    // Reached without a check only with `validate: false`; the codec then
    // names the field by running the check.
    if (!wellFormed(val)) throw new EncodeError('string', EXPECTED, val);
    writeString(tap, val as string);
  }
}

/** avsc's map type, refusing keys with lone surrogates when values are checked, and reading `__proto__` as a key. */
export class StrictKeysMap extends avro.types.MapType {
  /**
   * avsc's read, but a key `__proto__` becomes an own property: avsc's
   * `val[key] = …` set the decoded object's prototype to the value instead
   * (the key lost, and the peer's object behind every property look-up).
   */
  _read(tap: Tap): Record<string, unknown> {
    const values = (this as unknown as { valuesType: { _read(tap: Tap): unknown } }).valuesType;
    const t = tap as Tap & { readLong(): number; skipLong(): void; readString(): string };
    const val: Record<string, unknown> = {};
    for (let n = t.readLong(); n !== 0; n = t.readLong()) {
      if (n < 0) {
        n = -n;
        t.skipLong(); // the block's byte size
      }
      while (n-- > 0) {
        const key = t.readString();
        const value = values._read(tap);
        if (key === '__proto__') Object.defineProperty(val, key, { value, enumerable: true, writable: true, configurable: true });
        else val[key] = value;
      }
    }
    return val;
  }

  _check(val: unknown, flags: number, hook?: Hook, path?: string[]): boolean {
    const check = (avro.types.MapType.prototype as unknown as Internals)._check;
    if (!check.call(this, val, flags, hook, path)) return false;
    for (const key of Object.keys(val as object)) {
      if (wellFormed(key)) continue;
      if (hook && path) {
        path.push(key);
        hook(key, this);
        path.pop();
      }
      return false;
    }
    return true;
  }
}

/**
 * avsc's enum type, whose symbols are own properties only: avsc looks a
 * value up in a plain object, so `'toString'` or `'constructor'` passed its
 * check and was written as symbol 0.
 */
export class StrictEnum extends avro.types.EnumType {
  _check(val: unknown, _flags: number, hook?: Hook): boolean {
    const ok = typeof val === 'string' && Object.hasOwn(this.indices, val);
    if (!ok && hook) hook(val, this);
    return ok;
  }

  _write(tap: Tap, val: unknown): void {
    if (typeof val !== 'string' || !Object.hasOwn(this.indices, val)) throw new EncodeError(this.name ?? 'enum', `one of ${this.symbols.join(', ')}`, val);
    (tap as Tap & { writeLong(n: number): void }).writeLong(this.indices[val]);
  }

  private get indices(): Record<string, number> {
    return (this as unknown as { _indices: Record<string, number> })._indices;
  }
}

/**
 * The `typeHook` for `avro.Type.forSchema` that builds the strict types
 * above. A `logicalType` changes nothing: codecs register no logical types,
 * so avsc reads such a string or map as a plain one (and a lone surrogate
 * in a `uuid` string was let through).
 */
export function strictStrings(schema: avro.Schema, opts: unknown): avro.Type | undefined {
  if (schema === 'string') return new StrictString();
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return undefined;
  const { type } = schema as { type?: unknown };
  if (type === 'string') return new StrictString();
  if (type === 'map') return new StrictKeysMap(schema, opts);
  if (type === 'enum') return new StrictEnum(schema, opts);
  return undefined;
}

/**
 * rxwire's avsc types, the `typeHook` of every schema a codec reads or
 * writes (its own, and a writer's it resolves): strings refused with lone
 * surrogates (above), numbers read faster and longs exact (core/codec-reads.ts).
 */
export function typeHook(schema: avro.Schema, opts: unknown): avro.Type | undefined {
  return strictStrings(schema, opts) ?? fastNumbers(schema);
}

/** What a strict type expected, when `actual` failed it for a lone surrogate: for messages. */
export function surrogateExpectation(type: avro.Type, actual: unknown): string | undefined {
  if (typeof actual !== 'string') return undefined;
  if (type instanceof StrictString) return EXPECTED;
  if (type instanceof StrictKeysMap) return `a map key that is ${EXPECTED}`;
  return undefined;
}
