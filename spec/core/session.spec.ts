import type { ChannelSink } from '../../core/channel';
import { codec, type Codec } from '../../core/codec';
import { FrameError, SchemaMismatchError, TransportClosedError } from '../../core/errors';
import { AckRecord, FrameKind, RejectRecord, helloOf, type Hello } from '../../core/frame';
import { Session } from '../../core/session';
import type { SessionOptions, SessionTransport } from '../../core/session-transport';

/* The session alone, over a transport that records what it is asked to write: no thread, no socket, no timer. */

class Recorder implements SessionTransport {
  frames: [FrameKind, unknown][] = [];
  answerNow?: () => void;
  closed = 0;
  readonly maxValueBytes = 1000;
  write<V>(kind: FrameKind, _body?: Codec<V>, value?: V): number {
    this.frames.push([kind, value]);
    return kind === FrameKind.NEXT ? 10 : 0; // every value costs 10 bytes of credit
  }
  flush(): void {}
  decodeNext<T>(reader: Codec<T>, _guard: unknown, buf: Buffer, start: number, end: number, into: T[]): number {
    into.push(reader.decode(buf, start, end));
    return end - start;
  }
  keepAlive(): void {}
  close(): void {
    this.closed++;
  }
  kinds(): FrameKind[] {
    return this.frames.map(([kind]) => kind);
  }
}

function sinkLog() {
  const log: unknown[] = [];
  const sink: ChannelSink<number> = {
    batch: (values) => log.push(['batch', values]),
    complete: () => log.push('complete'),
    error: (err) => log.push(['error', err]),
    writable: () => log.push('writable'),
    writeClosed: (err, stopped) => log.push(['writeClosed', err, stopped]),
    flushed: () => undefined,
    accepted: () => undefined,
  };
  return { log, sink };
}

const int = codec('int');
const hello = (window: number): Hello => helloOf(int, window);
const ack = (n: number) => AckRecord.encode(n);

function session(options: Partial<SessionOptions> = {}) {
  const transport = new Recorder();
  const { log, sink } = sinkLog();
  const s = new Session(transport, int, sink, { window: 40, announces: 'send', maxFrame: 100, nextOverhead: 0, ...options });
  return { s, transport, log };
}

describe('session: writing', () => {
  it('before ACK 0, values of zero bytes count one byte each: a window of them is taken, not an unbounded number', () => {
    const transport = new Recorder();
    const { sink } = sinkLog();
    const s = new Session(transport, codec('null'), sink, { window: 40, announces: 'send', maxFrame: 100, nextOverhead: 0 });
    let taken = 0;
    while (s.offer(null) && taken < 1000) taken++;
    expect(taken).toBe(40); // before, every one was taken: they counted 0 bytes
    expect(transport.kinds()).toEqual([]);
  });

  it("asks the transport for the reader's answer before holding a value: taken after an ACK 0 already there, it is written at once", () => {
    // shm: the reader's state word said ACCEPTED before the writer's pump looked; the value was held in this
    // thread until that step, and died with a thread that ended first (a process's first messages to a thread).
    const { s, transport } = session();
    let asked = 0;
    let answer: (() => void) | undefined;
    transport.answerNow = () => {
      asked++;
      answer?.();
      answer = undefined;
    };
    expect(s.offer(1)).toBe(true);
    expect([asked, transport.kinds()]).toEqual([1, []]); // nothing answered yet: held
    s.hello(hello(1 << 20));
    answer = () => s.receive(FrameKind.ACK, ack(0), 0, 1);
    expect(s.offer(2)).toBe(true);
    // The held value goes first, as its bytes (1 is 0x02 in Avro), then 2 itself: written, not held.
    expect(transport.frames.filter(([kind]) => kind === FrameKind.NEXT).map(([, value]) => value)).toEqual([Buffer.from([2]), 2]);
    expect(s.offer(3)).toBe(true);
    expect(asked).toBe(2); // not asked once accepted
    // An answer that ends this direction (STOP) is the offer's TransportClosedError, nothing taken.
    const other = session();
    other.s.hello(hello(1 << 20));
    other.transport.answerNow = () => other.s.receive(FrameKind.STOP, Buffer.alloc(0), 0, 0);
    expect(() => other.s.offer(1)).toThrow(TransportClosedError);
    expect(other.transport.kinds()).not.toContain(FrameKind.NEXT);
  });

  it('takes up to its own window before ACK 0, sends nothing until then, then what it took, in order', () => {
    const { s, transport } = session();
    let taken = 0;
    while (s.offer(taken)) taken++;
    expect(taken).toBe(40); // before acceptance the window counts encoded bytes: 0..39 take one byte each
    expect(transport.kinds()).toEqual([]);
    s.hello(hello(1 << 20));
    s.receive(FrameKind.ACK, ack(0), 0, 1);
    // Credit: 10 bytes a value, window 40: four go out, the rest wait for credit.
    expect(transport.kinds().filter((k) => k === FrameKind.NEXT)).toHaveLength(4);
    expect(s.stats()).toMatchObject({ sent: 4, inFlightBytes: 40 });
  });

  it('an ACK outside [acked, sent] is a FrameError', () => {
    const { s } = session();
    s.hello(hello(1 << 20));
    s.receive(FrameKind.ACK, ack(0), 0, 1);
    s.offer(1);
    expect(() => s.receive(FrameKind.ACK, ack(11), 0, 1)).toThrow(FrameError);
  });

  it('REJECT drops what was held unsent and closes the writer with SchemaMismatchError', () => {
    const { s, log } = session();
    s.offer(1);
    s.offer(2);
    const body = RejectRecord.encode({ path: 'P.x', message: 'no default' });
    s.receive(FrameKind.REJECT, body, 0, body.length);
    const closed = log.find((e) => Array.isArray(e) && e[0] === 'writeClosed') as [string, Error, boolean];
    expect(closed[1]).toBeInstanceOf(SchemaMismatchError);
    expect(closed[2]).toBe(false);
    expect(s.stats().sent).toBe(0);
    expect(() => s.offer(3)).toThrow(TransportClosedError);
  });

  it('complete() waits for acceptance and the held values, then goes out after them', () => {
    const { s, transport } = session();
    s.offer(1);
    s.complete();
    expect(transport.kinds()).toEqual([]);
    s.hello(hello(1 << 20));
    s.receive(FrameKind.ACK, ack(0), 0, 1);
    expect(transport.kinds()).toEqual([FrameKind.ACK, FrameKind.NEXT, FrameKind.COMPLETE]);
  });
});

