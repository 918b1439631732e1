/**
 * The values a writer takes before the reader accepted its schema
 * (core/session-out.ts), encoded one after another into one growing buffer
 * instead of a buffer each: holding a value costs an `encodeInto`, not an
 * allocating `encode` (a buffer, a copy and garbage per value, which was a
 * tenth of a worker's time in the exchange bench, where every link is made
 * while values pour in). The buffer is let go once every value is out.
 */
import { Buffer } from 'node:buffer';
import type { Codec } from './codec';

const FIRST_CAPACITY = 4096;

export class HeldValues {
  private buf: Buffer | undefined;
  /** Where each held value ends in `buf`, oldest first, from `head` on. */
  private ends: number[] = [];
  private head = 0;
  /** Where the oldest held value starts. */
  private start = 0;

  /** Values held. */
  get length(): number {
    return this.ends.length - this.head;
  }

  /**
   * Encodes `value` after the others; returns its size in bytes. When `max`
   * is exceeded the value is not kept and its size is returned negated.
   * @throws EncodeError when the value does not fit the schema (nothing kept)
   */
  push<T>(codec: Codec<T>, value: T, max: number): number {
    const at = this.head < this.ends.length ? this.ends[this.ends.length - 1] : 0;
    if (this.head === this.ends.length) this.reset();
    for (;;) {
      const buf = this.room(at + 16);
      const end = codec.encodeInto(value, buf, at);
      if (end >= 0) {
        if (end - at > max) return at - end;
        this.ends.push(end);
        return end - at;
      }
      this.room(buf.length - end);
    }
  }

  /** The oldest held value's bytes (a view, valid until the next push or shift). */
  peek(): Buffer {
    return this.buf!.subarray(this.start, this.ends[this.head]);
  }

  /** Drops the oldest held value (none held: nothing). */
  shift(): void {
    if (this.head === this.ends.length) return;
    this.start = this.ends[this.head++];
    if (this.head === this.ends.length) this.reset();
  }

  /** Drops every held value. */
  drain(): void {
    this.reset();
  }

  private reset(): void {
    this.buf = undefined;
    this.ends = [];
    this.head = 0;
    this.start = 0;
  }

  /** A buffer of at least `size` bytes holding what is held. */
  private room(size: number): Buffer {
    const { buf } = this;
    if (buf && size <= buf.length) return buf;
    let next = buf ? buf.length * 2 : FIRST_CAPACITY;
    while (next < size) next *= 2;
    const grown = Buffer.allocUnsafe(next);
    if (buf) buf.copy(grown, 0, 0, this.length > 0 ? this.ends[this.ends.length - 1] : 0);
    this.buf = grown;
    return grown;
  }
}
