/**
 * The session layer under a resumable connection. Every channel frame
 * (channel id ≠ 0) is a session byte; each side counts the session bytes it
 * has sent and received. A side keeps what it sent until the peer
 * acknowledges receipt (CACK, cumulative), so after a dropped socket the peer
 * says how much it had (AUTH / WELCOME `received`) and this side writes the
 * rest again: nothing lost, nothing twice, whatever channel it belonged to.
 *
 * The replay buffer holds the chunks handed to the socket (whole frames), so
 * keeping them costs no copy. It is bounded: a connection offers no room to
 * its channels while `unacked >= limit` (control frames are still written).
 */
import { FrameError } from '../../core/errors';
import { Fifo } from '../../core/fifo';

interface Chunk {
  bytes: Buffer;
  /** Session offset just past this chunk. */
  end: number;
}

export class ReplayBuffer {
  private readonly chunks = new Fifo<Chunk>();
  /** Session bytes taken (written, or waiting for a socket). */
  sent = 0;
  /** Session bytes the peer said it received. */
  acked = 0;

  /** @param retain keep chunks for replay (a resumable session); else only count. */
  constructor(private readonly retain: boolean) {}

  /** Bytes sent and not yet acknowledged (held for replay when `retain`). */
  get unacked(): number {
    return this.sent - this.acked;
  }

  /** Records a chunk of whole session frames as sent. */
  record(bytes: Buffer): void {
    this.sent += bytes.length;
    if (this.retain) this.chunks.push({ bytes, end: this.sent });
  }

  /**
   * The peer has received `received` session bytes in all: drops what it has.
   * @throws FrameError when `received` goes back or beyond what was sent
   */
  ack(received: number): void {
    if (!(received >= this.acked && received <= this.sent)) {
      throw new FrameError(`session acknowledgement of ${received} bytes is outside [${this.acked}, ${this.sent}]`);
    }
    this.acked = received;
    for (let head = this.chunks.peek(); head && head.end <= received; head = this.chunks.peek()) this.chunks.shift();
  }

  /**
   * What to write again after a reconnect, from session offset `received`
   * (the peer's count) on. Acknowledges `received` first.
   * @throws FrameError as `ack`
   */
  replayFrom(received: number): Buffer[] {
    this.ack(received);
    const out: Buffer[] = [];
    const all = this.chunks.drain();
    for (const chunk of all) {
      this.chunks.push(chunk);
      const start = chunk.end - chunk.bytes.length;
      out.push(start >= received ? chunk.bytes : chunk.bytes.subarray(received - start));
    }
    return out;
  }
}
