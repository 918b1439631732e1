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

  constructor(
    memory: RingMemory,
    /** Called at each step of the pump, before it reads: a reply written since goes out now. */
    private readonly publish: () => void,
    pumpOptions: PumpOptions,
    /** Borrowed delivery: the bytes of a drain go back only after its values are delivered. */
    private readonly lending?: Lending,
  ) {
    this.reader = new RingReader(memory, 0);
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
   * The writer is gone: what it published is passed on now, decoded if the
   * session reads, else held by the session with the ring's bytes (not
   * released: no one writes them any more).
   */
  readRest(): void {
    this.pump.stop();
    if (this.broken || this.stopped) return;
    if (this.helloSeen || this.readHello()) this.readAll(this.wanted);
  }

  /** One step of the pump: the HELLO, then (while the session wants them) every published record. */
  private drain(): Step {
    if (this.stopped || this.broken) return 'done';
    this.publish();
    if (!this.helloSeen && !this.readHello()) return this.broken ? 'done' : 'idle';
    if (!this.wanted) return 'done';
    if (this.reader.available() === 0) return 'idle';
    this.readAll(true);
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
   * Everything published, to the session, then what it decoded to the
   * subscribers. With `release`, the bytes go back to the writer before the
   * values are delivered (they own their memory).
   */
  private readAll(release: boolean): void {
    const { session } = this;
    try {
      this.reader.read(this.visit);
    } catch (err) {
      // What came before the bad record stands.
      this.broken = true;
      session.deliver();
      session.protocolError(err as Error);
      return;
    }
    if (!this.lending) {
      if (release) this.reader.release();
      session.deliver();
      return;
    }
    // Lent values point into the ring: delivered first, then the bytes go
    // back, unless delivery paused reading (the inbox holds some of them for
    // a later turn, or this end's way out is full): then at resume.
    session.deliver();
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
