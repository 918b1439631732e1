/**
 * The reading half of the shm transport (./channel.ts): the records of the
 * rx ring, passed to the session as the frames they are. The first record
 * must be the writer's HELLO; it is read at once, subscriber or not (the
 * session answers it). The rest is read only while the session wants data
 * (`reading(true)`): while it is paused the ring itself holds what arrives,
 * and the writer, short of room, waits. docs/PROTOCOL.md, "Shared memory".
 */
import { FrameError } from '../../core/errors';
import { HelloRecord } from '../../core/frame';
import type { Session } from '../../core/session';
import { RecordKind, type RingMemory } from './layout';
import type { Lending } from './lending';
import { RingReader, type RecordVisitor } from './ring';
import { Pump, type PumpOptions, type Step } from './wait';

/**
 * Records the pump decodes and delivers at a time: few enough that a run's
 * values die young (a whole ring of Trades decoded before the first is
 * delivered outlived a scavenge, and the collector then copied it: GC was
 * 17-27 % of the reader), many enough that a run's fixed costs (a release, a
 * delivery) stay small per record. See bench/README.md, "shm reader runs".
 */
export const RUN_RECORDS = 256;
/**
 * And at most this share of the ring (capacity >> RUN_SHIFT bytes): with
 * large records a run of 256 was the whole ring (64 records of 64 KiB in
 * 4 MiB), so the writer, waiting for room, got none until the reader had
 * copied or delivered all of it, and the two ends took turns instead of
 * running together.
 */
export const RUN_SHIFT = 3;

export class ShmReading {
  /** The session this end runs (set before the pump starts). */
  session!: Session<unknown>;
  /** The session wants data frames. */
  wanted = false;
  /** The rx ring broke the protocol: nothing more is read from it. */
  broken = false;
  private helloSeen = false;
  private stopped = false;
  /** Lent values of a drain are still in subscribers' hands: the drain's bytes go back when reading resumes. */
  private owed = false;
  private readonly reader: RingReader;
  private readonly pump: Pump;
  /** The most bytes of the ring one run reads. */
  private readonly runBytes: number;

  constructor(
    memory: RingMemory,
    /** Called at each step of the pump, before it reads: a reply written since goes out now (true if anything went). */
    private readonly publish: () => boolean,
    pumpOptions: PumpOptions,
    /** Borrowed delivery: the bytes of a drain go back only after its values are delivered. */
    private readonly lending?: Lending,
  ) {
    this.reader = new RingReader(memory, 0);
    this.runBytes = memory.capacity >> RUN_SHIFT;
    this.pump = new Pump(
      memory.header,
      pumpOptions,
      () => this.drain(),
      () => this.reader.available() > 0,
      () => this.reader.dataCell(),
      publish,
    );
  }

  /** This reader's state word (ReaderState), where its answers go. */
  get state(): number {
    return this.reader.state();
  }

  setState(state: number): void {
    this.reader.setState(state);
  }

  /** Starts the pump: for the HELLO, and for the data while the session wants it. */
  start(): void {
    if (!this.pump.running && !this.stopped && !this.broken) this.pump.start();
  }

  /** The session wants data frames now, or not. */
  reading(on: boolean): void {
    this.wanted = on;
    // Held values of a lending drain have all been delivered before the inbox lets reading resume.
    if (on) this.giveBack();
    // Until the writer's HELLO is read, the pump runs either way (it reads only that record while paused).
    if (on || !this.helloSeen) this.start();
    else this.pump.stop();
  }

  /** Nothing more is read (the link is released). */
  stop(): void {
    this.stopped = true;
    this.pump.stop();
    this.giveBack();
  }

  /** Reads the peer's HELLO now if it is published and unread (see WritingHost.helloFirst). */
  helloFirst(): void {
    if (!this.helloSeen && !this.broken && !this.stopped) this.readHello();
  }

  /**
   * The writer is gone: ALL it published is passed to the session now, in
   * one read, whether or not the session wants data (decoded if it reads,
   * else held by it with the ring's bytes, which no one overwrites any more).
   * Not in runs: the session ends the link right after this (`peerGone`),
   * so a record left in the ring here, because delivering a run paused
   * reading, would be lost, and the stream would fail instead of ending
   * (the cause of the failure that took the runs out in 01b628e).
   */
  readRest(): void {
    this.pump.stop();
    if (this.broken || this.stopped) return;
    if (!this.helloSeen && !this.readHello()) return;
    if (!this.readRecords(Number.POSITIVE_INFINITY)) return;
    this.passOn(this.wanted);
  }

