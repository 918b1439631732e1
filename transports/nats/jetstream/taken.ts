/**
 * The stream sequences one reader has taken, as sorted disjoint ranges: a
 * stream read in order is one range, whatever its length. Used to drop a
 * redelivery of a value this reader already took (its acknowledgement was
 * lost with a server that went down). At most `limit` ranges are kept; past
 * it the oldest range is forgotten (a redelivery that old is then delivered
 * again, as JetStream's at-least-once allows).
 */
export class TakenSeqs {
  private readonly lo: number[] = [];
  private readonly hi: number[] = [];

  constructor(private readonly limit = 4096) {}

  /** Whether `seq` was taken. */
  has(seq: number): boolean {
    const last = this.hi.length - 1;
    if (last < 0 || seq > this.hi[last]) return false; // the common case: a value not seen yet
    const i = this.find(seq);
    return i >= 0 && seq <= this.hi[i];
  }

  /** Records `seq` as taken. */
  add(seq: number): void {
    const last = this.hi.length - 1;
    if (last >= 0 && seq === this.hi[last] + 1) {
      this.hi[last] = seq; // the common case: the next value in order
      return;
    }
    const i = this.find(seq); // the range starting at or before seq, or -1
    if (i >= 0 && seq <= this.hi[i]) return;
    if (i >= 0 && seq === this.hi[i] + 1) {
      this.hi[i] = seq;
      this.join(i);
      return;
    }
    this.lo.splice(i + 1, 0, seq);
    this.hi.splice(i + 1, 0, seq);
    this.join(i + 1);
    if (this.lo.length > this.limit) {
      this.lo.shift();
      this.hi.shift();
    }
  }

  /** Ranges kept (for tests). */
  get ranges(): number {
    return this.lo.length;
  }

  /** Merges range i with the next when they touch. */
  private join(i: number): void {
    if (i + 1 < this.lo.length && this.hi[i] + 1 >= this.lo[i + 1]) {
      this.hi[i] = Math.max(this.hi[i], this.hi[i + 1]);
      this.lo.splice(i + 1, 1);
      this.hi.splice(i + 1, 1);
    }
  }

  /** Index of the last range whose start is <= seq, or -1. */
  private find(seq: number): number {
    let a = 0;
    let b = this.lo.length - 1;
    let found = -1;
    while (a <= b) {
      const m = (a + b) >> 1;
      if (this.lo[m] <= seq) {
        found = m;
        a = m + 1;
      } else b = m - 1;
    }
    return found;
  }
}
