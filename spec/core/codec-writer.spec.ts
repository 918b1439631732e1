/**
 * The checked writers (core/codec-writer.ts) against avsc itself: for
 * seeded random values, valid and broken at random places, a codec's
 * encodeInto must refuse exactly what `isValid` refuses, with the error
 * `check` gives, and write exactly avsc's bytes for the rest.
 */
import * as avro from 'avsc';
import { codec, codecOfType } from '../../core/codec';
import { strictStrings } from '../../core/codec-strings';
import { EncodeError, ErrorCode } from '../../core/errors';
import { rng } from '../fixtures/records';

/** A logical type of the user's own: a Date carried as a long (checked, then written, by avsc's two walks). */
class DateType extends avro.types.LogicalType {
  override _fromValue(n: number): Date {
    return new Date(n);
  }
  override _toValue(d: unknown): number | undefined {
    return d instanceof Date ? d.getTime() : undefined;
  }
}

const SCHEMAS: Record<string, unknown> = {
  trade: {
    type: 'record',
    name: 'Trade',
    fields: [
      { name: 'id', type: 'long' },
      { name: 'ts', type: 'double' },
      { name: 'sym', type: 'string' },
      { name: 'price', type: 'double' },
      { name: 'qty', type: 'int' },
    ],
  },
  defaults: {
    type: 'record',
    name: 'Opts',
    fields: [
      { name: 'length', type: 'int', default: 1 },
      { name: 'note', type: ['null', 'string'], default: null },
      { name: 'flag', type: 'boolean', default: false },
    ],
  },
  nested: {
    type: 'record',
    name: 'Order',
    namespace: 'shop',
    fields: [
      { name: 'legs', type: { type: 'array', items: { type: 'record', name: 'Leg', fields: [{ name: 'qty', type: 'int' }, { name: 'px', type: 'float' }] } } },
      { name: 'tags', type: { type: 'map', values: 'string' } },
      { name: 'side', type: { type: 'enum', name: 'Side', symbols: ['BUY', 'SELL'] } },
      { name: 'id', type: { type: 'fixed', name: 'Id', size: 4 } },
      { name: 'blob', type: 'bytes' },
      { name: 'first', type: ['null', 'Leg'] },
      { name: 'any', type: ['int', 'string', 'Leg', { type: 'array', items: 'long' }, { type: 'map', values: 'boolean' }, 'bytes'] },
    ],
  },
  recursive: { type: 'record', name: 'Node', fields: [{ name: 'value', type: 'int' }, { name: 'next', type: ['null', 'Node'] }] },
  union: ['null', 'string'],
  primitive: 'long',
  arrays: { type: 'array', items: { type: 'array', items: ['null', 'double'] } },
};

function strictType(schema: unknown): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, { typeHook: strictStrings });
}

const JUNK: unknown[] = [null, undefined, 0, -1, 1.5, 2 ** 31, 2 ** 53, NaN, Infinity, '', 'a\uD800', 'length', true, [], [1], {}, { length: 3 }, Buffer.alloc(3), new Uint8Array(2), () => 1];

/** A value of `type` (valid when `junk` is 0), with each part replaced by junk at the rate `junk`. */
function generate(type: avro.Type, next: () => number, junk: number, depth = 0): unknown {
  if (next() < junk) return JUNK[Math.floor(next() * JUNK.length)];
  const pick = <V>(xs: readonly V[]): V => xs[Math.floor(next() * xs.length)];
  const t = type as unknown as Record<string, unknown>;
  switch (type.typeName) {
    case 'null':
      return null;
    case 'boolean':
      return next() < 0.5;
    case 'int':
      return pick([0, -1, 63, 64, 2 ** 31 - 1, -(2 ** 31)]);
    case 'long':
      return pick([0, -64, 8191, 2 ** 40, -(2 ** 52), Number.MAX_SAFE_INTEGER - 1]);
    case 'float':
    case 'double':
      return pick([0, -0.5, 1e300, 3.25, NaN]);
    case 'string':
      return pick(['', 'ACME', 'é 😀 中文', 'x'.repeat(70)]);
    case 'bytes':
      return Buffer.from([1, 2, 3].slice(0, Math.floor(next() * 4)));
    case 'enum':
      return pick(t.symbols as string[]);
    case 'fixed':
      return Buffer.alloc(t.size as number, 7);
    case 'array':
      return Array.from({ length: Math.floor(next() * 4) }, () => generate(t.itemsType as avro.Type, next, junk, depth + 1));
    case 'map': {
      const out: Record<string, unknown> = {};
      const n = Math.floor(next() * 4);
      for (let i = 0; i < n; i++) out[next() < junk ? `k\uD800${i}` : `k${i}`] = generate(t.valuesType as avro.Type, next, junk, depth + 1);
      return out;
    }
    case 'record':
    case 'error': {
      const out: Record<string, unknown> = {};
      for (const field of (type as avro.types.RecordType).fields) {
        if (field.defaultValue() !== undefined && next() < 0.3) continue;
        out[field.name] = generate(field.type, next, junk, depth + 1);
      }
      return out;
    }
    default: {
      if (type.typeName.startsWith('union')) {
        const branches = t.types as avro.Type[];
        const branch = depth > 3 && branches[0].typeName === 'null' ? branches[0] : pick(branches);
        const value = generate(branch, next, junk, depth + 1);
        if (type.typeName === 'union:unwrapped' || branch.typeName === 'null') return value;
        return { [branch.branchName!]: value };
      }
      if (type instanceof DateType) return next() < 0.5 ? new Date(1_700_000_000_000) : 1_700_000_000_000;
      throw new Error(`no generator for ${type.typeName}`);
    }
  }
}

