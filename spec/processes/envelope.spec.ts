/**
 * The envelope channel's hand-written codec against avsc's own codec of the
 * same schema: the same bytes out, the same envelopes back, typed errors for
 * bytes that do not decode.
 */
import { codec } from '../../core/codec';
import { DecodeError } from '../../core/errors';
import { EnvelopeCodec, Kind, type Envelope } from '../../processes/envelope';
import { MessageRecord, readMessage, type MessageAt } from '../../processes/message-record';

const avro = codec(EnvelopeCodec.schema as never, { validate: false }) as unknown as typeof EnvelopeCodec;

const NUMBERS = [0, 1, -1, 63, 64, -65, 8191, 2 ** 31 - 1, -(2 ** 31), 2 ** 32 + 5, 2 ** 33 * 3 + 517, 2 ** 52, -(2 ** 52), 2 ** 53 - 2];
const KINDS = [0, 1, 2, 21, 22, 63, 64, 2 ** 31 - 1, -(2 ** 31)];
const TEXTS = ['', 'noproc', 'module/path.js\nexport\nname', 'é 中文 😀'];
const SIZES = [0, 1, 63, 64, 65, 300, 70_000];

function envelopes(): Envelope[] {
  const all: Envelope[] = [];
  let i = 0;
  for (const kind of KINDS) {
    for (const n of NUMBERS) {
      const text = TEXTS[i % TEXTS.length];
      const size = SIZES[i % SIZES.length];
      const body = Buffer.from(Array.from({ length: size }, (_, k) => (k * 31 + i) & 0xff));
      all.push({ kind, to: n, from: NUMBERS[(i + 3) % NUMBERS.length], tag: 0 - n || 0, call: NUMBERS[(i + 5) % NUMBERS.length], n: i, text, body });
      i++;
    }
  }
  return all;
}

/** What `decode` gives: the envelope, or its error's class name. */
function outcome(decode: () => unknown): unknown {
  try {
    return decode();
  } catch (err) {
    return (err as Error).constructor.name;
  }
}

describe('EnvelopeCodec (hand-written fast path for envelopes without text)', () => {
  it('writes exactly the bytes avsc writes and reads back what avsc reads, at any offset', () => {
    for (const e of envelopes()) {
      const bytes = EnvelopeCodec.encode(e);
      expect(bytes.equals(avro.encode(e))).toBe(true);
      expect(EnvelopeCodec.decode(bytes)).toEqual(avro.decode(bytes));
      const room = Buffer.alloc(bytes.length + 9, 0xee);
      expect(EnvelopeCodec.encodeInto(e, room, 4)).toBe(bytes.length + 4);
      expect(room.subarray(4, bytes.length + 4).equals(bytes)).toBe(true);
      if (e.text === '') expect(room[bytes.length + 4]).toBe(0xee); // the fast path writes nothing past its end (avsc's may use the room after)
      expect(EnvelopeCodec.decode(room, 4, bytes.length + 4)).toEqual(avro.decode(bytes));
      if (Math.abs(e.to) <= 2 ** 52) expect({ ...EnvelopeCodec.decode(bytes) }).toEqual(e);
    }
  });

  it('reports the exact bytes missing for every room short of the envelope', () => {
    const e: Envelope = { kind: 1, to: 2 ** 33 + 7, from: 0, tag: 3, call: 0, n: 0, text: '', body: Buffer.alloc(70) };
    const whole = EnvelopeCodec.encode(e).length;
    for (let room = 0; room < whole; room++) expect(EnvelopeCodec.encodeInto(e, Buffer.alloc(room), 0)).toBe(room - whole);
  });

  it('a body that does not share memory with the bytes it came from', () => {
    const e: Envelope = { kind: 1, to: 9, from: 0, tag: 0, call: 0, n: 0, text: '', body: Buffer.from([1, 2, 3]) };
    const bytes = EnvelopeCodec.encode(e);
    const back = EnvelopeCodec.decode(bytes);
    bytes.fill(0);
    expect([...back.body]).toEqual([1, 2, 3]);
  });

  it('truncated, trailing or garbage bytes are a DecodeError, never a wrong envelope', () => {
    for (const e of envelopes().slice(0, 40)) {
      const bytes = EnvelopeCodec.encode(e);
      for (let cut = 0; cut < bytes.length; cut += Math.max(1, bytes.length >> 4)) {
        expect(() => EnvelopeCodec.decode(bytes, 0, cut)).toThrow(DecodeError);
      }
      expect(() => EnvelopeCodec.decode(Buffer.concat([bytes, Buffer.from([0])]))).toThrow(DecodeError);
    }
    expect(() => EnvelopeCodec.decode(Buffer.alloc(12, 0xff))).toThrow(DecodeError);
  });

  it('a number whose zig-zag form is 2^53 or more goes to avsc, whatever the field (the kind gave NaN)', () => {
    const past = Buffer.from('8080808080808010', 'hex'); // the form 2^53: past the fast path
    for (let field = 0; field < 6; field++) {
      const numbers = [0, 2, 4, 6, 8, 10].map((b) => Buffer.from([b])); // kind, to, from, tag, call, n
      numbers[field] = past;
      const bytes = Buffer.concat([...numbers, Buffer.from([0, 2, 7])]); // text '', a 1-byte body
      expect(outcome(() => EnvelopeCodec.decode(bytes))).toEqual(outcome(() => avro.decode(bytes)));
    }
  });
});

