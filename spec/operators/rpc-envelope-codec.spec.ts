import { codec } from '../../core/codec';
import { DecodeError, EncodeError } from '../../core/errors';
import { bodyOf, rpcCodec, type RpcEnvelope } from '../../operators/request-internals';
import { ValueEnvelope } from '../../operators/rpc-envelope-codec';

/*
 * The hand-written envelope codec against avsc's own codec of the same
 * schema: the same bytes out, the same values back, typed errors for bad
 * bytes.
 */

const fast = rpcCodec();
const avro = codec(fast.schema as never) as unknown as typeof fast;

const IDS = [0, 1, 63, 64, 8191, 8192, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 5, 2 ** 40, 2 ** 52, 2 ** 53 - 2, -(2 ** 53 - 2), -1, -64, -65, -(2 ** 40)];
const KINDS = [0, 1, 2, 3, 4, 5, 63, 64, 2 ** 31 - 1, -(2 ** 31)];
const SIZES = [0, 1, 63, 64, 65, 127, 128, 300, 5000];

function body(size: number, seed: number): Buffer {
  return Buffer.from(Array.from({ length: size }, (_, i) => (i * 31 + seed) & 0xff));
}

function envelopes(): RpcEnvelope[] {
  const all: RpcEnvelope[] = [];
  IDS.forEach((id, i) => KINDS.forEach((kind, j) => all.push({ id, kind, body: body(SIZES[(i + j) % SIZES.length], i + j), error: null })));
  return all;
}

describe('rpcCodec (hand-written fast path)', () => {
  it('writes exactly the bytes avsc writes, and reads them back as avsc does', () => {
    for (const e of envelopes()) {
      const bytes = fast.encode(e);
      expect(bytes.equals(avro.encode(e))).toBe(true);
      expect(fast.decode(bytes)).toEqual(avro.decode(bytes));
      // Beyond 2^52, avsc's own long does not round-trip every value (zig-zag
      // past the safe integers): the fast path matches avsc, not the input.
      if (Math.abs(e.id) <= 2 ** 52) expect({ ...fast.decode(bytes) }).toEqual(e);
    }
  });

  it('encodeInto writes at an offset and reports the exact bytes missing when the room is short', () => {
    const e: RpcEnvelope = { id: 300, kind: 5, body: body(40, 1), error: null };
    const size = avro.encode(e).length;
    const room = Buffer.alloc(size + 10);
    expect(fast.encodeInto(e, room, 10)).toBe(size + 10);
    expect(room.subarray(10).equals(avro.encode(e))).toBe(true);
    expect(fast.encodeInto(e, Buffer.alloc(size - 3), 0)).toBe(-3);
    expect(fast.encodeInto(e, room, 13)).toBe(-3);
  });

  it('decodes a range inside a larger buffer; the body never shares memory with it', () => {
    const e: RpcEnvelope = { id: 7, kind: 2, body: body(20, 2), error: null };
    const bytes = Buffer.concat([Buffer.from([9, 9]), fast.encode(e), Buffer.from([9])]);
    const back = fast.decode(bytes, 2, bytes.length - 1);
    expect(back).toEqual(e);
    bytes.fill(0);
    expect(back.body.equals(body(20, 2))).toBe(true);
  });

  it('envelopes with an error go through avsc, both ways', () => {
    const e: RpcEnvelope = { id: 9, kind: 4, body: Buffer.alloc(0), error: { name: 'RangeError', message: 'no', code: 'E_X', stack: null } };
    const bytes = fast.encode(e);
    expect(bytes.equals(avro.encode(e))).toBe(true);
    expect(fast.decode(bytes)).toEqual(avro.decode(bytes));
  });

  it('a value that does not fit the schema is an EncodeError, never garbage', () => {
    const bad = [
      { id: 1.5, kind: 0, body: Buffer.alloc(0), error: null },
      { id: 2 ** 53, kind: 0, body: Buffer.alloc(0), error: null },
      { id: 1, kind: 2 ** 40, body: Buffer.alloc(0), error: null },
      { id: 1, kind: 0, body: 'text', error: null },
      { id: '1', kind: 0, body: Buffer.alloc(0), error: null },
    ] as unknown as RpcEnvelope[];
    for (const e of bad) {
      expect(() => fast.encode(e)).toThrow(EncodeError);
      expect(() => fast.encodeInto(e, Buffer.alloc(64), 0)).toThrow(EncodeError);
    }
  });

  it('every truncation of an envelope, and trailing bytes, are DecodeErrors', () => {
    const bytes = fast.encode({ id: 2 ** 33, kind: 5, body: body(70, 3), error: null });
    for (let end = 0; end < bytes.length; end++) {
      expect(() => fast.decode(bytes, 0, end)).toThrow(DecodeError);
    }
    expect(() => fast.decode(Buffer.concat([bytes, Buffer.from([0])]))).toThrow(DecodeError);
  });

  it('hostile numbers are DecodeErrors: a negative body length, a runaway varint, a kind beyond an int', () => {
    expect(() => fast.decode(Buffer.from([2, 2, 1, 0]))).toThrow(DecodeError); // body length -1
    expect(() => fast.decode(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0, 0]))).toThrow(DecodeError);
    expect(() => fast.decode(Buffer.from([2, 0x80, 0x80, 0x80, 0x80, 0x20, 0, 0]))).toThrow(DecodeError);
    expect(() => fast.decode(Buffer.from([2, 2, 0x80, 0x80, 0x80, 0x80, 0x01, 0]))).toThrow(DecodeError); // body longer than the bytes
    // kind 0 written in 6 bytes: no Avro int (a 5-byte form still reads, as avsc's int does).
    expect(() => fast.decode(Buffer.from([2, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0, 0]))).toThrow(DecodeError);
    expect(fast.decode(Buffer.from([2, 0x80, 0x80, 0x80, 0x80, 0x00, 0, 0]))).toMatchObject({ id: 1, kind: 0 });
  });

  it('is re-entrant: a decode that runs inside another (a getter of the bytes) leaves the outer one intact', () => {
    const outer: RpcEnvelope = { id: 3, kind: 2, body: body(5, 4), error: null };
    const inner: RpcEnvelope = { id: 2 ** 40, kind: 5, body: body(30, 5), error: null };
    const outerBytes = fast.encode(outer);
    const innerBytes = fast.encode(inner);
    const errorAt = outerBytes.length - 1; // the error union's index: read after the body's length, before the body
    const decodedInside: RpcEnvelope[] = [];
    // A view whose reads run code: here a decode of another envelope on the same codec, mid-decode.
    const view = new Proxy(outerBytes, {
      get(target, prop) {
        if (prop === String(errorAt) && decodedInside.length === 0) decodedInside.push(fast.decode(innerBytes));
        return target[prop as keyof typeof target];
      },
    });
    const back = fast.decode(view as Uint8Array);
    expect(decodedInside).toEqual([inner]);
    expect(back).toEqual(outer);

    // Two decodes interleaved step by step the same way, both directions.
    const reverse = new Proxy(innerBytes, {
      get(target, prop) {
        if (prop === String(innerBytes.length - 1) && decodedInside.length === 1) decodedInside.push(fast.decode(outerBytes));
        return target[prop as keyof typeof target];
      },
    });
    expect(fast.decode(reverse as Uint8Array)).toEqual(inner);
    expect(decodedInside).toEqual([inner, outer]);
  });
});

