import { codec, isCodec, raw } from '../../core/codec';
import { canonicalSchema } from '../../core/codec-avro';
import { codecFrom, specOf } from '../../pool/types';
import { MAX_FIELDS, MAX_NAMED_TYPES, MAX_TYPES } from '../../core/schema-names';
import { inputCodec, outputCodec } from '../../operators/stage-internals';
import { rpcCodec } from '../../operators/request-internals';
import { DecodeError, EncodeError, ErrorCode, SchemaMismatchError } from '../../core/errors';
import { NAMES_CASES } from '../fixtures/names';
import { rng } from '../fixtures/records';
import { Trade, tradeAt } from '../fixtures/trade';

describe('codec', () => {
  it('round-trips values, with the same bytes from encode and encodeInto', () => {
    for (let i = 0; i < 1000; i += 37) {
      const t = tradeAt(i);
      const bytes = Trade.encode(t);
      const buf = Buffer.alloc(bytes.length + 8, 0xee);
      const end = Trade.encodeInto(t, buf, 4);
      expect(end).toBe(4 + bytes.length);
      expect(buf.subarray(4, end)).toEqual(bytes);
      // Guard bytes on both sides are untouched.
      expect([...buf.subarray(0, 4), ...buf.subarray(end)]).toEqual(Array(8).fill(0xee));
      expect(Trade.decode(buf, 4, end)).toEqual(t);
    }
  });

  it('encodeInto reports how many bytes were missing when the room is too small', () => {
    const t = tradeAt(1);
    const size = Trade.encode(t).length;
    const small = Buffer.alloc(size - 3);
    expect(Trade.encodeInto(t, small, 0)).toBe(-3);
    expect(Trade.encodeInto(t, Buffer.alloc(size), 0)).toBe(size);
  });

  it('decodes a value in the middle of a larger buffer and never shares its memory', () => {
    const Blob = codec({ type: 'record', name: 'Blob', fields: [{ name: 'data', type: 'bytes' }] } as const);
    const one = Blob.encode({ data: Buffer.from([1, 2, 3]) });
    const both = Buffer.concat([one, one]);
    const value = Blob.decode(both, one.length, both.length);
    both.fill(0);
    expect([...value.data]).toEqual([1, 2, 3]);
  });

  it('a value that does not fit fails with EncodeError naming the field path and the expected type', () => {
    const bad = { ...tradeAt(0), price: 'cheap' };
    const err = catchError(() => Trade.encode(bad as never));
    expect(err).toBeInstanceOf(EncodeError);
    expect(err).toMatchObject({ code: ErrorCode.ENCODE, path: 'Trade.price', expected: 'double', actual: 'cheap' });
    expect(err.message).toBe('cannot encode Trade.price: expected double, got "cheap"');

    const Order = codec({
      type: 'record',
      name: 'Order',
      fields: [{ name: 'legs', type: { type: 'array', items: { type: 'record', name: 'Leg', fields: [{ name: 'qty', type: 'int' }] } } }],
    } as const);
    expect(catchError(() => Order.encode({ legs: [{ qty: 1 }, { qty: 2.5 }] }))).toMatchObject({ path: 'Order.legs.1.qty', expected: 'int' });
    expect(catchError(() => Order.encodeInto(null as never, Buffer.alloc(64), 0))).toMatchObject({ path: 'Order' });
    expect(catchError(() => codec(['null', 'string'] as const).encode(3 as never))).toMatchObject({ expected: 'null | string' });
  });

  it('truncated, trailing and garbage bytes fail with DecodeError', () => {
    const bytes = Trade.encode(tradeAt(3));
    expect(catchError(() => Trade.decode(bytes.subarray(0, bytes.length - 1)))).toBeInstanceOf(DecodeError);
    expect(catchError(() => Trade.decode(Buffer.concat([bytes, Buffer.from([0])])))).toBeInstanceOf(DecodeError);
    expect(catchError(() => Trade.decode(bytes, 0, bytes.length + 1))).toBeInstanceOf(DecodeError);
    // A value that runs into what follows it in the buffer is an overrun, not a value.
    const two = Buffer.concat([bytes, bytes]);
    expect(catchError(() => Trade.decode(two, 0, bytes.length - 2))).toBeInstanceOf(DecodeError);
    // Seeded garbage: every outcome is a value or a DecodeError, never anything else.
    const random = rng(42);
    let decoded = 0;
    for (let i = 0; i < 2000; i++) {
      const junk = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 40) }, () => Math.floor(random() * 256)));
      try {
        Trade.decode(junk);
        decoded++;
      } catch (err) {
        expect(err).toBeInstanceOf(DecodeError);
      }
    }
    expect(decoded).toBeLessThan(2000);
  });

  it('equal schemas have equal fingerprints; different ones do not', () => {
    // The same schema, built again from its JSON form.
    const again = codec(JSON.parse(JSON.stringify(Trade.schema)) as { type: 'record' });
    expect(again.fingerprint).toBe(Trade.fingerprint);
    expect(Trade.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(codec('string').fingerprint).not.toBe(Trade.fingerprint);
    expect(Trade.schema).toMatchObject({ type: 'record', name: 'Trade' });
  });

  it('refuses a union whose branches a value cannot choose between (avsc wrapped it, against its type): TypeError naming it', () => {
    // Before, `{ x: 1 }` typed as A | B was refused at encode, and received values came as { A: { x: 1 } }.
    const A = { type: 'record', name: 'A', fields: [{ name: 'x', type: 'int' }] } as const;
    const B = { type: 'record', name: 'B', fields: [{ name: 'y', type: 'int' }] } as const;
    expect(() => codec({ type: 'record', name: 'X', fields: [{ name: 'u', type: [A, B] }] } as never)).toThrow(/the union \[A, B\] has branches a value cannot choose between/);
    expect(() => codec(['int', 'double'] as never)).toThrow(TypeError);
    expect(() => codec({ type: 'array', items: ['string', { type: 'enum', name: 'E', symbols: ['X'] }] } as never)).toThrow(/\[string, E\]/);
    // Branches of distinct kinds stay as they were.
    const Fine = codec({ type: 'record', name: 'F', fields: [{ name: 'u', type: ['null', 'string', 'int', A] }] } as const);
    for (const u of [null, 's', 7, { x: 1 }]) expect(Fine.decode(Fine.encode({ u }))).toEqual({ u });
  });

  it("a dotted name's namespace is its prefix, whatever its namespace attribute says (the Avro spec): its nested types are named in it", () => {
    // Before, a nested Q took the attribute's namespace: 'ignored.Q' in the canonical form (so another
    // implementation's fingerprint differed), and a reference to a.b.Q failed with avsc's "undefined type name".
    const P = codec({
      type: 'record',
      name: 'a.b.P',
      namespace: 'ignored',
      fields: [
        { name: 'q', type: { type: 'record', name: 'Q', fields: [{ name: 'x', type: 'int' }] } },
        { name: 'r', type: 'a.b.Q' },
      ],
    } as never);
    expect(JSON.stringify(P.schema)).toContain('{"name":"a.b.Q","type":"record"');
    expect(P.decode(P.encode({ q: { x: 1 }, r: { x: 2 } } as never))).toEqual({ q: { x: 1 }, r: { x: 2 } });
  });

  describe('a type in no namespace nested in a namespaced record (the Avro rules read its canonical form as in that namespace)', () => {
    it.each(NAMES_CASES)("$name: resolve reads the writer's canonical form as the writer meant it", ({ writer, reader, value, read }) => {
      const W = codec(writer as never);
      const R = codec(reader as never);
      const hello = JSON.parse(JSON.stringify(W.schema)); // as a HELLO carries it
      expect(W.resolve(hello)).toBe(W); // its own fingerprint: before, a mismatch, or avsc's duplicate type name
      expect(R.resolve(hello).decode(W.encode(value as never))).toEqual(read);
      expect(canonicalSchema(hello)).toEqual(W.schema); // what TCP's guard walks
    });

    it.each(NAMES_CASES)('$name: the codec a worker rebuilds (stage, pipeline, WorkerPool) is the same codec', ({ writer, value }) => {
      const W = codec(writer as never);
      const there = codecFrom(structuredClone(specOf(W)));
      expect(there.fingerprint).toBe(W.fingerprint);
      expect(there.decode(W.encode(value as never))).toEqual(value);
    });

    it('a schema written by hand is read by the Avro rules, though it looks like a canonical form', () => {
      const inner = { name: 'Inner', type: 'record', fields: [{ name: 'a', type: 'int' }] };
      const hand = { name: 'com.x.Outer', type: 'record', fields: [{ name: 'p', type: inner }] };
      expect(JSON.stringify(codec(hand as never).schema)).toContain('{"name":"com.x.Inner"');
      // And a writer's schema that is not a canonical form (as another implementation may send): short names.
      const short = { type: 'record', name: 'Outer', namespace: 'com.x', fields: [{ name: 'p', type: inner }, { name: 'q', type: 'Inner' }] };
      const R = codec({ ...short, fields: [...short.fields, { name: 'n', type: 'int', default: 7 }] } as never);
      expect(R.resolve(short as never).decode(codec(short as never).encode({ p: { a: 1 }, q: { a: 2 } } as never))).toEqual({ p: { a: 1 }, q: { a: 2 }, n: 7 });
    });

    it('a type in no namespace defined twice, identically, inside a namespace: the repeat refers to it (it was read as com.x.Inner, undefined)', () => {
      const inner = { type: 'record', name: 'Inner', namespace: '', fields: [{ name: 'a', type: 'int' }] };
      const Outer = codec({ type: 'record', name: 'Outer', namespace: 'com.x', fields: [{ name: 'p', type: inner }, { name: 'q', type: inner }] } as never);
      expect(JSON.stringify(Outer.schema)).toContain('{"name":"q","type":"Inner"}');
      expect(Outer.decode(Outer.encode({ p: { a: 1 }, q: { a: 2 } } as never))).toEqual({ p: { a: 1 }, q: { a: 2 } });
    });
  });

  describe('resolve (schema evolution)', () => {
    it("names the field at fault as PROTOCOL.md's REJECT path says: an envelope's own field in full, a union's branch from its field", () => {
      // Before, the envelope's own fields were named by their type alone ("int"), and a union's branch not at all.
      const reason = (reader: { resolve(w: never): unknown }, writer: unknown) => {
        const err = catchError(() => reader.resolve(writer as never)) as unknown as SchemaMismatchError;
        return [err.path, err.reason];
      };
      const envelope = () => JSON.parse(JSON.stringify(rpcCodec().schema));
      const kindAsString = envelope();
      kindAsString.fields[1].type = 'string';
      expect(reason(rpcCodec(), kindAsString)).toEqual(['rxwire.RpcEnvelope.kind', 'cannot read string as int']);
      const errorName = envelope();
      errorName.fields[3].type[1].fields[0].type = 'int';
      expect(reason(rpcCodec(), errorName)).toEqual(['rxwire.RpcEnvelope.error.name', 'cannot read int as string']);
      const U = codec({ type: 'record', name: 'U', fields: [{ name: 'o', type: ['null', { type: 'record', name: 'In', fields: [{ name: 'x', type: 'int' }] }] }] } as const);
      const branch = JSON.parse(JSON.stringify(U.schema));
      branch.fields[0].type[1].fields[0].type = 'string';
      expect(reason(U, branch)).toEqual(['U.o.x', 'cannot read string as int']);
      const input = inputCodec<unknown>({ kind: 'avro', schema: Trade.schema } as never);
      const seq = JSON.parse(JSON.stringify(input.schema));
      seq.fields[0].type = 'string';
      expect(reason(input, seq)).toEqual(['RxwireStageInput.seq', 'cannot read string as long']);
      const qty = JSON.parse(JSON.stringify(input.schema));
      qty.fields[1].type.fields[4].type = 'string';
      expect(reason(input, qty)).toEqual(['Trade.qty', 'cannot read string as int']);
    });

    const V1 = codec({
      type: 'record',
      name: 'Quote',
      fields: [
        { name: 'sym', type: 'string' },
        { name: 'bid', type: 'int' },
        { name: 'legacy', type: 'string' },
      ],
    } as const);
    const V2 = codec({
      type: 'record',
      name: 'Quote',
      fields: [
        { name: 'sym', type: 'string' },
        { name: 'bid', type: 'long' },
        { name: 'venue', type: 'string', default: 'XNYS' },
      ],
    } as const);

    it('a newer reader reads an older writer: added field defaulted, int promoted, dropped field skipped', () => {
      const bytes = V1.encode({ sym: 'ACME', bid: 10, legacy: 'x' });
      expect(V2.resolve(V1).decode(bytes)).toEqual({ sym: 'ACME', bid: 10, venue: 'XNYS' });
      expect(V2.resolve(V1.schema as never).decode(bytes)).toEqual({ sym: 'ACME', bid: 10, venue: 'XNYS' });
    });

    it('an older reader reads a newer writer when the newer one keeps what it needs', () => {
      const Old = codec({ type: 'record', name: 'Quote', fields: [{ name: 'sym', type: 'string' }] } as const);
      expect(Old.resolve(V2).decode(V2.encode({ sym: 'ACME', bid: 1, venue: 'X' }))).toEqual({ sym: 'ACME' });
    });

    it('resolving equal schemas gives the codec itself', () => {
      expect(Trade.resolve(Trade)).toBe(Trade);
    });

    it('incompatible schemas fail with SchemaMismatchError naming the field', () => {
      const missing = catchError(() => V1.resolve(V2));
      expect(missing).toBeInstanceOf(SchemaMismatchError);
      expect(missing).toMatchObject({ code: ErrorCode.SCHEMA_MISMATCH, path: 'Quote.bid' });
      const Strict = codec({
        type: 'record',
        name: 'Quote',
        fields: [
          { name: 'sym', type: 'string' },
          { name: 'extra', type: 'int' },
        ],
      } as const);
      expect(catchError(() => Strict.resolve(V1))).toMatchObject({ path: 'Quote.extra' });
      const Nested = (item: string) =>
        codec({ type: 'record', name: 'Book', fields: [{ name: 'levels', type: { type: 'array', items: item } }] } as never);
      expect(catchError(() => Nested('int').resolve(Nested('string')))).toMatchObject({ path: 'Book.levels[]' });
    });
  });

  describe('raw', () => {
    it('carries bytes as they are, and returns a copy', () => {
      const bytes = new Uint8Array([1, 2, 3]);
      expect(raw.encode(bytes)).toEqual(Buffer.from([1, 2, 3]));
      const buf = Buffer.alloc(5);
      expect(raw.encodeInto(bytes, buf, 1)).toBe(4);
      expect(raw.encodeInto(bytes, buf, 4)).toBe(-2);
      const out = raw.decode(buf, 1, 4);
      buf.fill(0);
      expect([...out]).toEqual([1, 2, 3]);
    });

    it('refuses what is not bytes, and Avro writers', () => {
      expect(catchError(() => raw.encode('text' as never))).toBeInstanceOf(EncodeError);
      expect(catchError(() => raw.resolve(Trade))).toBeInstanceOf(SchemaMismatchError);
      expect(catchError(() => Trade.resolve(raw))).toBeInstanceOf(SchemaMismatchError);
    });
  });

  describe('values that cannot be encoded faithfully (issue 14.7)', () => {
    const Msg = codec({
      type: 'record',
      name: 'Msg',
      fields: [
        { name: 'text', type: 'string' },
        { name: 'tags', type: { type: 'map', values: 'string' } },
        { name: 'notes', type: { type: 'array', items: ['null', 'string'] } },
      ],
    } as const);
    const ok = { text: 'ok', tags: {}, notes: [] };

    it('a string with a lone surrogate fails with EncodeError naming the field, from encode and encodeInto', () => {
      for (const text of ['a\uD800b', 'a\uDC00', '\uD83D', 'x'.repeat(100) + '\uDBFF']) {
        for (const encode of [() => Msg.encode({ ...ok, text }), () => Msg.encodeInto({ ...ok, text }, Buffer.alloc(512), 0)]) {
          const err = catchError(encode);
          expect(err).toBeInstanceOf(EncodeError);
          expect(err).toMatchObject({ code: ErrorCode.ENCODE, path: 'Msg.text', actual: text });
          expect(err.message).toContain('no lone surrogate');
        }
      }
      expect(catchError(() => Msg.encode({ ...ok, notes: [null, 'b\uD800'] }))).toMatchObject({ path: 'Msg.notes.1' });
      expect(catchError(() => Msg.encode({ ...ok, tags: { k: 'v\uDFFF' } }))).toMatchObject({ path: 'Msg.tags.k' });
      expect(catchError(() => Msg.encode({ ...ok, tags: { 'k\uD800': 'v' } }))).toMatchObject({ code: ErrorCode.ENCODE, path: 'Msg.tags.k\uD800' });
    });

    it('with validate: false a lone surrogate is still refused, and the field still named', () => {
      const Fast = codec(Msg.schema as never, { validate: false }) as typeof Msg;
      const err = catchError(() => Fast.encode({ ...ok, text: 'a\uD800b' }));
      expect(err).toBeInstanceOf(EncodeError);
      expect(err).toMatchObject({ path: 'Msg.text' });
    });

    it("an enum takes its own symbols only: 'toString', 'constructor', '__proto__' were written as symbol 0", () => {
      const Color = codec({ type: 'enum', name: 'Color', symbols: ['RED', 'GREEN'] } as const);
      const Box = codec({ type: 'record', name: 'Box', fields: [{ name: 'c', type: { type: 'enum', name: 'C', symbols: ['A', 'B'] } }] } as const);
      for (const symbol of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf']) {
        expect(catchError(() => Color.encode(symbol as never))).toBeInstanceOf(EncodeError);
        expect(catchError(() => Box.encode({ c: symbol as never }))).toMatchObject({ code: ErrorCode.ENCODE, path: 'Box.c' });
        expect(catchError(() => Box.check({ c: symbol }))).toBeInstanceOf(EncodeError);
        const Fast = codec(Box.schema as never, { validate: false }) as typeof Box;
        expect(catchError(() => Fast.encode({ c: symbol as never }))).toBeInstanceOf(EncodeError);
      }
      expect(Color.decode(Color.encode('GREEN'))).toBe('GREEN');
    });

    it('a map key __proto__ is read as a key, not as the decoded object’s prototype', () => {
      const Tags = codec({ type: 'map', values: 'int' } as const);
      // Two keys, "__proto__" → 5 and "a" → 1, as any writer may send them.
      const read = Tags.decode(Buffer.from('04125f5f70726f746f5f5f0a02610200', 'hex'));
      expect(Object.getPrototypeOf(read)).toBe(Object.prototype);
      expect(Object.keys(read)).toEqual(['__proto__', 'a']);
      expect(Object.getOwnPropertyDescriptor(read, '__proto__')?.value).toBe(5);
      const own = JSON.parse('{"__proto__": {"isAdmin": 1}, "b": {}}') as Record<string, never>;
      const Nested = codec({ type: 'map', values: { type: 'map', values: 'int' } } as const);
      const back = Nested.decode(Nested.encode(own));
      expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
      expect((back as Record<string, unknown>).isAdmin).toBeUndefined();
      expect(Object.keys(back)).toEqual(['__proto__', 'b']);
    });

    it('a record field named __proto__ is refused by codec() with a TypeError (avsc made its value the prototype)', () => {
      expect(() => codec({ type: 'record', name: 'P', fields: [{ name: '__proto__', type: 'int' }] } as never)).toThrow(/P has a field named __proto__/);
    });

    it("names a plain object already has are refused: a writer's field toString the reader lacked was read as the next field's bytes", () => {
      // The bytes of { toString: 4, s: 'abc' } under a writer whose first field is named toString (as any writer may send them).
      const Shape = codec({ type: 'record', name: 'R', fields: [{ name: 'n', type: 'int' }, { name: 's', type: 'string' }] } as const);
      const bytes = Shape.encode({ n: 4, s: 'abc' });
      const foreign = { type: 'record', name: 'R', fields: [{ name: 'toString', type: 'int' }, { name: 's', type: 'string' }] };
      const Reader = codec({ type: 'record', name: 'R', fields: [{ name: 's', type: 'string' }] } as const);
      // Before: resolved, and decode gave { s: '\u0006abc' }.
      expect(catchError(() => Reader.resolve(foreign as never).decode(bytes))).toMatchObject({ code: ErrorCode.SCHEMA_MISMATCH, path: '<root>' });
      expect(Reader.resolve({ ...foreign, fields: [{ name: 'n', type: 'int' }, foreign.fields[1]] } as never).decode(bytes)).toEqual({ s: 'abc' });
      for (const name of ['toString', 'valueOf', 'constructor', 'hasOwnProperty']) {
        expect(() => codec({ type: 'record', name: 'P', fields: [{ name, type: 'int' }] } as never)).toThrow(new RegExp(`P has a field named ${name}`));
        expect(() => codec({ type: 'record', name: 'P', fields: [{ name: 'a', type: 'int', aliases: [name] }] } as never)).toThrow(/P has a field named/);
      }
      expect(() => codec({ type: 'record', name: 'P', fields: [{ name: 'a', type: 'constructor' }] } as never)).toThrow(/a type named constructor/);
      expect(() => codec({ type: 'record', name: 'toString', fields: [] } as never)).toThrow(/a type named toString/);
      // `.toString` is `toString` in no namespace, from inside one too (it failed in avsc: `fieldType._attrs is not a function`).
      expect(() => codec({ type: 'record', name: 'R', namespace: 'x', fields: [{ name: 'a', type: '.toString' }] } as never)).toThrow(/a type named toString/);
      // In a namespace the full name is dotted: nothing to refuse.
      expect(codec({ type: 'record', name: 'toString', namespace: 'x', fields: [] } as never).schema).toMatchObject({ name: 'x.toString' });
      const Ref = codec({ type: 'record', name: 'R', namespace: 'x', fields: [{ name: 'a', type: { type: 'fixed', name: 'valueOf', size: 1 } }, { name: 'b', type: 'valueOf' }] } as never);
      expect(Ref.decode(Ref.encode({ a: Buffer.from([1]), b: Buffer.from([2]) } as never))).toMatchObject({ b: Buffer.from([2]) });
    });

    it('a schema of more named types or fields than the bounds is refused: a peer held a reading thread for 26 s with one HELLO', () => {
      const union = (n: number) => ({ type: 'array', items: Array.from({ length: n }, (_, i) => ({ type: 'record', name: `R${i}`, fields: [{ name: 'a', type: 'int' }] })) });
      const wide = (n: number) => ({ type: 'record', name: 'W', fields: Array.from({ length: n }, (_, i) => ({ name: `f${i}`, type: 'int' })) });
      expect(() => codec(wide(MAX_FIELDS + 1) as never)).toThrow(new RegExp(`more than ${MAX_FIELDS} record fields`));
      expect(codec(wide(100) as never).fingerprint).toMatch(/^[0-9a-f]{64}$/);
      const arrays = (depth: number): unknown => (depth === 0 ? 'int' : { type: 'array', items: arrays(depth - 1) });
      const nested = { ...wide(100), fields: wide(100).fields.map((f) => ({ ...f, type: arrays(MAX_TYPES / 100) })) };
      expect(() => codec(nested as never)).toThrow(new RegExp(`more than ${MAX_TYPES} types`));
      const Reader = codec({ type: 'record', name: 'W', fields: [] } as never);
      // A writer's schema over the bounds is refused by the walk before avsc builds anything (the reason is the
      // walk's own), with the typed error a HELLO's REJECT carries.
      const err = catchError(() => Reader.resolve(union(MAX_NAMED_TYPES + 1) as never)) as unknown as SchemaMismatchError;
      expect(err).toBeInstanceOf(SchemaMismatchError);
      expect(err).toMatchObject({ code: ErrorCode.SCHEMA_MISMATCH, path: '<root>' });
      expect(err.reason).toMatch(new RegExp(`^the writer's schema is not a valid Avro schema: the schema has more than ${MAX_NAMED_TYPES} named types`));
      // A name defined again differently is refused at once; only then are the two compared as JSON (stringifying
      // every definition cost a peer's 999 nested records, within the bounds, 16 s).
      const twice = { type: 'record', name: 'T', fields: [{ name: 'a', type: { type: 'fixed', name: 'X', size: 1 } }, { name: 'b', type: { type: 'fixed', name: 'X', size: 2 } }] };
      expect(() => codec(twice as never)).toThrow(/T\.X|X is defined twice, differently/);
    });

    it('a string or map with a logicalType is checked as any other (a lone surrogate in a uuid was let through)', () => {
      const Id = codec({ type: 'string', logicalType: 'uuid' } as never);
      expect(catchError(() => Id.encode('a\uD800b' as never))).toBeInstanceOf(EncodeError);
      const Ids = codec({ type: 'record', name: 'Ids', fields: [{ name: 'id', type: { type: 'string', logicalType: 'uuid' } }, { name: 'm', type: { type: 'map', values: 'int', logicalType: 'x' } }] } as never);
      expect(catchError(() => Ids.encode({ id: 'a\uDC00', m: {} } as never))).toMatchObject({ path: 'Ids.id' });
      expect(catchError(() => Ids.encode({ id: 'a', m: { 'k\uD800': 1 } } as never))).toBeInstanceOf(EncodeError);
      expect(Id.decode(Id.encode('5f1c' as never))).toBe('5f1c');
    });

    it('a finite number past the range of a float is refused (1e40 was written as Infinity); NaN and ±Infinity still go', () => {
      const F = codec({ type: 'record', name: 'F', fields: [{ name: 'f', type: 'float' }] } as const);
      for (const f of [1e40, -3.5e38, Number.MAX_VALUE]) {
        expect(catchError(() => F.encode({ f }))).toMatchObject({ code: ErrorCode.ENCODE, path: 'F.f' });
        expect(catchError(() => codec('float').encode(f))).toBeInstanceOf(EncodeError);
      }
      for (const f of [3.4028234663852886e38, -3.4028234663852886e38, 1.5, Infinity, -Infinity]) expect(F.decode(F.encode({ f })).f).toBe(f);
      expect(F.decode(F.encode({ f: NaN })).f).toBeNaN();
    });

    it('every well-formed string round-trips unchanged, surrogate pairs included', () => {
      const value = { text: 'é ü 😀 \uD83D\uDE00 中文 \u0000', tags: { 'ключ': '値' }, notes: ['x'.repeat(200) + '😀', null] };
      expect(Msg.decode(Msg.encode(value))).toEqual(value);
      // The check changes no byte: the schema and its fingerprint are avsc's own.
      expect(Msg.schema).toEqual(codec(Msg.schema as never).schema);
    });

    it('a cyclic value in a recursive schema fails with EncodeError naming the field that closes the cycle', () => {
      const Node = codec({ type: 'record', name: 'Node', fields: [{ name: 'value', type: 'int' }, { name: 'next', type: ['null', 'Node'] }] } as const);
      type Node = { value: number; next: Node | null };
      const head: Node = { value: 1, next: { value: 2, next: null } };
      head.next!.next = head;
      for (const c of [Node, codec(Node.schema as never, { validate: false }) as typeof Node]) {
        const err = catchError(() => c.encode(head));
        expect(err).toBeInstanceOf(EncodeError);
        expect(err).toMatchObject({ code: ErrorCode.ENCODE, path: 'Node.next.next', expected: 'an acyclic value' });
      }
      // A value shared twice (not a cycle) is fine.
      const shared: Node = { value: 3, next: null };
      expect(Node.decode(Node.encode({ value: 1, next: { value: 2, next: shared } }))).toEqual({ value: 1, next: { value: 2, next: shared } });
    });
  });

  it('a value whose getter throws fails with EncodeError (the getter\'s error its cause), from encode, encodeInto and check', () => {
    // The getter's own RangeError escaped: explaining the failure read the getter again.
    const Point = codec({ type: 'record', name: 'Point', fields: [{ name: 'x', type: 'int' }] } as const);
    const boom = new RangeError('getter boom');
    const value = Object.defineProperty({}, 'x', { enumerable: true, get: () => { throw boom; } }) as { x: number };
    for (const c of [Point, codec(Point.schema as never, { validate: false }) as typeof Point]) {
      for (const call of [() => c.encode(value), () => c.encodeInto(value, Buffer.alloc(64), 0), () => c.check(value)]) {
        const err = catchError(call);
        expect(err).toBeInstanceOf(EncodeError);
        expect(err).toMatchObject({ code: ErrorCode.ENCODE, cause: boom });
        expect(err.message).toContain('getter boom');
      }
    }
  });

  it("errors name the user's type and field, not rxwire's envelope (issue 14.10)", () => {
    const spec = { kind: 'avro', schema: Trade.schema } as never;
    const down = inputCodec(spec);
    const err = catchError(() => down.encode({ seq: 1, value: { ...tradeAt(0), price: 'cheap' } } as never));
    expect(err).toMatchObject({ code: ErrorCode.ENCODE, path: 'Trade.price', expected: 'double' });
    expect(err.message).toBe('cannot encode Trade.price: expected double, got "cheap"');
    const up = outputCodec(spec);
    const bad = { seq: 1, values: [tradeAt(1), { ...tradeAt(2), qty: 'many' }], last: true };
    expect(catchError(() => up.encode(bad as never))).toMatchObject({ path: expect.stringMatching(/^Trade\.qty$/) });
    // A user value of a primitive type is named by its type.
    const ints = inputCodec({ kind: 'avro', schema: 'int' } as never);
    expect(catchError(() => ints.encode({ seq: 1, value: 'x' } as never))).toMatchObject({ path: 'int', expected: 'int' });
    // A schema mismatch inside the envelope names the user's type too.
    const Cheap = { ...(Trade.schema as object), fields: (Trade.schema as { fields: { name: string }[] }).fields.map((f) => (f.name === 'price' ? { ...f, type: 'string' } : f)) };
    const cheap = { kind: 'avro', schema: Cheap } as never;
    expect(catchError(() => down.resolve(inputCodec(cheap).schema as never))).toMatchObject({ code: ErrorCode.SCHEMA_MISMATCH, path: 'Trade.price' });
    expect(catchError(() => up.resolve(outputCodec(cheap).schema as never))).toMatchObject({ code: ErrorCode.SCHEMA_MISMATCH, path: 'Trade.price' });
  });

  it('isCodec recognizes every codec with the Codec interface: codec(), raw, rpcCodec(), and nothing else', () => {
    expect(isCodec(Trade)).toBe(true);
    expect(isCodec(raw)).toBe(true);
    expect(isCodec(rpcCodec())).toBe(true);
    expect(isCodec(inputCodec({ kind: 'raw' } as never))).toBe(true);
    for (const x of [undefined, null, 42, 'int', {}, Trade.schema, { fingerprint: 'raw', encode() {} }, { ...Trade }]) {
      expect(isCodec(x)).toBe(false);
    }
  });

  it('resolve accepts a hand-written codec as the writer', () => {
    const Older = codec({ type: 'record', name: 'P', fields: [{ name: 'x', type: 'int' }] } as const);
    const Newer = codec({ type: 'record', name: 'P', fields: [{ name: 'x', type: 'long' }, { name: 'y', type: 'int', default: 7 }] } as const);
    const handWritten = { ...Older, schema: Older.schema, fingerprint: Older.fingerprint, encode: Older.encode, encodeInto: Older.encodeInto, decode: Older.decode, resolve: Older.resolve, check: Older.check };
    expect(isCodec(handWritten)).toBe(true);
    expect(Newer.resolve(handWritten).decode(Older.encode({ x: 3 }))).toEqual({ x: 3, y: 7 });
  });

  it('validate: false skips the check (for values known to fit)', () => {
    const Fast = codec('int', { validate: false });
    expect(Fast.decode(Fast.encode(7))).toBe(7);
    expect(catchError(() => codec('int').encode(1.5))).toBeInstanceOf(EncodeError);
  });
});

function catchError(fn: () => unknown): Error & Record<string, unknown> {
  try {
    fn();
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error('expected an error');
}
