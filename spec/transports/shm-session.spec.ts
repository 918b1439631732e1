import { codec, type Codec } from '../../core/codec';
import { FrameError, TransportClosedError } from '../../core/errors';
import { HelloRecord, helloOf } from '../../core/frame';
import type { WireSubject } from '../../core/wire-subject';
import { open } from '../../transports/open';
import { shm, type ShmEnd } from '../../transports';
import { PUBLISHED, RecordKind, ReaderState, consumerBase, READER_STATE, mapRing } from '../../transports/shm/layout';
import { RingWriter } from '../../transports/shm/ring';
import { trySendThrows, until } from '../helpers';

/*
 * shm runs core/session.ts (docs/PROTOCOL.md, "Shared memory"): what is
 * particular to its bytes. Both ends in this thread; real rings.
 */

const int = codec('int');

const opened: WireSubject<unknown>[] = [];
const ports: ShmEnd[] = [];
afterEach(() => {
  for (const wire of opened.splice(0)) wire.close();
  for (const end of ports.splice(0)) end.live.close();
});

function openEnd<T>(end: ShmEnd, c: Codec<T>): WireSubject<T> {
  const wire = open(end, c);
  opened.push(wire as WireSubject<unknown>);
  return wire;
}

/** Everything `wire` delivers until it ends. */
function collect<T>(wire: WireSubject<T>): Promise<{ values: T[]; end: 'complete' | Error }> {
  const values: T[] = [];
  return new Promise((resolve) =>
    wire.subscribe({ next: (v) => values.push(v), complete: () => resolve({ values, end: 'complete' }), error: (err: Error) => resolve({ values, end: err }) }),
  );
}

/** A writer that is not rxwire: records straight into `end`'s tx ring. */
function rawWriter(end: ShmEnd): RingWriter {
  ports.push(end);
  return new RingWriter(mapRing(end.tx));
}

