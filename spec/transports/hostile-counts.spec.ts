/**
 * A writer that is not rxwire claims an array of millions of items in a few
 * bytes: every transport checks the counts against the bytes before avsc
 * trusts them (core/bounded.ts, run by the session), so the reader gets a
 * DecodeError, not a value of millions of nulls — and not, with a count of
 * 2^31, a heap exhausted and the whole process aborted (only TCP checked).
 */
import { codec, raw } from '../../core/codec';
import { DecodeError } from '../../core/errors';
import { FrameKind, FrameWriter, HelloRecord, helloOf } from '../../core/frame';
import type { WireSubject } from '../../core/wire-subject';
import { open } from '../../transports/open';
import { port, shm } from '../../transports';
import { RecordKind, mapRing } from '../../transports/shm/layout';
import { RingWriter } from '../../transports/shm/ring';

const Nulls = codec({ type: 'array', items: 'null' } as const);

/** One array block claiming `count` items (a zigzag varint), then the end: a few bytes. */
function claimed(count: number): Buffer {
  const bytes: number[] = [];
  for (let z = count * 2; ; z = Math.floor(z / 128)) {
    if (z < 128) {
      bytes.push(z);
      break;
    }
    bytes.push((z % 128) | 0x80);
  }
  return Buffer.from([...bytes, 0]);
}

/** What `wire` delivers until it ends. */
function collect<T>(wire: WireSubject<T>): Promise<{ values: T[]; end: 'complete' | Error }> {
  const values: T[] = [];
  return new Promise((resolve) =>
    wire.subscribe({ next: (v) => values.push(v), complete: () => resolve({ values, end: 'complete' }), error: (err: Error) => resolve({ values, end: err }) }),
  );
}

/** `reader` delivers nothing and ends with a DecodeError; then it and the writer's side (`closeWriter`) are closed. */
async function refusedByDecode<T>(reader: WireSubject<T>, closeWriter: () => void): Promise<void> {
  try {
    const { values, end } = await collect(reader);
    expect(values).toEqual([]);
    expect(end).toBeInstanceOf(DecodeError);
  } finally {
    reader.close();
    closeWriter();
  }
}

describe('an array count a hostile writer claims', () => {
  it('over shm: 3 million nulls in 5 bytes is a DecodeError for the reader', async () => {
    const [a, b] = shm.pair({ bytes: 4096 });
    const w = new RingWriter(mapRing(a.tx));
    w.tryWrite(RecordKind.HELLO, HelloRecord, helloOf(Nulls, 4096));
    w.tryWrite(RecordKind.NEXT, raw, claimed(3_000_000));
    w.publish();
    await refusedByDecode(open(b, Nulls), () => a.live.close());
  });

  it('over a port: the same bytes are a DecodeError (NATS decodes its frames the same way)', async () => {
    const [a, b] = port.pair();
    const w = new FrameWriter();
    w.write(FrameKind.HELLO, HelloRecord, helloOf(Nulls, 1 << 20));
    w.write(FrameKind.NEXT, raw, claimed(3_000_000));
    a.port.postMessage(w.take());
    await refusedByDecode(open(b, Nulls), () => a.port.close());
  });
});
