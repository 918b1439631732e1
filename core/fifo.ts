/**
 * A first-in first-out queue: a chain of fixed blocks — the first of
 * MIN_CAPACITY slots, later ones of BLOCK — pushed at the tail block and
 * shifted from the head one. Push and shift are O(1) and never copy what is
 * queued; a queue that slides across blocks reuses the one it emptied last
 * (a steady queue allocates nothing), and memory follows the length, give or
 * take two blocks: an idle queue keeps one block (2 KiB after a burst; the
 * ring it replaced shrank back to 16 slots).
 *
 * Before, one ring array doubled when full and halved when a quarter full:
 * a queue that grew to a million values (`exchange` with a synchronous
 * source: every record waits in the link's queue while the source holds the
 * thread) copied each value about three times as it grew and drained, 4–6 %
 * of each worker's time in bench `exchange`, and its largest arrays lived in
 * V8's large-object space. One million objects pushed then shifted, three
 * rounds, one thread (a script over both builds' dist/, 4 alternations):
 * 211–333 ns a value with the ring, 127–228 with the blocks, the objects'
 * own allocation included; three pushed and shifted in turn, 7–13 ns
 * either way. In bench `exchange` (sync source, over shm) the gain is within
 * that case's noise: 10 of 16 alternated pairs better, medians +3 %.
 */
const MIN_CAPACITY = 16;
/** Slots of every block after the first: 2 KiB of pointers. */
const BLOCK = 256;

interface Block<T> {
  readonly items: (T | undefined)[];
  next: Block<T> | undefined;
}

function block<T>(capacity: number): Block<T> {
  return { items: new Array<T | undefined>(capacity), next: undefined };
}

export class Fifo<T> {
  /** Where `shift` reads (at `headAt`), and where `push` writes (at `tailAt`); the same block while few are queued. */
  private head: Block<T> = block(MIN_CAPACITY);
  private tail = this.head;
  private headAt = 0;
  private tailAt = 0;
  private count = 0;
  /** A block emptied by `shift`, for the next `push` that needs one. */
  private spare: Block<T> | undefined;

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.tailAt === this.tail.items.length) {
      const next = this.spare ?? block<T>(BLOCK);
      this.spare = undefined;
      this.tail.next = next;
      this.tail = next;
      this.tailAt = 0;
    }
    this.tail.items[this.tailAt++] = item;
    this.count++;
  }

  peek(): T | undefined {
    return this.count === 0 ? undefined : this.head.items[this.headAt];
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const head = this.head;
    const item = head.items[this.headAt];
    head.items[this.headAt++] = undefined; // no reference kept to what left
    if (--this.count === 0) {
      // Empty: head is the tail block; both ends start over at its first slot, and an idle queue keeps no spare.
      this.headAt = 0;
      this.tailAt = 0;
      this.spare = undefined;
    } else if (this.headAt === head.items.length) {
      this.head = head.next!;
      this.headAt = 0;
      head.next = undefined;
      if (head.items.length === BLOCK) this.spare = head;
    }
    return item;
  }

  /** Keeps only the items `keep` says yes to, in order (one pass over the queue). */
  retain(keep: (item: T) => boolean): void {
    for (const item of this.drain()) if (keep(item)) this.push(item);
  }

  /** Removes and returns everything, oldest first; the queue keeps one small block. */
  drain(): T[] {
    const out = new Array<T>(this.count);
    let at = this.head;
    let i = this.headAt;
    for (let n = 0; n < this.count; n++) {
      if (i === at.items.length) {
        at = at.next!;
        i = 0;
      }
      out[n] = at.items[i++] as T;
    }
    this.head = block(MIN_CAPACITY);
    this.tail = this.head;
    this.headAt = 0;
    this.tailAt = 0;
    this.count = 0;
    this.spare = undefined;
    return out;
  }
}