describe('session: reading', () => {
  const next = (v: number) => int.encode(v);

  it('answers an accepted HELLO with ACK 0, and ACKs every floor(window/4) bytes consumed', () => {
    const { s, transport } = session();
    s.hello(hello(8)); // the writer's window (announces: 'send'): ACK every 2 bytes
    expect(transport.frames).toEqual([[FrameKind.ACK, 0]]);
    s.resume();
    for (const v of [1, 2, 3]) s.receive(FrameKind.NEXT, next(v), 0, 1);
    s.deliver();
    expect(transport.frames.at(-1)).toEqual([FrameKind.ACK, 3]);
  });

  it('a NEXT before HELLO, a second HELLO, and a writer past its window are FrameErrors', () => {
    const a = session();
    expect(() => a.s.receive(FrameKind.NEXT, next(1), 0, 1)).toThrow(/before the writer said hello/);
    a.s.hello(hello(4));
    expect(() => a.s.hello(hello(4))).toThrow(/a second HELLO/);
    // Paused: nothing is consumed, so nothing is acknowledged. window 4 + maxFrame 100.
    for (let i = 0; i < 104; i++) a.s.receive(FrameKind.NEXT, next(1), 0, 1);
    expect(() => a.s.receive(FrameKind.NEXT, next(1), 0, 1)).toThrow(/overran its window of 4 bytes/);
  });

  it('holds data while paused and delivers it, then the ending, to the first subscriber', () => {
    const { s, log } = session();
    s.hello(hello(1 << 20));
    s.receive(FrameKind.NEXT, next(7), 0, 1);
    s.receive(FrameKind.COMPLETE, Buffer.alloc(0), 0, 0);
    s.deliver();
    expect(log).toEqual([]);
    s.resume();
    expect(log).toEqual([['batch', [7]], 'complete']);
  });

  it('a refused HELLO answers REJECT and fails the reader', () => {
    const { s, transport, log } = session();
    s.resume();
    s.hello(helloOf(codec('string'), 100));
    expect(transport.kinds()).toEqual([FrameKind.REJECT]);
    expect((log[0] as [string, Error])[1]).toBeInstanceOf(SchemaMismatchError);
  });

  it('a reader that stopped before the HELLO and then refuses it owes no STOP: the link is released when both ways are over', () => {
    const { s, transport } = session({ quietUntilHello: true });
    s.stop(); // before the HELLO: the STOP waits for it (TCP)
    s.hello(helloOf(codec('string'), 100));
    expect(transport.kinds()).toEqual([FrameKind.REJECT]); // the REJECT says it all, no STOP after it
    s.receive(FrameKind.ACK, ack(0), 0, ack(0).length);
    s.complete();
    expect(transport.closed).toBe(1);
  });

  it('the peer gone: what arrived is delivered, then the error; the link is released once', () => {
    const { s, transport, log } = session();
    s.hello(hello(1 << 20));
    s.receive(FrameKind.NEXT, next(5), 0, 1);
    s.peerGone(new TransportClosedError('gone'));
    expect(transport.closed).toBe(1);
    s.resume();
    expect(log[0]).toEqual(['writeClosed', expect.any(TransportClosedError), false]);
    expect(log.slice(1)).toEqual([['batch', [5]], ['error', expect.any(TransportClosedError)]]);
  });
});

