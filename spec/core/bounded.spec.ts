/**
 * The bounded pre-check of untrusted values (core/bounded.ts): what avsc would
 * trust — a block count, a block's byte size, a nesting depth — is checked
 * against the bytes first, and refused with DecodeError.
 */
import { codec } from '../../core/codec';
import { guardFor, guardOfHello } from '../../core/bounded';
import { DecodeError } from '../../core/errors';

const Long = codec('long');
const W = codec({ type: 'record', name: 'T', fields: [{ name: 'xs', type: { type: 'array', items: 'long' } }, { name: 'y', type: 'int' }] } as const);
const hello = { fingerprint: W.fingerprint, schema: JSON.stringify(W.schema) };

/** A record T whose `xs` is one block of `count` (negative: with a byte size of `size`) holding `items`, then y = 1. */
function sizedBlock(count: number, size: number, items: Buffer): Buffer {
  return Buffer.concat([Long.encode(count), Long.encode(size), items, Buffer.of(0), Buffer.of(2)]);
}

describe('guard', () => {
  it("a block whose byte size is not its items' size is refused (a reader that skips it would read items as counts)", () => {
    // The writer's xs is dropped by this reader: avsc skips the block by its size, so a size of 0 made it read
    // the item (2^40) as the next block count of 2^40 items, and loop for hours on ten bytes.
    const reader = codec({ type: 'record', name: 'T', fields: [{ name: 'y', type: 'int' }] } as const);
    const guard = guardOfHello(reader, hello)!;
    const hostile = Buffer.concat([Buffer.of(0x01, 0x00), Long.encode(2 ** 40), Buffer.of(0, 2)]);
    expect(() => guard(hostile, 0, hostile.length)).toThrow(DecodeError);
    const tooLong = sizedBlock(-1, 9, Long.encode(5));
    expect(() => guard(tooLong, 0, tooLong.length)).toThrow(DecodeError);
  });

  it('a block with its true byte size passes, and reads as the values it holds', () => {
    const items = Buffer.concat([Long.encode(7), Long.encode(-300)]);
    const good = sizedBlock(-2, items.length, items);
    expect(() => guardFor(W.schema)!(good, 0, good.length)).not.toThrow();
    expect(W.decode(good)).toEqual({ xs: [7, -300], y: 1 });
  });

  it('a long of 9 or 10 bytes (beyond 2^56, from another writer) is skipped as a long; 11 bytes are refused', () => {
    // A reader that drops the field skips it: the guard refused such a valid value where avsc reads it.
    const reader = codec({ type: 'record', name: 'T', fields: [{ name: 'y', type: 'int' }] } as const);
    const guard = guardOfHello(reader, hello)!;
    const tenBytes = Buffer.from([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]); // 2^63 − 1
    const value = Buffer.concat([Buffer.of(2), tenBytes, Buffer.of(0, 2)]); // xs: [2^63 − 1], y: 1
    expect(() => guard(value, 0, value.length)).not.toThrow();
    expect(reader.resolve(W.schema as never).decode(value)).toEqual({ y: 1 });
    const eleven = Buffer.concat([Buffer.of(2), Buffer.from([0x80, ...tenBytes]), Buffer.of(0, 2)]);
    expect(() => guard(eleven, 0, eleven.length)).toThrow(DecodeError);
  });

  it('a value nested deeper than the stack allows is a DecodeError, not a RangeError; one of thousands of levels passes', () => {
    const Tree = codec({ type: 'record', name: 'Tree', fields: [{ name: 'kids', type: { type: 'array', items: 'Tree' } }] } as never);
    const guard = guardFor(Tree.schema)!;
    const deep = Buffer.concat([Buffer.alloc(200_000, 2), Buffer.alloc(200_001, 0)]); // 200000 levels of one kid
    let thrown: unknown;
    try {
      guard(deep, 0, deep.length);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(DecodeError);
    expect((thrown as Error).message).toMatch(/nests too deep/);
    const levels = 2000;
    const fine = Buffer.concat([Buffer.alloc(levels, 2), Buffer.alloc(levels + 1, 0)]);
    expect(() => guard(fine, 0, fine.length)).not.toThrow();
  });
});
