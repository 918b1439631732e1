import { codec } from '../../core/codec';
import { ErrorCode, FrameError } from '../../core/errors';
import { AckRecord, FRAME_LAYOUT, FrameKind, FrameWriter } from '../../core/frame';
import { FrameReader, type FrameLayout } from '../../core/frame-reader';
import { FrameOut } from '../../transports/tcp/output';
import { TCP_LAYOUT, TcpKind } from '../../transports/tcp/wire';

/*
 * The one frame parser, without a network (as nats.js tests its parser):
 * the same bytes read whole, at every split point, at every pair of split
 * points and byte by byte give the same frames; malformed bytes give a
 * FrameError at the byte that shows them, wherever the chunks end.
 */

/** A frame as the visitor saw it: its bytes, header included, and whether it was read in place (no copy). */
interface Seen {
  hex: string;
  inPlace: boolean;
}

interface Run {
  seen: Seen[];
  error: unknown;
  /** Bytes held for a frame not whole yet, at the end. */
  pending: number;
}

/** Feeds `chunks` to a fresh reader, in order; stops at the first throw. */
function stream(layout: FrameLayout, chunks: Buffer[], maxBody = 1 << 20): Run {
  const seen: Seen[] = [];
  const reader = new FrameReader(layout, (buf, start, end) => seen.push({ hex: buf.toString('hex', start, end), inPlace: chunks.includes(buf) }), maxBody);
  let error: unknown;
  for (const chunk of chunks) {
    try {
      reader.push(chunk);
    } catch (err) {
      error = err;
      break;
    }
  }
  return { seen, error, pending: reader.pending };
}

/** Reads `bytes` as one batch of whole frames. */
function batch(layout: FrameLayout, bytes: Buffer, maxBody = 1 << 20): Run {
  const seen: Seen[] = [];
  const reader = new FrameReader(layout, (buf, start, end) => seen.push({ hex: buf.toString('hex', start, end), inPlace: buf === bytes }), maxBody);
  let error: unknown;
  try {
    reader.readBatch(bytes);
  } catch (err) {
    error = err;
  }
  return { seen, error, pending: reader.pending };
}

const hexes = (run: Run) => run.seen.map((s) => s.hex);

/** `bytes` cut at the given offsets (ascending). */
function cut(bytes: Buffer, at: number[]): Buffer[] {
  const edges = [0, ...at, bytes.length];
  return edges.slice(1).map((end, i) => bytes.subarray(edges[i], end));
}

function expectFrameError(err: unknown, message?: RegExp): void {
  expect(err).toBeInstanceOf(FrameError);
  expect((err as FrameError).code).toBe(ErrorCode.FRAME);
  if (message) expect((err as FrameError).message).toMatch(message);
}

/** A header of `layout` for a frame of `bodyLength` bytes (TCP: on `channel`), without its body. */
function header(layout: FrameLayout, kind: number, bodyLength: number, channel = 1): Buffer {
  const b = Buffer.alloc(layout.header);
  b.writeUInt32LE(layout.header - 4 + bodyLength, 0);
  b[4] = kind;
  if (layout.header > 5) b.writeUInt32LE(channel, 5);
  return b;
}

/** Both frame layouts, each with a multi-frame byte string its writer made: empty bodies, one-byte ones, a body past 127 bytes. */
const layouts = [
  {
    name: 'version 1 (port)',
    layout: FRAME_LAYOUT,
    next: FrameKind.NEXT,
    bytes: (() => {
      const w = new FrameWriter();
      w.write(FrameKind.NEXT, codec('string'), 'hi');
      w.writeEmpty(FrameKind.COMPLETE);
      w.write(FrameKind.ACK, AckRecord, 300);
      w.write(FrameKind.NEXT, codec('string'), 'x'.repeat(130));
      w.writeEmpty(FrameKind.STOP);
      w.write(FrameKind.NEXT, codec('int'), -1);
      return Buffer.from(w.take());
    })(),
    frames: 6,
    badKinds: [
      [0x77, 1],
      [0x00, 1],
    ],
  },
  {
    name: 'TCP (channel ids)',
    layout: TCP_LAYOUT,
    next: TcpKind.NEXT,
    bytes: (() => {
      const out = new FrameOut();
      out.appendItem(1, codec('string'), 'hi', 1 << 20);
      out.appendItem(1, codec('string'), 'there', 1 << 20); // two items, one frame
      out.writeEmpty(TcpKind.COMPLETE, 1);
      out.writeFrame(TcpKind.ACK, 2, AckRecord, 300);
      out.appendItem(3, codec('string'), 'x'.repeat(130), 1 << 20);
      out.writeEmpty(TcpKind.STOP, 2);
      return Buffer.concat([out.take(), header(TCP_LAYOUT, TcpKind.PING, 0, 0)]);
    })(),
    frames: 6,
    badKinds: [
      [0x77, 1],
      [TcpKind.NEXT, 0], // a channel kind on the connection
      [TcpKind.CACK, 3], // a connection kind on a channel
    ],
  },
];

