import { codec } from '../../core/codec';
import { EncodeError } from '../../core/errors';
import { HeldValues } from '../../core/held';

/* Values held before acceptance, encoded into one growing buffer. */

const Str = codec('string');

describe('HeldValues', () => {
  it('gives the values back in order, byte for byte, across the buffer growing', () => {
    const held = new HeldValues();
    const values = Array.from({ length: 300 }, (_, i) => `value ${i} `.repeat(1 + (i % 7) * 5));
    for (const v of values) expect(held.push(Str, v, 1 << 20)).toBe(Str.encode(v).length);
    expect(held.length).toBe(300);
    for (let i = 0; i < 150; i++) {
      expect(Str.decode(held.peek())).toBe(values[i]);
      held.shift();
    }
    // More pushed while some are still held (before acceptance a writer may go on holding).
    held.push(Str, 'late', 1 << 20);
    const rest: string[] = [];
    while (held.length > 0) {
      rest.push(Str.decode(held.peek()));
      held.shift();
    }
    expect(rest).toEqual([...values.slice(150), 'late']);
  });

  it('a value over max is not kept: its size comes back negated', () => {
    const held = new HeldValues();
    held.push(Str, 'kept', 100);
    const big = 'x'.repeat(200);
    expect(held.push(Str, big, 100)).toBe(-Str.encode(big).length);
    expect(held.length).toBe(1);
    expect(Str.decode(held.peek())).toBe('kept');
  });

  it('a value that does not fit the schema throws EncodeError and keeps nothing', () => {
    const held = new HeldValues();
    held.push(Str, 'kept', 100);
    expect(() => held.push(Str, 42 as unknown as string, 100)).toThrow(EncodeError);
    expect(held.length).toBe(1);
    held.drain();
    expect(held.length).toBe(0);
    held.push(Str, 'again', 100);
    expect(Str.decode(held.peek())).toBe('again');
  });
});