describe('a MSG written and read in place (processes/message-record.ts)', () => {
  const Body = codec('bytes');
  const record = new MessageRecord();

  it.each([0, 1, 62, 63, 64, 65, 127, 128, 300, 8191, 8192, 70_000])('a body of %i bytes: the bytes of EnvelopeCodec, and its header read back', (size) => {
    for (const [to, tag] of [
      [0, 0],
      [2 ** 32 + 5, -1],
      [2 ** 52, 2 ** 52],
      [7, -(2 ** 52)],
    ]) {
      const message = Buffer.from(Array.from({ length: size }, (_, k) => (k * 7 + size) & 0xff));
      Object.assign(record, { to, tag, codec: Body, message });
      const out = Buffer.alloc(size + 64);
      const end = record.encodeInto(undefined, out, 3);
      const general = EnvelopeCodec.encode({ kind: Kind.MSG, to, from: 0, tag, call: 0, n: 0, text: '', body: Body.encode(message) });
      expect(out.subarray(3, end)).toEqual(general);
      const at: MessageAt = { to: -1, tag: -1, start: -1 };
      if (readMessage(out, 3, end, at, { pos: 0 })) {
        expect({ to: at.to, tag: at.tag }).toEqual({ to, tag });
        expect(Body.decode(out, at.start, end)).toEqual(message);
      } else {
        expect(Math.abs(tag)).toBeGreaterThan(2 ** 48); // a number past the fast reader's range: EnvelopeCodec reads it
        expect(EnvelopeCodec.decode(out, 3, end)).toEqual(EnvelopeCodec.decode(general));
      }
      // Short of room, it says bytes are missing, as avsc's encode does: how many, at least, once its header is in
      // (before, the body's size is not known: a guess, and a wrong one only sends the message the general way).
      for (const short of [2, 9, general.length - 1].filter((n) => n < general.length)) {
        const missing = record.encodeInto(undefined, Buffer.alloc(short), 0);
        expect(missing).toBeLessThan(0);
        if (short === general.length - 1) expect(short - missing).toBeGreaterThanOrEqual(general.length);
      }
    }
  });

  it('any other record, or one cut short, is left to EnvelopeCodec', () => {
    const at: MessageAt = { to: 0, tag: 0, start: 0 };
    const cursor = { pos: 0 };
    const others = [
      EnvelopeCodec.encode({ kind: Kind.REQUEST, to: 1, from: 0, tag: 0, call: 4, n: 0, text: '', body: Buffer.of(1) }),
      EnvelopeCodec.encode({ kind: Kind.MSG, to: 1, from: 2, tag: 0, call: 0, n: 0, text: '', body: Buffer.of(1) }),
      EnvelopeCodec.encode({ kind: Kind.MSG, to: 1, from: 0, tag: 0, call: 0, n: 0, text: 'x', body: Buffer.of(1) }),
    ];
    for (const bytes of others) expect(readMessage(bytes, 0, bytes.length, at, cursor)).toBe(false);
    const msg = EnvelopeCodec.encode({ kind: Kind.MSG, to: 1, from: 0, tag: 0, call: 0, n: 0, text: '', body: Buffer.of(1, 2, 3) });
    for (let cut = 0; cut < msg.length; cut++) expect(readMessage(msg, 0, cut, at, cursor)).toBe(false);
    expect(readMessage(msg, 0, msg.length, at, cursor)).toBe(true);
  });
});
