import { codec } from '../../core/codec';
import { FrameError } from '../../core/errors';
import { AckRecord, FRAME_HEADER, FrameKind, FrameWriter, parseFrames } from '../../core/frame';

type Seen = [kind: number, body: string];

function parse(bytes: Uint8Array, maxFrame?: number): Seen[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const seen: Seen[] = [];
  parseFrames(buf, (kind, start, end) => seen.push([kind, buf.subarray(start, end).toString('hex')]), maxFrame);
  return seen;
}

describe('frames', () => {
  it('writes the exact bytes: u32 LE length, kind, body', () => {
    const w = new FrameWriter();
    w.write(FrameKind.NEXT, codec('string'), 'hi');
    w.writeEmpty(FrameKind.COMPLETE);
    w.write(FrameKind.ACK, AckRecord, 300);
    expect(Buffer.from(w.take()).toString('hex')).toBe(
      [
        '04000000', '01', '04' + '6869', // length 4 = kind + zig-zag 2 + "hi"
        '01000000', '02',
        '03000000', '11', 'd804', // 300 zig-zag = 600 = 0xd8 0x04
      ].join(''),
    );
  });

  it('grows past its first buffer and hands each batch off whole', () => {
    const w = new FrameWriter(16);
    const big = 'x'.repeat(1000);
    const size = w.write(FrameKind.NEXT, codec('string'), big);
    expect(size).toBe(FRAME_HEADER + 2 + 1000);
    const first = w.take();
    expect(w.size).toBe(0);
    w.writeEmpty(FrameKind.STOP);
    const second = w.take();
    expect(first.buffer).not.toBe(second.buffer);
    expect(parse(first)).toEqual([[FrameKind.NEXT, Buffer.from(codec('string').encode(big)).toString('hex')]]);
    expect(parse(second)).toEqual([[FrameKind.STOP, '']]);
  });

  it('parses frames one after another, and frames split at any byte are refused, not misread', () => {
    const w = new FrameWriter();
    for (let i = 0; i < 5; i++) w.write(FrameKind.NEXT, codec('int'), i);
    w.writeEmpty(FrameKind.COMPLETE);
    const bytes = w.take();
    expect(parse(bytes).map(([k]) => k)).toEqual([1, 1, 1, 1, 1, 2]);
    const boundaries = new Set([0, 6, 12, 18, 24, 30, 35]);
    for (let cut = 1; cut < bytes.length; cut++) {
      if (boundaries.has(cut)) {
        expect(() => parse(bytes.subarray(0, cut))).not.toThrow();
      } else {
        expect(() => parse(bytes.subarray(0, cut))).toThrow(FrameError);
      }
    }
  });

  it('refuses a zero length, an unknown kind and a frame over the limit', () => {
    expect(() => parse(Buffer.from('0000000001', 'hex'))).toThrow(/length 0/);
    expect(() => parse(Buffer.from('0100000077', 'hex'))).toThrow(/unknown frame kind 0x77/);
    const w = new FrameWriter();
    w.write(FrameKind.NEXT, codec('bytes'), Buffer.alloc(100));
    const bytes = w.take();
    // The body is a 2-byte length and the 100 bytes.
    expect(() => parse(bytes, 101)).toThrow(/body of 102 bytes exceeds the limit/);
    expect(() => parse(bytes, 102)).not.toThrow();
  });

  it('visits the frames before a bad one', () => {
    const w = new FrameWriter();
    w.write(FrameKind.NEXT, codec('int'), 7);
    const good = Buffer.from(w.take());
    const seen: number[] = [];
    const buf = Buffer.concat([good, Buffer.from('ffffff', 'hex')]);
    expect(() => parseFrames(buf, (kind) => seen.push(kind))).toThrow(FrameError);
    expect(seen).toEqual([FrameKind.NEXT]);
  });
});
