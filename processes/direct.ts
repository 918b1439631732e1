/**
 * The direct path between two threads of a node: every envelope from one
 * thread to another is written straight into a shared ring of their own
 * (one per ordered pair, made by `startNode`) and read straight out of it
 * by the receiving thread's pump — no WireSubject, session or inbox in
 * between (bench/README.md, `process`: those layers were ~3 µs of a hop
 * whose floor is ~0.25 µs). Every kind goes through the same ring, so what
 * one thread sends another arrives in the order sent, as before.
 *
 * What the rings reuse: transports/shm's RingWriter and RingReader (the
 * record format and its memory ordering), its Pump (how a thread polls and
 * sleeps: NodeOptions.wait), and core's Batcher (a write is published at
 * the next microtask, a burst at the end of the turn, and what a thread
 * wrote is published if it crashes or exits). What the WireSubject links
 * still do: tell a thread that another one died (processes/thread.ts), at
 * which point what the dead thread published is read here to the end.
 */
import { Batcher } from '../core/batcher';
import { FrameError } from '../core/errors';
import { rethrowLater } from '../core/microtask';
import { mapRing, RecordKind, RingReader, RingWriter } from '../transports/shm';
import type { RingMemory } from '../transports/shm/layout';
import { ringIndex } from './direct-rings';
import { Pump, type PumpOptions } from '../transports/shm/wait';
import { EnvelopeCodec, envelopeLost, type Envelope } from './envelope';
import { MessageRecord, readMessage, type MessageAt } from './message-record';
import type { Mesh } from './ops';
import type { Codec } from '../core/codec';
import type { Cursor } from '../core/varint';

/** Envelopes one link holds while its ring is full, before a send fails with MailboxFullError. */
export const LINK_QUEUE = 65_536;

/** Where a thread's reads go: an envelope, or a MSG read in place (its body is `data[start, end)`, valid during the call). */
export interface Sink {
  receive(from: number, envelope: Envelope): void;
  message(from: number, to: number, tag: number, data: Buffer, start: number, end: number): void;
  /** Before a read: what it readies is run by `afterRead` (the scheduler's willDrain). */
  beforeRead(): void;
  /** After a read: run what it delivered now (the scheduler's drainNow). */
  afterRead(): void;
}

/** What a thread writes to one other thread. */
class Outgoing {
  readonly writer: RingWriter;
  /** Envelopes waiting for room, in order: nothing overtakes them. */
  readonly queue: Envelope[] = [];
  readonly batcher: Batcher;
  /** Nothing was written since something last arrived here: the next write is published at once (see `wrote`). */
  lone = true;
  private readonly room: Pump;

  constructor(memory: RingMemory, options: PumpOptions) {
    this.writer = new RingWriter(memory);
    // Early: a lone envelope (a token, a reply) is published when the code that wrote it returns; a burst at
    // the turn's end, or once a quarter of the ring waits.
    this.batcher = new Batcher(() => this.writer.publish(), memory.capacity >> 2, true);
    this.room = new Pump(memory.header, options, () => this.drain(), () => this.writer.hasRoom(), () => this.writer.spaceCell(), undefined, () => this.writer.wakeOwed());
  }

  /** Writes a MSG in place (./message-record.ts) if nothing waits and the ring has room now; false when not (nothing written). */
  writeMessage(record: MessageRecord): boolean {
    if (this.queue.length > 0) return false;
    try {
      if (!this.writer.tryWrite(RecordKind.NEXT, record as unknown as Codec<unknown>, undefined)) return false;
    } catch (err) {
      // Too large for the ring: the general path says so at the door, with the message's size.
      if (err instanceof FrameError) return false;
      throw err;
    }
    this.wrote();
    return true;
  }

  /**
   * The first write after something arrived (a token passed on, a reply) is published at once: the other
   * thread may be spinning for it, and a microtask later is the rest of this drain later. The writes after it,
   * until the next arrival, go as the batcher says (a burst in a few publishes, not one each).
   */
  private wrote(): void {
    if (this.lone) {
      this.lone = false;
      this.writer.publish();
    } else this.batcher.wrote(this.writer.used());
  }

  /** Writes `envelope` now if nothing waits and the ring has room; else queues it until there is. */
  write(envelope: Envelope): void {
    if (this.queue.length === 0 && this.writer.tryWrite(RecordKind.NEXT, EnvelopeCodec, envelope)) return this.wrote();
    this.queue.push(envelope);
    // What waits unpublished must go out, or the reader never makes the room this waits for.
    this.batcher.flush();
    if (this.queue.length === 1) this.room.start();
  }

  stop(): void {
    this.room.stop();
    this.batcher.cancel();
    this.queue.length = 0;
  }

  private drain(): 'progress' | 'idle' | 'done' {
    let wrote = false;
    while (this.queue.length > 0) {
      let written: boolean;
      try {
        written = this.writer.tryWrite(RecordKind.NEXT, EnvelopeCodec, this.queue[0]);
      } catch (err) {
        // Checked at the door (Mesh.fit) and by the checks of every value: not expected, and not the link's end.
        envelopeLost('a thread of this node', err);
        written = true;
      }
      if (!written) break;
      this.queue.shift();
      wrote = true;
    }
    if (wrote) this.batcher.flush();
    if (this.queue.length === 0) return 'done';
    return wrote ? 'progress' : 'idle';
  }
}

/** What a thread reads from one other thread. */
class Incoming {
  private readonly reader: RingReader;
  private readonly pump: Pump;
  private readonly visit: (kind: RecordKind, data: Buffer, start: number, end: number) => void;
  private readonly afterRead: () => void;
  private readonly beforeRead: () => void;

