import { codec, raw } from '../../../core/codec';
import { DecodeError, EncodeError, FrameError } from '../../../core/errors';
import { guardFor } from '../../../core/bounded';
import { BATCH_BYTES, FrameOut, ITEMS_BYTES } from '../../../transports/tcp/output';
import { FrameParser } from '../../../transports/tcp/parser';
import { ReplayBuffer } from '../../../transports/tcp/session';
import { TcpKind, readVarLong } from '../../../transports/tcp/wire';
import { Trade, tradeAt } from '../../fixtures/trade';

/* Framing without a network: the writer's batches, the parser byte by byte. */

interface Seen {
  kind: number;
  channel: number;
  body: Buffer;
}

function parseAll(chunks: Buffer[], maxFrame = 1 << 20): Seen[] {
  const seen: Seen[] = [];
  const parser = new FrameParser((kind, channel, buf, start, end) => seen.push({ kind, channel, body: Buffer.from(buf.subarray(start, end)) }), maxFrame);
  for (const chunk of chunks) parser.push(chunk);
  return seen;
}

/** The values in a NEXT body. */
function items<T>(body: Buffer, c: { decode(b: Uint8Array, s: number, e: number): T }): T[] {
  const out: T[] = [];
  for (let pos = 0; pos < body.length; ) {
    const n = readVarLong(body, pos, body.length)!;
    out.push(c.decode(body, n.next, n.next + n.value));
    pos = n.next + n.value;
  }
  return out;
}

