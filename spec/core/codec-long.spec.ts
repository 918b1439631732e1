/**
 * Avro `long` over the whole range a codec takes, −(2^53 − 2) to 2^53 − 2,
 * against a reference written with BigInt (zig-zag, 7 bits a byte). avsc's
 * own Tap rounded the zig-zag form of every long below −2^52 to a positive
 * one's: −(2^52 + 1) went out and came back as 2^52, with no error
 * (core/codec-long.ts). Here each value is encoded and decoded alone, in a
 * record, an array, a union and a map, read by a double through resolution,
 * and carried by the two hand-written envelope codecs that fall back to the
 * codec for such numbers.
 */
import { codec } from '../../core/codec';
import { DecodeError, EncodeError } from '../../core/errors';
import { EnvelopeCodec } from '../../processes/envelope';
import { rpcCodec } from '../../operators/request-internals';

/** The Avro bytes of the long `n`, from BigInt arithmetic. */
function reference(n: number): Buffer {
  const big = BigInt(n);
  let z = big >= 0n ? big << 1n : ((-big) << 1n) - 1n;
  const bytes: number[] = [];
  while (z >= 0x80n) {
    bytes.push(Number(z & 0x7fn) | 0x80);
    z >>= 7n;
  }
  bytes.push(Number(z));
  return Buffer.from(bytes);
}

const MAX = 2 ** 53 - 2;
/** Edges, powers of two and their neighbours, and seeded values in each decade of magnitude. */
function longs(): number[] {
  const values = new Set<number>([0, 1, -1, MAX, -MAX, MAX - 1, -MAX + 1]);
  for (let k = 0; k <= 52; k++) {
    for (const d of [-1, 0, 1]) {
      const v = 2 ** k + d;
      if (v <= MAX) values.add(v).add(-v);
    }
  }
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 400; i++) {
    const v = Math.floor(random() * 2 ** (1 + Math.floor(random() * 53)));
    if (v <= MAX) values.add(v).add(-v);
  }
  return [...values];
}

describe('a long over the whole range', () => {
  const Long = codec('long');

  test('each value encodes to the reference bytes and decodes back to itself', () => {
    const wrong: string[] = [];
    for (const n of longs()) {
      const bytes = Long.encode(n);
      if (!bytes.equals(reference(n))) wrong.push(`${n}: ${bytes.toString('hex')} (want ${reference(n).toString('hex')})`);
      const back = Long.decode(reference(n));
      if (back !== n) wrong.push(`${n} decoded as ${back}`);
      const into = Buffer.alloc(12);
      const end = Long.encodeInto(n, into, 1);
      if (!into.subarray(1, end).equals(reference(n))) wrong.push(`${n}: encodeInto wrote ${into.subarray(1, end).toString('hex')}`);
    }
    expect(wrong).toEqual([]);
  });

  test('a long with a logicalType (which codecs read as a plain long) is exact too', () => {
    const Micros = codec({ type: 'long', logicalType: 'timestamp-micros' } as never) as unknown as typeof Long;
    const InRecord = codec({ type: 'record', name: 'At', fields: [{ name: 't', type: { type: 'long', logicalType: 'timestamp-micros' } }] } as const);
    for (const n of [-(2 ** 52) - 1, -MAX, MAX]) {
      expect(Micros.encode(n).equals(reference(n))).toBe(true);
      expect(Micros.decode(reference(n))).toBe(n);
      expect(InRecord.decode(InRecord.encode({ t: n })).t).toBe(n);
    }
  });

  test('the reported cases: −(2^52 + 1) and −(2^53 − 2)', () => {
    expect(Long.encode(-(2 ** 52) - 1).toString('hex')).toBe('8180808080808010');
    expect(Long.encode(-MAX).toString('hex')).toBe('fbffffffffffff1f');
    expect(Long.decode(Buffer.from('fbffffffffffff1f', 'hex'))).toBe(-MAX);
  });

  test('beyond the range: EncodeError to send, DecodeError to receive (either sign)', () => {
    for (const n of [2 ** 53, -(2 ** 53), 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 60, 1.5, -(2 ** 51) - 0.5]) {
      expect(() => Long.encode(n)).toThrow(EncodeError);
    }
    for (const hex of [reference(2 ** 53 - 1).toString('hex'), 'fdffffffffffff1f', '8080808080808020', 'ffffffffffffffffff01', 'ffffffffffffffffffffff01']) {
      expect(() => Long.decode(Buffer.from(hex, 'hex'))).toThrow(DecodeError);
    }
  });

  test('a varint of more than 10 bytes is no long: DecodeError, whatever it would sum to (80 … 00 was read as 0)', () => {
    const AsDouble = codec('double').resolve(Long.schema as never);
    for (const hex of ['8080808080808080808000', '81' + '80'.repeat(38) + '00', 'ff'.repeat(10) + '00']) {
      expect(() => Long.decode(Buffer.from(hex, 'hex'))).toThrow(DecodeError);
      expect(() => AsDouble.decode(Buffer.from(hex, 'hex'))).toThrow(DecodeError);
    }
    expect(Long.decode(Buffer.from('80808080808080808000', 'hex'))).toBe(0); // ten bytes: a long, if not the shortest form
  });

  test('truncated: a long cut anywhere is a DecodeError', () => {
    const bytes = reference(-MAX);
    for (let cut = 0; cut < bytes.length; cut++) expect(() => Long.decode(bytes.subarray(0, cut))).toThrow(DecodeError);
  });

  test('inside a record, an array, a union and a map, every value comes back', () => {
    const R = codec({
      type: 'record',
      name: 'R',
      fields: [
        { name: 'a', type: 'long' },
        { name: 'list', type: { type: 'array', items: 'long' } },
        { name: 'maybe', type: ['null', 'long'] },
        { name: 'byKey', type: { type: 'map', values: 'long' } },
        { name: 'b', type: 'long' },
      ],
    } as const);
    const values = longs();
    for (let i = 0; i < values.length; i += 37) {
      const some = values.slice(i, i + 37);
      const r = { a: some[0], list: some, maybe: some[1] ?? null, byKey: Object.fromEntries(some.map((v, j) => [`k${j}`, v])), b: some[some.length - 1] };
      expect({ ...R.decode(R.encode(r)) }).toEqual(r);
    }
  });

  test('read by a double (schema resolution) with its sign, beyond 2^53 too', () => {
    const asDouble = codec('double').resolve(Long);
    for (const n of longs()) expect(asDouble.decode(reference(n))).toBe(n);
    // A foreign writer's long beyond 2^53, read as a double: rounded, sign kept.
    expect(asDouble.decode(reference(-(2 ** 60) - 1))).toBe(-(2 ** 60));
    expect(asDouble.decode(reference(2 ** 60))).toBe(2 ** 60);
    const asFloat = codec('float').resolve(Long);
    expect(asFloat.decode(reference(-MAX))).toBe(-MAX); // avsc's float from a long is not rounded to 32 bits
  });

  test('the hand-written envelope codecs carry the whole range (their fallback is the codec)', () => {
    const rpc = rpcCodec();
    for (const n of [-(2 ** 52) - 1, -MAX, MAX, -(2 ** 52)]) {
      const env = { id: n, kind: 0, body: Buffer.from([1, 2]), error: null };
      const bytes = rpc.encode(env);
      expect(bytes.subarray(0, reference(n).length).equals(reference(n))).toBe(true);
      expect(rpc.decode(bytes)).toEqual(env);
      const e = { kind: 0, to: 5, from: 6, tag: n, call: 0, n: 1, text: '', body: Buffer.from([3]) };
      expect(EnvelopeCodec.decode(EnvelopeCodec.encode(e))).toEqual(e);
    }
  });
});