describe('bodyOf (request and reply bodies)', () => {
  const Quote = codec({ type: 'record', name: 'Quote', fields: [{ name: 'sym', type: 'string' }, { name: 'px', type: 'double' }] } as const);

  it('gives the bytes codec.encode gives, short (copied by a loop), medium, and larger than its scratch', () => {
    for (const length of [0, 1, 40, 63, 64, 65, 200, 4000, 4096, 5000, 100_000]) {
      const q = { sym: 'x'.repeat(length), px: length / 3 };
      const body = bodyOf(Quote, q);
      expect(body.equals(Quote.encode(q))).toBe(true);
      expect(Quote.decode(body)).toEqual(q);
    }
  });

  it('each body owns its bytes: the next one does not overwrite it', () => {
    const a = bodyOf(Quote, { sym: 'AAA', px: 1 });
    const b = bodyOf(Quote, { sym: 'BBB', px: 2 });
    expect(Quote.decode(a)).toEqual({ sym: 'AAA', px: 1 });
    expect(Quote.decode(b)).toEqual({ sym: 'BBB', px: 2 });
  });

  it('a value that does not fit fails with EncodeError, as codec.encode does', () => {
    expect(() => bodyOf(Quote, { sym: 1, px: 'no' } as never)).toThrow(EncodeError);
  });
});

describe('ValueEnvelope (a value encoded straight behind the envelope header)', () => {
  const Text = codec('string');
  const Quote = codec({ type: 'record', name: 'Quote', fields: [{ name: 'sym', type: 'string' }, { name: 'px', type: 'double' }] } as const);
  const SIZES_IN = [0, 1, 40, 62, 63, 64, 65, 200, 8190, 8191, 8200, 70_000];

  it('writes the bytes of the envelope with the encoded body, at any offset, for bodies whose length takes 1 to 3 bytes', () => {
    for (const size of SIZES_IN) {
      const text = 'y'.repeat(size);
      const plainBytes = fast.encode({ id: 300, kind: 1, body: Text.encode(text), error: null });
      for (const offset of [0, 7]) {
        const room = Buffer.alloc(offset + plainBytes.length + 5, 0xee);
        const end = fast.encodeInto(new ValueEnvelope(300, 1, Text, text), room, offset);
        expect(end).toBe(offset + plainBytes.length);
        expect(room.subarray(offset, end).equals(plainBytes)).toBe(true);
        expect(room[end]).toBe(0xee); // nothing written past it
      }
    }
  });

  it('reports the exact bytes missing for every room short of the envelope, as a plain envelope does', () => {
    for (const size of [0, 10, 63, 64, 300]) {
      const text = 'z'.repeat(size);
      const whole = fast.encode({ id: 5, kind: 2, body: Text.encode(text), error: null }).length;
      for (let room = 0; room < whole; room++) {
        expect(fast.encodeInto(new ValueEnvelope(5, 2, Text, text), Buffer.alloc(room), 0)).toBe(room - whole);
      }
    }
  });

  it('body makes the bytes once, and from then on they are what goes; a value that does not fit is EncodeError', () => {
    const value = { sym: 'AAA', px: 1 };
    const e = new ValueEnvelope(1, 1, Quote, value);
    expect(e.unmade).toBe(true);
    const made = e.body;
    expect(e.unmade).toBe(false);
    value.sym = 'BBB';
    expect(fast.decode(fast.encode(e)).body.equals(made)).toBe(true);
    expect(Quote.decode(fast.decode(fast.encode(e)).body)).toEqual({ sym: 'AAA', px: 1 });
    expect(() => fast.encodeInto(new ValueEnvelope(1, 1, Quote, { sym: 1, px: 'no' } as never), Buffer.alloc(64), 0)).toThrow(EncodeError);
    expect(() => new ValueEnvelope(1, 1, Quote, { sym: 1, px: 'no' } as never).body).toThrow(EncodeError);
  });
});
