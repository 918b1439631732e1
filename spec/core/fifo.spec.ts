import { Fifo } from '../../core/fifo';
import { rng } from '../fixtures/records';

describe('Fifo', () => {
  it('matches an array model under seeded random pushes and shifts, through growing and shrinking', () => {
    const random = rng(0xf1f0);
    const fifo = new Fifo<number>();
    const model: number[] = [];
    let next = 0;
    let wrong = 0;
    for (let step = 0; step < 200_000; step++) {
      // Phases that fill up to thousands, then empty out, so the ring grows and shrinks.
      const pushing = Math.floor(step / 20_000) % 2 === 0 ? random() < 0.7 : random() < 0.3;
      if (pushing) {
        fifo.push(next);
        model.push(next++);
      } else if (fifo.shift() !== model.shift()) {
        wrong++;
      }
      if (fifo.length !== model.length || fifo.peek() !== model[0]) wrong++;
    }
    expect(wrong).toBe(0);
    expect(next).toBeGreaterThan(100_000);
    expect(fifo.drain()).toEqual(model);
    expect(fifo.length).toBe(0);
    expect(fifo.shift()).toBeUndefined();
    expect(fifo.peek()).toBeUndefined();
  });

  /** Every slot of every block the queue holds, its spare included. */
  function slots(fifo: Fifo<unknown>): unknown[] {
    const inner = fifo as unknown as { head: Block; spare: Block | undefined };
    const out: unknown[] = [];
    for (let b: Block | undefined = inner.head; b; b = b.next) out.push(...b.items);
    if (inner.spare) out.push(...inner.spare.items);
    return out;
  }
  type Block = { items: unknown[]; next: Block | undefined };

  it('keeps no reference to what left it, in the block it left nor in a block it emptied', () => {
    const fifo = new Fifo<object>();
    const held = { big: 'x' };
    fifo.push(held);
    fifo.push({});
    fifo.shift();
    expect(slots(fifo).includes(held)).toBe(false);
    // Across blocks: the first 5,000 leave, some of them from blocks now spare or dropped.
    const many = Array.from({ length: 10_000 }, (_, i) => ({ i }));
    for (const m of many) fifo.push(m);
    for (let i = 0; i < 5_001; i++) fifo.shift();
    const left = new Set(slots(fifo));
    expect(many.slice(0, 5_000).some((m) => left.has(m))).toBe(false);
    expect(fifo.length).toBe(5_000);
    expect(fifo.peek()).toBe(many[5_000]);
  });

  it('keeps order across block boundaries when it empties and refills at every size', () => {
    const fifo = new Fifo<number>();
    let next = 0;
    let expected = 0;
    for (const size of [1, 15, 16, 17, 1023, 1024, 1025, 1040, 2048, 2049, 5000]) {
      for (let i = 0; i < size; i++) fifo.push(next++);
      expect(fifo.length).toBe(size);
      for (let i = 0; i < size; i++) expect(fifo.shift()).toBe(expected++);
      expect(fifo.length).toBe(0);
      expect(fifo.shift()).toBeUndefined();
    }
    // A queue that stays short but never empties slides across block boundaries (~390 here): it reuses the
    // blocks it emptied rather than making one per boundary (300 values span at most three blocks of 256).
    for (let i = 0; i < 300; i++) fifo.push(next++);
    const tails = new Set<unknown>();
    for (let i = 0; i < 100_000; i++) {
      fifo.push(next++);
      expect(fifo.shift()).toBe(expected++);
      tails.add((fifo as unknown as { tail: unknown }).tail);
    }
    expect(tails.size).toBeLessThanOrEqual(3);
    expect(fifo.length).toBe(300);
  });
});
