/**
 * A first-in first-out queue: a ring buffer whose capacity is a power of
 * two, doubled when full and halved when a quarter full (down to
 * MIN_CAPACITY), so push and shift are O(1) amortized, a steady queue
 * allocates nothing, and memory follows the length.
 */
const MIN_CAPACITY = 16;

export class Fifo<T> {
  private items: (T | undefined)[] = new Array(MIN_CAPACITY);
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count === this.items.length) this.resize(this.items.length * 2);
    this.items[(this.head + this.count) & (this.items.length - 1)] = item;
    this.count++;
  }

  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head];
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined; // no reference kept to what left
    this.head = (this.head + 1) & (this.items.length - 1);
    this.count--;
    if (this.items.length > MIN_CAPACITY && this.count * 4 <= this.items.length) this.resize(this.items.length / 2);
    return item;
  }

  /** Removes and returns everything, oldest first. */
  drain(): T[] {
    const out = new Array<T>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.items[(this.head + i) & (this.items.length - 1)] as T;
    this.items = new Array(MIN_CAPACITY);
    this.head = 0;
    this.count = 0;
    return out;
  }

  private resize(capacity: number): void {
    const next = new Array<T | undefined>(capacity);
    for (let i = 0; i < this.count; i++) next[i] = this.items[(this.head + i) & (this.items.length - 1)];
    this.items = next;
    this.head = 0;
  }
}