  constructor(memory: RingMemory, options: PumpOptions, from: number, sink: Sink, arrived: () => void) {
    this.reader = new RingReader(memory, 0);
    const { receive, message } = sink;
    this.afterRead = sink.afterRead;
    this.beforeRead = sink.beforeRead;
    const msg: MessageAt = { to: 0, tag: 0, start: 0 };
    const at: Cursor = { pos: 0 };
    this.visit = (kind, data, start, end) => {
      if (kind !== RecordKind.NEXT) return;
      if (readMessage(data, start, end, msg, at)) return message(from, msg.to, msg.tag, data, msg.start, end);
      let envelope: Envelope;
      try {
        envelope = EnvelopeCodec.decode(data, start, end);
      } catch (err) {
        return envelopeLost(`this thread (from thread ${from})`, err);
      }
      receive(from, envelope);
    };
    this.pump = new Pump(memory.header, options, () => this.step(arrived), () => this.reader.available() > 0, () => this.reader.dataCell());
  }

  start(): void {
    this.pump.start();
  }

  stop(): void {
    this.pump.stop();
  }

  /** Everything published now, read and applied at once (the writer's thread is gone: nothing more comes). */
  readRest(): void {
    this.pump.stop();
    while (this.reader.available() > 0) this.readOnce();
  }

  /** A read, and what it delivered run at once (`afterRead`), not a microtask later; `arrived` first (Outgoing.lone). */
  private step(arrived: () => void): 'progress' | 'idle' {
    if (this.reader.available() === 0) return 'idle';
    arrived();
    this.beforeRead();
    try {
      this.readOnce();
    } finally {
      this.afterRead();
    }
    return 'progress';
  }

  private readOnce(): void {
    try {
      this.reader.read(this.visit);
    } finally {
      this.reader.release();
    }
  }
}

/** A thread's direct links to every other thread of its node. */
export class DirectMesh implements Mesh {
  /** Per thread: it is gone (what is posted to it is dropped). */
  readonly dead: boolean[];
  private readonly out: (Outgoing | null)[];
  private readonly record = new MessageRecord();
  private readonly in: (Incoming | null)[];

  constructor(
    rings: readonly (SharedArrayBuffer | null)[],
    index: number,
    count: number,
    /** The largest encoded envelope a ring carries (shm `largestValue` of the node's ringBytes). */
    readonly largest: number,
    options: PumpOptions,
    sink: Sink,
  ) {
    const threads = Array.from({ length: count }, (_, t) => t);
    this.dead = threads.map(() => false);
    this.out = threads.map((t) => (t === index ? null : new Outgoing(mapRing(rings[ringIndex(index, t, count)]!), options)));
    // A new turn for the batchers whenever something arrived: the sends it causes may go early again.
    const arrived = () => {
      for (const link of this.out) {
        if (link === null) continue;
        link.batcher.newTurn();
        link.lone = true;
      }
    };
    // An error out of the dispatcher must not stop the read half-way (the records would be read again).
    const guarded: Sink = {
      receive: (from, envelope) => {
        try {
          sink.receive(from, envelope);
        } catch (err) {
          rethrowLater(err);
        }
      },
      message: (from, to, tag, data, start, end) => {
        try {
          sink.message(from, to, tag, data, start, end);
        } catch (err) {
          rethrowLater(err);
        }
      },
      afterRead: sink.afterRead, // throws nothing: the drain reports its own errors
      beforeRead: sink.beforeRead,
    };
    this.in = threads.map((t) => (t === index ? null : new Incoming(mapRing(rings[ringIndex(t, index, count)]!), options, t, guarded, arrived)));
  }

  /** Starts reading (once whoever receives is ready). */
  start(): void {
    for (const link of this.in) link?.start();
  }

  tryPost(thread: number, envelope: Envelope): boolean {
    return this.out[thread]!.queue.length >= LINK_QUEUE ? this.dead[thread] : this.post(thread, envelope);
  }

  /**
   * Checked at the door, not left to the ring: one that waits for room and then proves too large could only
   * fail far from its caller. The envelope's fields around the body and text take at most 60 bytes.
   */
  fit(envelope: Envelope): void {
    if (envelope.body.length + 3 * envelope.text.length + 60 > this.largest) {
      throw new FrameError(`a message of ${envelope.body.length} bytes does not fit the node's rings (they carry ${Math.max(0, this.largest - 60 - 3 * envelope.text.length)} bytes of a message with this text; NodeOptions.ringBytes)`);
    }
  }

  /** Writes a message to `to` on `thread` into the ring if it can now, false if not; to a dead thread dropped (checked). */
  sendNow(thread: number, to: number, tag: number, codec: Codec<unknown>, message: unknown): boolean {
    if (this.dead[thread]) return codec.check(message), true;
    if (!MessageRecord.fits(to, tag)) return false;
    const record = this.record;
    record.to = to;
    record.tag = tag;
    record.codec = codec;
    record.message = message;
    try {
      return this.out[thread]!.writeMessage(record);
    } finally {
      record.codec = record.message = undefined;
    }
  }

  post(thread: number, envelope: Envelope): true {
    if (this.dead[thread]) return true;
    this.fit(envelope);
    this.out[thread]!.write(envelope);
    return true;
  }

  /** Thread `thread` is gone: what it published is applied now, and nothing more goes to it. */
  lose(thread: number): void {
    if (this.dead[thread]) return;
    this.dead[thread] = true;
    this.out[thread]?.stop();
    this.in[thread]?.readRest();
  }

  /** Stops: what was written goes out first; what waits for room is dropped, as the thread's end drops it. */
  close(): void {
    this.dead.fill(true);
    for (const link of this.out) {
      link?.batcher.flush();
      link?.stop();
    }
    for (const link of this.in) link?.stop();
  }
}