/**
 * Avro `int`: avsc read any varint as one, so bytes from a careless or
 * hostile writer decoded an `int` field as 2^41, or 2^32 − 1 from five bytes
 * (core/codec-long.ts `CheckedInt`). An int is at most five bytes, from −2^31
 * to 2^31 − 1; anything else is a DecodeError, and the value is never seen.
 */
describe('Avro int', () => {
  const Int = codec('int');
  const R = codec({
    type: 'record',
    name: 'IntEdges',
    fields: [
      { name: 'a', type: 'int' },
      { name: 'list', type: { type: 'array', items: 'int' } },
      { name: 'maybe', type: ['null', 'int'] },
    ],
  } as const);
  const edges = [0, 1, -1, 63, -64, 64, 2 ** 30, -(2 ** 30), 2 ** 31 - 1, -(2 ** 31)];

  test('every int from −2^31 to 2^31 − 1 keeps its value and avsc’s bytes', () => {
    for (const n of edges) {
      expect(Int.encode(n).equals(reference(n))).toBe(true);
      expect(Int.decode(reference(n))).toBe(n);
    }
    const r = { a: 2 ** 31 - 1, list: edges, maybe: -(2 ** 31) };
    expect({ ...R.decode(R.encode(r)) }).toEqual(r);
  });

  test('a varint past the int range, or longer than five bytes, is a DecodeError', () => {
    const hostile = [
      reference(2 ** 31), // five bytes, one past the top
      reference(-(2 ** 31) - 1),
      reference(2 ** 41), // seven bytes
      Buffer.from([0xfe, 0xff, 0xff, 0xff, 0x1f]), // five bytes, 2^32 − 1
      Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), // 0 in six bytes
    ];
    for (const bytes of hostile) {
      expect(() => Int.decode(bytes)).toThrow(DecodeError);
      // In a record, an array and a union alike.
      expect(() => R.decode(Buffer.concat([bytes, Buffer.from([0, 0])]))).toThrow(/invalid int/);
      expect(() => R.decode(Buffer.concat([Buffer.from([0, 2]), bytes, Buffer.from([0, 0])]))).toThrow(/invalid int/);
      expect(() => R.decode(Buffer.concat([Buffer.from([0, 0, 2]), bytes]))).toThrow(/invalid int/);
    }
  });

  test('an int cut short is reported truncated, not invalid', () => {
    expect(() => Int.decode(Buffer.from([0xfe, 0xff]))).toThrow(/truncated/);
  });

  test('a long reader of an int writer refuses a hostile int too', () => {
    const asLong = codec('long').resolve(Int);
    expect(asLong.decode(reference(-(2 ** 31)))).toBe(-(2 ** 31));
    expect(() => asLong.decode(reference(2 ** 41))).toThrow(DecodeError);
  });
});
