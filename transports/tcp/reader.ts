/**
 * The read side of a TCP connection: each 'data' chunk of the attached
 * socket is cut into frames in place (parser.ts); channel frames go to the
 * mux and count as session bytes; a channel delivers the values of a full
 * NEXT frame at once (channel.ts, DELIVER_NOW_BYTES), and the rest it
 * decoded as one batch when the chunk is done. Connection frames (channel 0)
 * are handled here when they concern the byte stream — CACK (the peer's
 * count of our session bytes), PING (answered with PONG), PONG — and handed
 * to the connection when they end it (CLOSE, DENY).
 */
import { FrameError, TransportClosedError } from '../../core/errors';
import type { TcpChannel } from './channel';
import { denied } from './handshake-bytes';
import type { Heartbeat } from './heartbeat';
import type { Mux } from './mux';
import { connectionFrame } from './output';
import type { Settings } from './options';
import { FrameParser } from './parser';
import { LongRecord, REASON_BYTES, TCP_HEADER, TcpKind } from './wire';
import { CACK_BYTES, type ConnectionWriter } from './writer';

/** PING and PONG: empty connection frames, made once. */
export const PING = connectionFrame(TcpKind.PING);
const PONG = connectionFrame(TcpKind.PONG);

/** What the reader needs of its connection. */
export interface ReaderSetup {
  mux: Mux;
  writer: ConnectionWriter;
  settings: Settings;
  /** Acknowledge received session bytes with CACK (a resumable session). */
  resumable: boolean;
  heartbeat: Heartbeat | undefined;
  /**
   * The peer ended the connection: CLOSE (`TransportClosedError` with its
   * reason) or DENY (the client refused this server's WELCOME, its proof did
   * not match: `AuthError`).
   */
  ended(err: Error): void;
  /** A malformed frame or a bad acknowledgement: the connection fails with `err`. */
  fail(err: FrameError): void;
}

export class ConnectionReader {
  /** Session bytes received from the peer in all (where a resume starts). */
  received = 0;
  private lastCack = 0;
  private parser: FrameParser | undefined;
  private toDeliver: TcpChannel<unknown>[] = [];

  constructor(private readonly setup: ReaderSetup) {}

  /** Reads a fresh socket from its first frame on. */
  attach(): void {
    this.parser = new FrameParser((kind, channel, buf, start, end) => this.onFrame(kind, channel, buf, start, end), this.setup.settings.maxFrame);
    this.lastCack = this.received;
  }

  /** Reads nothing more of the current socket. */
  stop(): void {
    this.parser?.stop();
  }

  /** `channel` decoded values: it delivers them once the current chunk is done. */
  deliverLater(channel: TcpChannel<unknown>): void {
    this.toDeliver.push(channel);
  }

  /** A chunk of the attached socket. */
  read(chunk: Buffer): void {
    const { setup } = this;
    setup.heartbeat?.alive();
    try {
      this.parser!.push(chunk);
    } catch (err) {
      this.deliverQueued();
      return setup.fail(err instanceof FrameError ? err : new FrameError(`bad frame: ${(err as Error).message}`, { cause: err }));
    }
    this.deliverQueued();
    if (setup.resumable && this.received - this.lastCack >= CACK_BYTES) {
      this.lastCack = this.received;
      setup.writer.control(connectionFrame(TcpKind.CACK, LongRecord.encode(this.received)));
    }
  }

  private onFrame(kind: number, channel: number, buf: Buffer, start: number, end: number): void {
    const { setup } = this;
    if (channel !== 0) {
      this.received += end - start + TCP_HEADER;
      setup.mux.onFrame(kind, channel, buf, start, end);
      return;
    }
    switch (kind) {
      case TcpKind.CACK:
        setup.writer.ack(LongRecord.decode(buf, start, end));
        return;
      case TcpKind.PING:
        // Answered whatever this end's own heartbeat says; not while the peer
        // leaves unread what this end sent (a PONG would only pile up).
        if (setup.writer.bufferedBytes < setup.settings.highWaterMark) setup.writer.control(PONG);
        return;
      case TcpKind.PONG:
        return; // life, noted for every chunk in `read`
      case TcpKind.CLOSE: {
        this.parser!.stop();
        const reason = buf.toString('utf8', start, Math.min(end, start + REASON_BYTES));
        setup.ended(new TransportClosedError(`the peer closed the connection${reason ? `: ${reason}` : ''}`));
        return;
      }
      case TcpKind.DENY:
        this.parser!.stop();
        setup.ended(denied(buf.subarray(start, end)));
        return;
      default:
        throw new FrameError(`handshake frame kind 0x${kind.toString(16)} after the handshake`);
    }
  }

  private deliverQueued(): void {
    while (this.toDeliver.length > 0) {
      const batch = this.toDeliver;
      this.toDeliver = [];
      for (const channel of batch) channel.deliverPending();
    }
  }
}