  /** One step of the pump: the HELLO, then (while the session wants them) every published record. */
  private drain(): Step {
    if (this.stopped || this.broken) return 'done';
    this.publish();
    if (!this.helloSeen && !this.readHello()) return this.broken ? 'done' : 'idle';
    if (!this.wanted) return 'done';
    const available = this.reader.available();
    if (available === 0) return 'idle';
    if (available < 0 || available > this.reader.memory.capacity) {
      // A writer's PUBLISHED behind what was read, or more than a ring ahead of it: nothing can be read (the step
      // would report progress for ever at full CPU), or a lap already read would be read again.
      this.broken = true;
      this.session.protocolError(new FrameError(`the writer's published position is ${available} bytes from this reader's (not 0 to ${this.reader.memory.capacity})`));
      return 'done';
    }
    this.readRuns();
    this.publish();
    return this.wanted && !this.broken ? 'progress' : 'done';
  }

  /** Reads the ring's first record, which must be the writer's HELLO; false while there is none. */
  private readHello(): boolean {
    if (this.reader.available() === 0) return false;
    try {
      this.reader.read(this.visitHello, 1);
    } catch (err) {
      this.broken = true;
      this.session.protocolError(err as Error);
      return false;
    }
    this.reader.release();
    return true;
  }

  /**
   * What is published now, to the session and on to the subscribers, in runs
   * of at most RUN_RECORDS records (and an eighth of the ring), each delivered before the next is read,
   * while the session wants data. Only what is published when the step
   * begins: a writer that keeps up does not hold the pump here for ever (the
   * step then reports progress, and the pump comes back for the rest). A
   * delivery that pauses reading (the inbox keeps values for a later turn,
   * this end's way out is full) or stops it ends the step: the rest stays in
   * the ring, unread, until `reading(true)` starts the pump again.
   */
  private readRuns(): void {
    let left = this.reader.available();
    while (left > 0 && this.wanted && !this.broken && !this.stopped) {
      const from = this.reader.position;
      if (!this.readRecords(RUN_RECORDS, this.runBytes)) return;
      left -= (this.reader.position - from) | 0;
      this.passOn(true);
    }
  }

  /**
   * Up to `max` records to the session; false when one broke the protocol
   * (what came before it is delivered, and the session told).
   */
  private readRecords(max: number, maxBytes?: number): boolean {
    try {
      this.reader.read(this.visit, max, maxBytes);
      return true;
    } catch (err) {
      // What came before the bad record stands.
      this.broken = true;
      this.session.deliver();
      this.session.protocolError(err as Error);
      return false;
    }
  }

  /**
   * What the records just read decoded to, to the subscribers. With
   * `release`, their bytes go back to the writer: before the delivery when
   * the values are copies (the session decoded them while it read, as it was
   * reading; a paused session holds no record of a run); after it when they
   * are lent, or at resume if delivery paused reading (the inbox holds some
   * of the lent values for a later turn, or this end's way out is full).
   */
  private passOn(release: boolean): void {
    if (!this.lending) {
      if (release) this.reader.release();
      this.session.deliver();
      return;
    }
    this.session.deliver();
    if (!release) return;
    this.owed = true;
    if (this.wanted) this.giveBack();
  }

  /** A lending drain's bytes go back to the writer (its values are delivered), lent copies are detached. */
  private giveBack(): void {
    if (!this.owed) return;
    this.owed = false;
    this.lending!.returned();
    this.reader.release();
  }

  private readonly visitHello: RecordVisitor = (kind, data, start, end) => {
    if (kind !== RecordKind.HELLO) throw new FrameError(`the first record of a ring must be HELLO, not kind ${kind}`);
    this.helloSeen = true;
    this.session.hello(HelloRecord.decode(data, start, end));
  };

  /** Record kinds 1 to 3 are the frame kinds NEXT, COMPLETE, ERROR; another HELLO is the session's to refuse. */
  private readonly visit: RecordVisitor = (kind, data, start, end) => {
    if (kind !== RecordKind.HELLO) this.session.receive(kind, data, start, end);
    else this.session.hello(HelloRecord.decode(data, start, end));
  };
}
