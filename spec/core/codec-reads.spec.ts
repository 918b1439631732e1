/**
 * The codec's own reads and writes of doubles, floats and short ASCII
 * strings (core/codec-reads.ts) against avsc's, value by value: same values for the
 * same bytes, in plain and shared memory, at every offset,
 * and the same failures for bytes that run short.
 */
import * as avro from 'avsc';
import { codec } from '../../core/codec';
import { asciiAt, doubleAt, floatAt } from '../../core/codec-reads';
import { DecodeError, EncodeError } from '../../core/errors';
import { rng } from '../fixtures/records';

const Numbers = { type: 'record', name: 'Numbers', fields: [{ name: 'd', type: 'double' }, { name: 'f', type: 'float' }, { name: 's', type: 'string' }] } as const;

const DOUBLES = [0, -0, 1, -1, 0.1, Math.PI, 1e308, -1e-308, 5e-324, Number.MAX_VALUE, Number.MIN_VALUE, Infinity, -Infinity, NaN, 2 ** 53 + 2, 1_700_000_000_000.25];
const STRINGS = ['', 'a', 'AC', 'ACME', 'GLOBEX', 'INITECH', 'UMBRELLA', 'NINECHARS', 'a longer string than eight bytes', 'é', 'naïve', '\u0000\u007f', 'ab\u0080', '日本', '😀', 'abcdefg\u00ff'];

describe('codec reads and writes (doubles, floats, short strings)', () => {
  const ours = codec(Numbers);
  const theirs = avro.Type.forSchema(Numbers as unknown as avro.Schema);

  it('decodes every value as avsc does, from plain and shared-memory buffers, at any offset', () => {
    const random = rng(7);
    const values: { d: number; f: number; s: string }[] = [];
    for (const d of DOUBLES) for (const s of STRINGS) values.push({ d, f: Math.fround(d), s });
    for (let i = 0; i < 200; i++) {
      const bytes = Buffer.from(Array.from({ length: 8 }, () => Math.floor(random() * 256)));
      const n = Math.floor(random() * 12);
      values.push({ d: bytes.readDoubleLE(0), f: bytes.readFloatLE(0), s: String.fromCharCode(...Array.from({ length: n }, () => 32 + Math.floor(random() * 95))) });
    }
    // Buffers whose memory starts mid-SharedArrayBuffer (as a ring's data region).
    const shared = Buffer.from(new SharedArrayBuffer(1024 + 16), 16, 1024);
    const into = Buffer.from(new SharedArrayBuffer(1024 + 8), 8, 1024);
    for (const value of values) {
      const bytes = theirs.toBuffer(value);
      expect(ours.encode(value)).toEqual(bytes);
      for (const offset of [0, 1, 3, 7]) {
        const plain = Buffer.alloc(offset + bytes.length + 5, 0xab);
        bytes.copy(plain, offset);
        shared.fill(0xab);
        plain.copy(shared);
        // Written into either buffer at the offset: avsc's bytes.
        expect(ours.encodeInto(value, into, offset)).toBe(offset + bytes.length);
        expect(into.subarray(offset, offset + bytes.length)).toEqual(bytes);
        expect(ours.encodeInto(value, Buffer.alloc(plain.length), offset)).toBe(offset + bytes.length);
        for (const buf of [plain, shared]) {
          const got = ours.decode(buf, offset, offset + bytes.length);
          const want = theirs.fromBuffer(bytes) as typeof value;
          expect(Object.is(got.d, want.d) || (Number.isNaN(got.d) && Number.isNaN(want.d))).toBe(true);
          expect(Object.is(got.f, want.f) || (Number.isNaN(got.f) && Number.isNaN(want.f))).toBe(true);
          expect(got.s).toBe(want.s);
        }
      }
    }
  });

  it('reads numbers at any offset of a buffer whose memory starts mid-ArrayBuffer', () => {
    const buf = Buffer.from(new ArrayBuffer(64), 5, 40);
    for (let at = 0; at + 8 <= buf.length; at++) {
      buf.writeDoubleLE(Math.E * (at + 1), at);
      expect(doubleAt(buf, at)).toBe(Math.E * (at + 1));
      expect(doubleAt(Buffer.from(buf), at)).toBe(Math.E * (at + 1));
      buf.writeFloatLE(1.5 * at, at);
      expect(floatAt(buf, at)).toBe(1.5 * at);
      expect(floatAt(Buffer.from(buf), at)).toBe(1.5 * at);
    }
  });

  it('takes only ASCII: a byte from 0x80 up sends the string to the UTF-8 read', () => {
    expect(asciiAt(Buffer.from('UMBRELLA'), 0, 8)).toBe('UMBRELLA');
    expect(asciiAt(Buffer.from([0x41, 0xc3, 0xa9]), 0, 3)).toBeUndefined();
    expect(asciiAt(Buffer.from('NINECHARS'), 0, 9)).toBeUndefined();
    expect(asciiAt(Buffer.alloc(0), 0, 0)).toBe('');
  });

  it('a buffer too small for a number or a string: the missing count, as avsc reports it', () => {
    for (const value of [{ d: 1.5, f: 2.5, s: 'ACME' }, { d: 1.5, f: 2.5, s: 'é'.repeat(40) }, { d: 1, f: 1, s: 'x'.repeat(70) }]) {
      const size = theirs.toBuffer(value).length;
      for (let room = 0; room < size; room++) {
        for (const buf of [Buffer.alloc(room), Buffer.from(new SharedArrayBuffer(room))]) {
          expect(ours.encodeInto(value, buf, 0)).toBe(room - size);
        }
      }
    }
  });

  it('a number field given something else: the EncodeError naming it, checked or not', () => {
    for (const validate of [true, false]) {
      const c = codec(Numbers, { validate });
      expect(() => c.encode({ d: 'x' as unknown as number, f: 1, s: '' })).toThrow(expect.objectContaining({ path: 'Numbers.d', expected: 'double' }));
      expect(() => c.encodeInto({ d: 1, f: null as unknown as number, s: '' }, Buffer.alloc(64), 0)).toThrow(
        expect.objectContaining({ path: 'Numbers.f', expected: 'float' }),
      );
      expect(() => c.encode({ d: 1, f: 1, s: 5 as unknown as string })).toThrow(EncodeError);
    }
  });

  it('bytes cut short fail as truncated, for a double, a float and a string, whatever the buffer', () => {
    const bytes = ours.encode({ d: 1.5, f: 2.5, s: 'ACME' });
    for (let cut = 0; cut < bytes.length; cut++) {
      const shared = Buffer.from(new SharedArrayBuffer(bytes.length));
      bytes.copy(shared);
      for (const buf of [bytes, shared]) {
        // The range ends early inside a whole buffer: the value runs past it.
        expect(() => ours.decode(buf, 0, cut)).toThrow(DecodeError);
        // The buffer itself ends early.
        expect(() => ours.decode(buf.subarray(0, cut))).toThrow(/truncated|decode/);
      }
    }
  });

  it('a negative string length (an odd one-byte zigzag) is refused as avsc refuses it', () => {
    const bytes = ours.encode({ d: 0, f: 0, s: 'ab' });
    bytes[12] = 0x03; // the string's length: zigzag 3 is -2
    expect(() => ours.decode(bytes)).toThrow(DecodeError);
    expect(() => theirs.fromBuffer(bytes)).toThrow();
  });
});
