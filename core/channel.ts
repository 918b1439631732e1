/**
 * The seam between WireSubject and a transport. A transport gives one end of
 * a two-way, framed, flow-controlled link as a `Channel`; WireSubject adds
 * the RxJS surface (subscribers, `next` buffering, `send`, bursts, stats).
 * Transports live in `transports/`; nothing here knows which one it is.
 */

/** Counters of one end, as `WireSubject.stats()` and `stats$` report them. */
export interface WireStats {
  /** Values accepted for sending (encoded into the transport). */
  sent: number;
  /** Bytes of those values' frames, headers included. */
  sentBytes: number;
  /** Values received and delivered. */
  received: number;
  /** Bytes of those values' frames, headers included. */
  receivedBytes: number;
  /** Values `next` holds locally because the transport's window is full. */
  queued: number;
  /** Bytes sent that the reader has not yet consumed. */
  inFlightBytes: number;
  /** Values dropped because the reader had stopped (its subscribers left). */
  dropped: number;
}

/** Where a channel delivers what arrives. Calls are never re-entrant from `offer`. */
export interface ChannelSink<T> {
  /** Values from one drain of the transport, in order. */
  batch(values: T[]): void;
  /** The peer completed its stream. */
  complete(): void;
  /** The incoming stream failed: the peer's error, a decode error, the peer gone. */
  error(err: Error): void;
  /** The window has room again after `offer` returned false. */
  writable(): void;
  /**
   * The outgoing direction is closed by the other side: it stopped reading
   * (`stopped` true: what is still sent is dropped, not an error), or it
   * refused the schema or is gone (`stopped` false). `reported`: the
   * incoming stream ends with `err` by itself, after what it holds (the peer
   * gone, malformed bytes from it), so this end's subscribers need not be told.
   */
  writeClosed(err: Error, stopped: boolean, reported?: boolean): void;
  /** Frames went out (for `stats$`). */
  flushed(): void;
  /**
   * The reader accepted this end's schema: values taken before now (held by
   * the transport, unsent) go out, and from now on a value taken is sent.
   * Called once, before any value is sent; never after `writeClosed`.
   */
  accepted(): void;
}

/** Makes a channel that reports to `sink`; each transport's `open` has this shape. */
export type Connect<T> = (sink: ChannelSink<T>) => Channel<T>;

/** One end of a link, as a transport gives it to WireSubject. */
export interface Channel<T> {
  /** Starts delivering data to the sink. Until then the transport holds it (within its window). */
  resume(): void;
  /**
   * Stops delivering for a while (the transport holds what arrives, within
   * its window) until `resume()`. WireSubject pauses while values from `next`
   * wait for room, so a stage that echoes what it reads passes the
   * backpressure of its output on to its input.
   */
  pause(): void;
  /** Stops reading for good: tells the peer to stop writing and drops what arrives. */
  stop(): void;
  /**
   * Encodes and queues `value` if the window has room; returns false (and
   * writes nothing) when it is full. Throws EncodeError for a value that does
   * not fit the schema, TransportClosedError when the outgoing side is closed.
   */
  offer(value: T): boolean;
  /** Ends the outgoing stream with complete. */
  complete(): void;
  /** Ends the outgoing stream with an error, which the peer receives as RemoteError. */
  error(err: unknown): void;
  /** Keeps the event loop alive while true (someone waits on this end). */
  hold(waiting: boolean): void;
  /**
   * Counters maintained by the transport (WireSubject adds `queued`), and
   * `held`: values taken before the reader accepted the schema, not sent yet
   * (WireSubject counts them in `queued`).
   */
  stats(): ChannelStats;
}

/** What a channel counts: WireStats but for WireSubject's own counters, plus values held before acceptance. */
export type ChannelStats = Omit<WireStats, 'queued' | 'dropped'> & {
  /** Values the session holds before the reader accepted (counted in `queued`). */
  held?: number;
  /** Held values dropped unsent because the reader stopped, refused or went (counted in `dropped`). */
  droppedHeld?: number;
};

/** What a WireSubject's inbox (core/inbox.ts) needs from its end. */
export interface InboxLink {
  /** Start (or go on) reading. */
  resume(): void;
  /** Stop reading for good: the last subscriber left. */
  stop(): void;
  /** Hold the transport while values wait here for a turn (true), or let it go on (false). */
  hold(on: boolean): void;
  /** This end's counters, for `stats$`. */
  stats(): WireStats;
}