describe.each(layouts)('the frame reader, $name', ({ layout, next, bytes, frames, badKinds }) => {
  const whole = batch(layout, bytes);
  /** Offsets where a frame ends. */
  const boundaries = new Set<number>([0]);
  for (let pos = 0; pos < bytes.length; ) boundaries.add((pos += 4 + bytes.readUInt32LE(pos)));

  it('reads a batch of whole frames in place, in order', () => {
    expect(whole.error).toBeUndefined();
    expect(whole.seen).toHaveLength(frames);
    expect(whole.seen.every((s) => s.inPlace)).toBe(true);
    expect(whole.seen.map((s) => s.hex).join('')).toBe(bytes.toString('hex'));
    expect(boundaries.size).toBe(frames + 1);
  });

  it('gives the same frames at every split point, with only split frames copied', () => {
    for (let k = 1; k < bytes.length; k++) {
      const run = stream(layout, cut(bytes, [k]));
      expect(run.error).toBeUndefined();
      expect(hexes(run)).toEqual(hexes(whole));
      expect(run.pending).toBe(0);
      // A frame that lies whole in one chunk is visited in that chunk.
      let start = 0;
      for (const s of run.seen) {
        const end = start + s.hex.length / 2;
        expect(s.inPlace).toBe(end <= k || start >= k);
        start = end;
      }
    }
  });

  it('gives the same frames at every pair of split points', () => {
    const expected = hexes(whole).join(' ');
    const wrong: string[] = [];
    for (let i = 1; i < bytes.length; i++) {
      for (let j = i + 1; j < bytes.length; j++) {
        const run = stream(layout, cut(bytes, [i, j]));
        if (run.error || run.pending !== 0 || hexes(run).join(' ') !== expected) wrong.push(`${i},${j}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('gives the same frames byte by byte, holding exactly the bytes of the frame under way', () => {
    const seen: string[] = [];
    const reader = new FrameReader(layout, (buf, start, end) => seen.push(buf.toString('hex', start, end)), 1 << 20);
    let lastBoundary = 0;
    for (let pos = 0; pos < bytes.length; pos++) {
      reader.push(bytes.subarray(pos, pos + 1));
      if (boundaries.has(pos + 1)) lastBoundary = pos + 1;
      expect(reader.pending).toBe(pos + 1 - lastBoundary);
    }
    expect(seen).toEqual(hexes(whole));
  });

  it('a batch cut short is a FrameError after the whole frames before it; a stream holds the rest', () => {
    for (let k = 1; k < bytes.length; k++) {
      const prefix = bytes.subarray(0, k);
      const run = batch(layout, prefix);
      const before = [...boundaries].filter((b) => b <= k).length - 1;
      expect(run.seen).toHaveLength(before);
      if (boundaries.has(k)) {
        expect(run.error).toBeUndefined();
      } else {
        const last = Math.max(...[...boundaries].filter((b) => b < k));
        expectFrameError(run.error, k - last < layout.header ? /truncated frame header/ : /declares \d+ bytes but only \d+ follow/);
      }
      const streamed = stream(layout, [prefix]);
      expect(streamed.error).toBeUndefined();
      expect(streamed.seen).toHaveLength(before);
      expect(streamed.pending).toBe(k - Math.max(...[...boundaries].filter((b) => b <= k)));
    }
  });

  it('refuses an oversized length as soon as its 4 bytes are in, before any body, wherever the chunks end', () => {
    const max = 1000;
    const good = header(layout, next, max);
    const bad = header(layout, next, max + 1);
    for (let k = 1; k < 4; k++) {
      const run = stream(layout, [bytes, ...cut(bad.subarray(0, 4), [k])], max);
      expectFrameError(run.error, /a frame body of 1001 bytes exceeds the limit of 1000 bytes/);
      expect(run.seen).toHaveLength(frames);
    }
    expectFrameError(batch(layout, Buffer.concat([bytes, bad, Buffer.alloc(max + 1)]), max).error, /exceeds the limit/);
    // Exactly the limit is accepted: held until its body arrives.
    const held = stream(layout, [good, Buffer.alloc(max - 1)], max);
    expect(held.error).toBeUndefined();
    expect(held.pending).toBe(layout.header + max - 1);
    expect(stream(layout, [good, Buffer.alloc(max)], max).seen).toHaveLength(1);
  });

  it('refuses a length too short to hold the header', () => {
    const short = Buffer.alloc(4);
    short.writeUInt32LE(layout.header - 5, 0);
    expectFrameError(stream(layout, [short]).error, new RegExp(`frame length ${layout.header - 5} is below the minimum of ${layout.header - 4}`));
    expectFrameError(batch(layout, Buffer.concat([short, Buffer.alloc(8)])).error, /below the minimum/);
  });

  it('refuses a bad kind once its header is whole, before its body arrives, wherever the chunks end', () => {
    for (const [kind, channel] of badKinds) {
      const bad = header(layout, kind, 500, channel);
      for (let k = 1; k < layout.header; k++) {
        const run = stream(layout, [bytes, ...cut(bad, [k])]);
        expectFrameError(run.error, /kind 0x/);
        expect(run.seen).toHaveLength(frames);
      }
      expectFrameError(batch(layout, Buffer.concat([bytes, bad, Buffer.alloc(500)])).error, /kind 0x/);
    }
  });

  it('stops for good at the first bad frame of a stream', () => {
    const run: string[] = [];
    const reader = new FrameReader(layout, (buf, start, end) => run.push(buf.toString('hex', start, end)), 1 << 20);
    expect(() => reader.push(Buffer.concat([bytes, header(layout, 0x77, 0)]))).toThrow(FrameError);
    expect(reader.pending).toBe(0);
    reader.push(bytes);
    expect(run).toEqual(hexes(whole));
  });

  it('detached from a visitor, hands back the rest of the chunk', () => {
    for (let k = 1; k < bytes.length; k++) {
      const visited: string[] = [];
      const reader = new FrameReader(
        layout,
        (buf, start, end) => {
          visited.push(buf.toString('hex', start, end));
          if (visited.length === 2) reader.detach();
        },
        1 << 20,
      );
      const rest: Buffer[] = [];
      for (const chunk of cut(bytes, [k])) {
        reader.push(chunk);
        const r = reader.remainder();
        if (r && !rest.includes(r)) rest.push(r);
      }
      expect(visited).toEqual(hexes(whole).slice(0, 2));
      const second = [...boundaries].sort((a, b) => a - b)[2];
      // The rest of the chunk that held the end of the second frame (nothing when that chunk ends there).
      const expected = second < k ? bytes.subarray(second, k) : second === k ? Buffer.alloc(0) : bytes.subarray(second);
      expect(Buffer.concat(rest).toString('hex')).toBe(expected.toString('hex'));
    }
  });

  it('random bytes in random chunks: the same frames and the same FrameError as read whole, nothing else thrown', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let failed = 0;
    for (let round = 0; round < 300; round++) {
      // Well-formed frames with, at a random place, random bytes (odd rounds) or a well-formed frame of random bytes (even rounds).
      const random8 = () => Math.floor(random() * 256);
      const noise = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 24) }, random8));
      const boundary = [...boundaries][Math.floor(random() * boundaries.size)];
      const at = round % 2 ? Math.floor(random() * bytes.length) : boundary;
      const spliced = round % 2 ? noise : Buffer.concat([header(layout, next, noise.length), noise]);
      const input = Buffer.concat([bytes.subarray(0, at), spliced, bytes.subarray(at)]);
      const reference = stream(layout, [input], 4096);
      const splits = [...new Set(Array.from({ length: 3 }, () => 1 + Math.floor(random() * (input.length - 1))))].sort((a, b) => a - b);
      const run = stream(layout, cut(input, splits), 4096);
      expect(hexes(run)).toEqual(hexes(reference));
      if (reference.error || run.error) {
        expectFrameError(reference.error);
        expectFrameError(run.error);
        expect((run.error as Error).message).toBe((reference.error as Error).message);
        failed++;
      } else {
        expect(run.pending).toBe(reference.pending);
      }
    }
    // Both kinds of outcome were met.
    expect(failed).toBeGreaterThan(50);
    expect(failed).toBeLessThanOrEqual(150);
  });
});