function caught(fn: () => unknown): (Error & Record<string, unknown>) | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
}

/** Encodes seeded random values with `c` and compares with avsc's `isValid`, `check` and `toBuffer`; returns how many were valid and invalid. */
function compare(type: avro.Type, c = codecOfType(type), seed = 1, rounds = 600): { valid: number; invalid: number } {
  const next = rng(seed);
  const buf = Buffer.alloc(1 << 16);
  let valid = 0;
  let invalid = 0;
  for (let i = 0; i < rounds; i++) {
    const value = generate(type, next, [0, 0.08, 0.3][i % 3]);
    const fits = type.isValid(value);
    const fromCheck = caught(() => c.check(value));
    let end = -1;
    const fromEncode = caught(() => (end = c.encodeInto(value as never, buf, 0)));
    if (fits) {
      valid++;
      expect(fromCheck).toBeUndefined();
      expect(fromEncode).toBeUndefined();
      expect(buf.subarray(0, end)).toEqual(type.toBuffer(value));
    } else {
      invalid++;
      expect(fromEncode).toBeInstanceOf(EncodeError);
      expect(fromCheck).toBeInstanceOf(EncodeError);
      expect({ path: fromEncode!.path, expected: fromEncode!.expected, message: fromEncode!.message }).toEqual({
        path: fromCheck!.path,
        expected: fromCheck!.expected,
        message: fromCheck!.message,
      });
      // The same error from encode, and from a room too small for anything.
      expect(caught(() => c.encode(value as never))?.message).toBe(fromCheck!.message);
      expect(caught(() => c.encodeInto(value as never, Buffer.alloc(1), 0))?.message).toBe(fromCheck!.message);
    }
  }
  return { valid, invalid };
}

describe('checked writers (one walk: check while writing)', () => {
  for (const [name, schema] of Object.entries(SCHEMAS)) {
    it(`refuse exactly what isValid refuses, and write avsc's bytes otherwise: ${name}`, () => {
      const { valid, invalid } = compare(strictType(schema));
      // Both sides are exercised, or the comparison says nothing.
      expect(valid).toBeGreaterThan(150);
      expect(invalid).toBeGreaterThan(50);
    });
  }

  it('hold for avsc types built without rxwire strings, wrapped unions and logical types of the user', () => {
    const plain = avro.Type.forSchema(SCHEMAS.nested as avro.Schema);
    const wrapped = avro.Type.forSchema(SCHEMAS.nested as avro.Schema, { wrapUnions: true });
    const dated = avro.Type.forSchema(
      { type: 'record', name: 'Stamp', fields: [{ name: 'at', type: { type: 'long', logicalType: 'date-ms' } }, { name: 'note', type: 'string' }] } as avro.Schema,
      { logicalTypes: { 'date-ms': DateType } },
    );
    for (const type of [plain, wrapped, dated]) {
      const { valid, invalid } = compare(type, codecOfType(type), 7, 300);
      expect(valid).toBeGreaterThan(50);
      expect(invalid).toBeGreaterThan(20);
    }
  });

  it('refuse a value that is not an object where a record is due, even one whose fields all have defaults', () => {
    const Opts = codec(SCHEMAS.defaults as never);
    // avsc's own writer would write these as the defaults ('abc'.length is even an int).
    for (const value of ['abc', 5, true]) {
      expect(caught(() => Opts.encodeInto(value as never, Buffer.alloc(64), 0))).toMatchObject({ code: ErrorCode.ENCODE, path: 'Opts' });
    }
    expect(Opts.decode(Opts.encode({} as never))).toEqual({ length: 1, note: null, flag: false });
  });

  it('refuse a map key with a lone surrogate while writing', () => {
    const Tags = codec({ type: 'map', values: 'int' } as const);
    expect(caught(() => Tags.encodeInto({ ok: 1, 'k\uDC00': 2 }, Buffer.alloc(64), 0))).toMatchObject({ code: ErrorCode.ENCODE, path: 'map.k\uDC00' });
  });

  it('encode a value larger than the scratch at its exact size, checked', () => {
    const Big = codec({ type: 'record', name: 'Big', fields: [{ name: 's', type: 'string' }, { name: 'n', type: 'int' }] } as const);
    const value = { s: 'y'.repeat(10_000), n: 3 };
    const bytes = Big.encode(value);
    expect(bytes).toEqual(avro.Type.forSchema(Big.schema as avro.Schema).toBuffer(value));
    expect(bytes.buffer.byteLength).toBe(bytes.length);
    expect(Big.decode(bytes)).toEqual(value);
    expect(caught(() => Big.encode({ s: 'y'.repeat(10_000), n: 0.5 }))).toMatchObject({ path: 'Big.n', expected: 'int' });
  });
});