describe('tcp framing', () => {
  it('batches consecutive values of a channel into one NEXT frame; other frames close it', () => {
    const out = new FrameOut();
    for (let i = 0; i < 3; i++) out.appendItem(7, Trade, tradeAt(i), 1 << 20);
    out.writeEmpty(TcpKind.COMPLETE, 7);
    out.appendItem(9, codec('string'), 'x'.repeat(300), 1 << 20); // a two-byte length prefix
    const frames = parseAll([out.take()]);
    expect(frames.map((f) => [f.kind, f.channel])).toEqual([
      [TcpKind.NEXT, 7],
      [TcpKind.COMPLETE, 7],
      [TcpKind.NEXT, 9],
    ]);
    expect(items(frames[0].body, Trade)).toEqual([0, 1, 2].map(tradeAt));
    expect(items(frames[2].body, codec('string'))).toEqual(['x'.repeat(300)]);
  });

  it('a NEXT frame stops growing at ITEMS_BYTES, several in one batch', () => {
    const out = new FrameOut();
    let n = 0;
    while (out.size < 3 * BATCH_BYTES) out.appendItem(1, Trade, tradeAt(n++), 1 << 20);
    const frames = parseAll([out.take()]);
    expect(frames.length).toBeGreaterThanOrEqual((3 * BATCH_BYTES) / ITEMS_BYTES);
    for (const f of frames) expect(f.body.length).toBeLessThanOrEqual(ITEMS_BYTES);
    expect(frames.filter((f) => f.body.length > ITEMS_BYTES - 64).length).toBeGreaterThanOrEqual(frames.length - 1);
    expect(frames.flatMap((f) => items(f.body, Trade)).map((t) => t.id)).toEqual([...Array(n).keys()]);
  });

  it('refuses a value larger than the peer accepts, writing nothing', () => {
    const out = new FrameOut();
    out.appendItem(1, codec('string'), 'ok', 2048);
    expect(() => out.appendItem(1, codec('string'), 'y'.repeat(5000), 2048)).toThrow(FrameError);
    expect(items(parseAll([out.take()])[0].body, codec('string'))).toEqual(['ok']);
  });

  it('items of every prefix length, on interleaved channels, round-trip; a refused value in between leaves no byte', () => {
    const out = new FrameOut(256); // small, so that values land at every distance from its end and make it grow
    const sizes = [0, 1, 62, 63, 64, 65, 127, 128, 500, 8191, 8192, 8200, 70_000, 3, 2 ** 14 + 1];
    const sent: { channel: number; bytes: Buffer }[] = [];
    sizes.forEach((size, i) => {
      const channel = 1 + (i % 3 === 2 ? 2 : 1); // runs of one channel, then another
      const bytes = Buffer.alloc(size, i + 1);
      out.appendItem(channel, raw, bytes, 1 << 20);
      sent.push({ channel, bytes });
      if (i % 4 === 0) expect(() => out.appendItem(channel, Trade, { ...tradeAt(i), qty: 0.5 } as never, 1 << 20)).toThrow(EncodeError);
      if (i % 5 === 0) expect(() => out.appendItem(channel, raw, Buffer.alloc(3000), 2048)).toThrow(FrameError);
    });
    const frames = parseAll([out.take()]);
    expect(frames.every((f) => f.kind === TcpKind.NEXT)).toBe(true);
    const got = frames.flatMap((f) => items(f.body, raw).map((bytes) => ({ channel: f.channel, bytes })));
    expect(got).toEqual(sent);
  });

  it('a run of 64 KiB values, each after a value of another prefix length, each a frame of its own: prefix, payload, no byte moved wrong', () => {
    // appendItem encodes a value after as many prefix bytes as the last item's took:
    // here the guess is wrong at every switch (1 ↔ 3 bytes) and right within a run.
    const out = new FrameOut();
    const sent: Buffer[] = [];
    const chunks: Buffer[] = [];
    for (let i = 0; i < 12; i++) {
      const bytes = Buffer.alloc(i % 4 === 3 ? 5 : 64 * 1024, i);
      bytes[0] = 0xa0 + i;
      bytes[bytes.length - 1] = 0xb0 + i;
      out.appendItem(1, raw, bytes, 1 << 20);
      sent.push(bytes);
      if (out.size >= BATCH_BYTES) chunks.push(out.take());
    }
    chunks.push(out.take());
    const frames = parseAll(chunks);
    expect(frames.flatMap((f) => items(f.body, raw))).toEqual(sent);
    for (const f of frames.filter((f) => f.body.length > 1000)) {
      expect(readVarLong(f.body, 0, f.body.length)).toEqual({ value: 64 * 1024, next: 3 });
      expect(f.body.length).toBe(3 + 64 * 1024);
    }
  });

  it('parses the same frames fed one byte at a time, and in random splits', () => {
    const out = new FrameOut();
    for (let i = 0; i < 200; i++) {
      out.appendItem(1 + (i % 3), Trade, tradeAt(i), 1 << 20);
      if (i % 17 === 0) out.writeFrame(TcpKind.ACK, 5, codec('long'), i);
    }
    const bytes = out.take();
    const whole = parseAll([bytes]);
    const single = parseAll([...bytes].map((b) => Buffer.of(b)));
    expect(single).toEqual(whole);
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const chunks: Buffer[] = [];
    for (let pos = 0; pos < bytes.length; ) {
      const size = 1 + Math.floor(random() * 100);
      chunks.push(bytes.subarray(pos, pos + size));
      pos += size;
    }
    expect(parseAll(chunks)).toEqual(whole);
  });

  it('refuses a frame over maxFrame from its length alone, before its body arrives', () => {
    const header = Buffer.alloc(4);
    header.writeUInt32LE(5 + 2000, 0);
    expect(() => parseAll([header], 1024)).toThrow(/exceeds the limit of 1024 bytes/);
    expect(() => parseAll([header.subarray(0, 2), header.subarray(2)], 1024)).toThrow(FrameError);
  });

  it('refuses unknown kinds, connection kinds on a channel and channel kinds on the connection', () => {
    const frame = (kind: number, channel: number) => {
      const b = Buffer.alloc(9);
      b.writeUInt32LE(5, 0);
      b[4] = kind;
      b.writeUInt32LE(channel, 5);
      return b;
    };
    expect(() => parseAll([frame(0x7f, 1)])).toThrow(FrameError);
    expect(() => parseAll([frame(TcpKind.CACK, 1)])).toThrow(FrameError);
    expect(() => parseAll([frame(TcpKind.NEXT, 0)])).toThrow(FrameError);
    expect(() => parseAll([frame(TcpKind.STOP, 3)])).not.toThrow();
  });

  it('replays from any acknowledged offset, and refuses one out of range', () => {
    const replay = new ReplayBuffer(true);
    replay.record(Buffer.from('abcd'));
    replay.record(Buffer.from('efgh'));
    expect(Buffer.concat(replay.replayFrom(2)).toString()).toBe('cdefgh');
    replay.ack(5);
    expect(Buffer.concat(replay.replayFrom(6)).toString()).toBe('gh');
    expect(() => replay.ack(3)).toThrow(FrameError);
    expect(() => replay.ack(9)).toThrow(FrameError);
  });

  it('the decode guard passes good values and refuses runaway counts', () => {
    const schema = { type: 'record', name: 'R', fields: [{ name: 'xs', type: { type: 'array', items: 'null' } }, { name: 'm', type: { type: 'map', values: 'int' } }] } as const;
    const R = codec(schema);
    const guard = guardFor(R.schema)!;
    const good = R.encode({ xs: [null, null], m: { a: 1 } });
    expect(() => guard(good, 0, good.length)).not.toThrow();
    const bad = Buffer.concat([codec('long').encode(2 ** 40), Buffer.of(0, 0)]);
    expect(() => guard(bad, 0, bad.length)).toThrow(DecodeError);
    expect(guardFor(Trade.schema)).toBeUndefined(); // no arrays or maps: avsc is bounded by the bytes
  });
});
