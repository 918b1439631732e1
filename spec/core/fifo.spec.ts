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

  it('keeps no reference to what left it', () => {
    const fifo = new Fifo<object>();
    const held = { big: 'x' };
    fifo.push(held);
    fifo.push({});
    fifo.shift();
    expect((fifo as unknown as { items: unknown[] }).items.includes(held)).toBe(false);
  });
});