/** A transport whose own room is the credit (as shm's ring): it takes `room` values, then refuses with -1. */
class RoomRecorder extends Recorder {
  readonly credit = 'room';
  room = 3;
  inFlight = 0;
  readings: boolean[] = [];
  override write<V>(kind: FrameKind, body?: Codec<V>, value?: V): number {
    if (kind === FrameKind.NEXT) {
      if (this.room === 0) return -1;
      this.room--;
      this.inFlight += 10;
    }
    return super.write(kind, body, value);
  }
  reading(on: boolean): void {
    this.readings.push(on);
  }
  inFlightBytes(): number {
    return this.inFlight;
  }
  tooLarge(bytes: number): Error {
    return new FrameError(`${bytes} bytes can never fit`);
  }
}

function roomSession() {
  const transport = new RoomRecorder();
  const { log, sink } = sinkLog();
  const s = new Session(transport, int, sink, { window: 40, announces: 'send', maxFrame: 100, nextOverhead: 0 });
  return { s, transport, log };
}

describe("session: a transport whose room is the credit (credit: 'room')", () => {
  const next = (v: number) => int.encode(v);

  it('the reader sends ACK 0 only and polices no window', () => {
    const { s, transport } = roomSession();
    s.hello(hello(4));
    s.resume();
    // Far past window + maxFrame, all consumed: no ACK but the acceptance, no FrameError.
    for (let i = 0; i < 500; i++) s.receive(FrameKind.NEXT, next(1), 0, 1);
    s.deliver();
    expect(transport.frames).toEqual([[FrameKind.ACK, 0]]);
    expect(s.stats()).toMatchObject({ received: 500 });
  });

  it('the writer writes while the transport takes values; -1 blocks it, nothing counted, until wake()', () => {
    const { s, transport, log } = roomSession();
    s.hello(hello(1 << 20));
    s.receive(FrameKind.ACK, ack(0), 0, 1);
    let taken = 0;
    while (s.offer(taken)) taken++;
    expect(taken).toBe(3);
    expect(s.stats()).toMatchObject({ sent: 3, sentBytes: 30, inFlightBytes: 30 });
    expect(log.filter((e) => e === 'writable')).toHaveLength(0);
    transport.room = 1;
    transport.inFlight = 0; // the reader consumed them
    s.wake();
    expect(log.filter((e) => e === 'writable')).toHaveLength(1);
    expect(s.offer(3)).toBe(true);
    expect(s.stats()).toMatchObject({ sent: 4, inFlightBytes: 10 });
  });

  it('values held before acceptance go out in order as room allows, the ending after the last', () => {
    const { s, transport } = roomSession();
    for (let i = 0; i < 5; i++) expect(s.offer(i)).toBe(true);
    s.complete();
    s.hello(hello(1 << 20));
    s.receive(FrameKind.ACK, ack(0), 0, 1);
    const values = () => transport.frames.filter(([k]) => k === FrameKind.NEXT).map(([, v]) => int.decode(v as Buffer));
    expect(values()).toEqual([0, 1, 2]);
    expect(s.stats().held).toBe(2);
    expect(transport.kinds()).not.toContain(FrameKind.COMPLETE);
    transport.room = 10;
    s.wake();
    expect(values()).toEqual([0, 1, 2, 3, 4]);
    expect(transport.kinds().at(-1)).toBe(FrameKind.COMPLETE);
  });

  it('tells the transport when it wants data: on resume, not while paused or once the stream is over', () => {
    const { s, transport } = roomSession();
    s.hello(hello(1 << 20));
    s.resume();
    s.pause();
    s.resume();
    s.receive(FrameKind.COMPLETE, Buffer.alloc(0), 0, 0);
    s.deliver();
    expect(transport.readings).toEqual([true, false, true, false]);
  });

  it("a value over maxValueBytes before acceptance fails with the transport's own error", () => {
    const { s } = roomSession();
    expect(() => s.offer(1)).not.toThrow();
    const big = new Session(new RoomRecorder(), codec('bytes'), sinkLog().sink as unknown as ChannelSink<Buffer>, {
      window: 1 << 20,
      announces: 'send',
      maxFrame: 100,
      nextOverhead: 0,
    });
    expect(() => big.offer(Buffer.alloc(2000))).toThrow(/2002 bytes can never fit/);
  });
});