describe('shm over the session', () => {
  it('the reader answers HELLO with no subscriber: values go out before it subscribes, none held', async () => {
    const [a, b] = shm.pair({ bytes: 4096 });
    const writer = openEnd(a, int);
    const reader = openEnd(b, int);
    for (let i = 0; i < 10; i++) writer.next(i);
    await until(() => writer.stats().sent === 10);
    expect(writer.stats()).toMatchObject({ sent: 10, queued: 0 });
    // Its state word says ACCEPTED (the session's ACK 0), and nothing beyond the HELLO was read.
    expect(Atomics.load(mapRing(a.tx).header, consumerBase(0) + READER_STATE)).toBe(ReaderState.ACCEPTED);
    writer.complete();
    expect(await collect(reader)).toEqual({ values: [...Array(10).keys()], end: 'complete' });
  });

  it('stats count whole records: 4-byte ints take 16 bytes each, and in flight is what the reader has not released', async () => {
    const [a, b] = shm.pair({ bytes: 4096 });
    const writer = openEnd(a, int);
    const reader = openEnd(b, int);
    for (let i = 0; i < 5; i++) writer.next(1_000_000 + i); // 3 bytes of Avro: 8 + 3, padded to 16
    await until(() => writer.stats().sent === 5);
    expect(writer.stats()).toMatchObject({ sentBytes: 80, inFlightBytes: 80 });
    const got = collect(reader);
    await until(() => reader.stats().received === 5);
    expect(reader.stats().receivedBytes).toBe(80);
    await until(() => writer.stats().inFlightBytes === 0);
    writer.complete();
    expect((await got).end).toBe('complete');
  });

  it('a first record that is not HELLO is a FrameError for the reader, and its outgoing side ends too', async () => {
    const [a, b] = shm.pair({ bytes: 4096 });
    const w = rawWriter(a);
    w.tryWrite(RecordKind.NEXT, int, 1);
    w.publish();
    const reader = openEnd(b, int);
    const { values, end } = await collect(reader);
    expect(values).toEqual([]);
    expect(end).toBeInstanceOf(FrameError);
    expect((end as Error).message).toMatch(/first record of a ring must be HELLO, not kind 1/);
    await expect(reader.send(1)).rejects.toBeInstanceOf(FrameError);
  });

  it('an unknown record kind after the values: they are delivered, then a FrameError', async () => {
    const [a, b] = shm.pair({ bytes: 4096 });
    const w = rawWriter(a);
    w.tryWrite(RecordKind.HELLO, HelloRecord, helloOf(int, 4096));
    w.tryWrite(RecordKind.NEXT, int, 1);
    w.tryWrite(RecordKind.NEXT, int, 2);
    w.tryWriteEmpty(7 as RecordKind);
    w.publish();
    const { values, end } = await collect(openEnd(b, int));
    expect(values).toEqual([1, 2]);
    expect(end).toBeInstanceOf(FrameError);
    expect((end as Error).message).toMatch(/frame kind 0x7 has no place in a session/);
  });

  it.each([
    ['behind what was read', -8],
    ['more than a ring ahead', 8192],
  ])('a writer whose published position jumps %s is a FrameError, not a reader spinning for ever or reading a lap again', async (_, jump) => {
    const [a, b] = shm.pair({ bytes: 4096 });
    const w = rawWriter(a);
    w.tryWrite(RecordKind.HELLO, HelloRecord, helloOf(int, 4096));
    w.tryWrite(RecordKind.NEXT, int, 1);
    w.publish();
    const reader = openEnd(b, int);
    const ending = collect(reader);
    await until(() => reader.stats().received === 1);
    const { header } = mapRing(a.tx);
    Atomics.add(header, PUBLISHED, jump);
    Atomics.notify(header, PUBLISHED);
    const { values, end } = await ending;
    expect(values).toEqual([1]);
    expect(end).toBeInstanceOf(FrameError);
    expect((end as Error).message).toMatch(/published position is -?\d+ bytes from this reader's/);
  });

  it('a second HELLO in a ring is a FrameError', async () => {
    const [a, b] = shm.pair({ bytes: 4096 });
    const w = rawWriter(a);
    w.tryWrite(RecordKind.HELLO, HelloRecord, helloOf(int, 4096));
    w.tryWrite(RecordKind.HELLO, HelloRecord, helloOf(int, 4096));
    w.publish();
    const { end } = await collect(openEnd(b, int));
    expect(end).toBeInstanceOf(FrameError);
    expect((end as Error).message).toMatch(/a second HELLO/);
  });

  it('a state word that makes no sense is a FrameError for the writer', async () => {
    const [a, b] = shm.pair({ bytes: 4096 });
    ports.push(b);
    const writer = openEnd(a, int);
    const failed = collect(writer);
    // No rxwire reader: the state word goes from READING to 3, a value no reader writes.
    const header = mapRing(a.tx).header;
    Atomics.store(header, consumerBase(0) + READER_STATE, 3);
    Atomics.notify(header, consumerBase(0));
    await expect(writer.send(1)).rejects.toBeInstanceOf(FrameError);
    expect((await failed).end).toBeInstanceOf(FrameError);
  });

  it('the peer gone while the reader has no subscriber: its first subscriber gets what was published, then the ending', async () => {
    const [a, b] = shm.pair({ bytes: 4096 });
    const writer = openEnd(a, int);
    const reader = openEnd(b, int);
    for (let i = 0; i < 20; i++) writer.next(i);
    writer.complete();
    await until(() => writer.stats().sent === 20);
    // The writer's thread dies: its liveness port closes.
    a.live.close();
    await until(() => trySendThrows(reader));
    expect(await collect(reader)).toEqual({ values: [...Array(20).keys()], end: 'complete' });
  });

  it('the peer gone mid-stream: values published before are delivered, then TransportClosedError', async () => {
    const [a, b] = shm.pair({ bytes: 4096 });
    const writer = openEnd(a, int);
    const reader = openEnd(b, int);
    for (let i = 0; i < 20; i++) writer.next(i);
    await until(() => writer.stats().sent === 20);
    a.live.close();
    await until(() => trySendThrows(reader));
    const { values, end } = await collect(reader);
    expect(values).toEqual([...Array(20).keys()]);
    expect(end).toBeInstanceOf(TransportClosedError);
  });
});
