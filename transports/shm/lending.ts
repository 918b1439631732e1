/**
 * Borrowed delivery (`options.borrow`, raw codec only): a NEXT record's body
 * is handed to subscribers as a view into the ring, not decoded into a copy.
 * The reading half (./reading.ts) gives the drain's bytes back to the writer
 * only once its values are delivered. In debug mode each value is a copy in
 * an ArrayBuffer of its own, detached when the drain's bytes go back, so a
 * view kept past its callback fails loudly instead of reading bytes the
 * writer has overwritten.
 */
import { Buffer } from 'node:buffer';
import type { Codec } from '../../core/codec';

/** How values are lent out of the ring. */
export class Lending {
  /** Debug mode: the copies lent since the last return, detached then. */
  private readonly lent: Uint8Array[] = [];

  constructor(private readonly debug: boolean) {}

  /** The value of the record body `buf[start, end)`. */
  lend(buf: Buffer, start: number, end: number): Uint8Array {
    if (!this.debug) return buf.subarray(start, end);
    const copy = Buffer.from(new ArrayBuffer(end - start));
    buf.copy(copy, 0, start, end);
    this.lent.push(copy);
    return copy;
  }

  /** The lent values are delivered and their bytes go back: debug copies are detached. */
  returned(): void {
    if (this.lent.length === 0) return;
    const buffers = this.lent.splice(0).map((copy) => copy.buffer as ArrayBuffer);
    structuredClone(buffers, { transfer: buffers });
  }
}

/**
 * `options.borrow` checked at the door: a Lending for true or 'debug', none for false or undefined.
 * @throws TypeError for another value, or with a codec other than `raw` (only bytes can be lent as they lie)
 */
export function lendingOf(borrow: unknown, codec: Codec<unknown>): Lending | undefined {
  if (borrow === undefined || borrow === false) return undefined;
  if (borrow !== true && borrow !== 'debug') throw new TypeError("options.borrow must be true, false or 'debug'");
  if (codec.fingerprint !== 'raw') throw new TypeError('options.borrow needs the raw codec: an Avro value is decoded into objects, not lent');
  return new Lending(borrow === 'debug');
}
