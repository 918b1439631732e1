/**
 * The channels of one connection: local ones by name and id, the peer's by
 * its ids, and the peer's HELLOs for names this end has not opened yet.
 *
 * Ids: each side numbers the channels it opens 1, 2, 3, ... and puts its own
 * id in every frame it sends for a channel; the HELLO tells the other side
 * which name that id stands for. So two sides opening at once never collide.
 *
 * A HELLO for a name not opened here waits (bounded: MAX_PENDING_HELLOS of
 * them, MAX_PENDING_BYTES in all); the peer sends nothing else on that
 * channel until this end's HELLO reaches it, so a pending channel costs only
 * its HELLO. Frames for an id that was retired here (both directions over)
 * are ignored; frames for an id never announced are a FrameError.
 */
import type { ChannelSink } from '../../core/channel';
import type { Codec } from '../../core/codec';
import { FrameError } from '../../core/errors';
import { helloOf } from '../../core/frame';
import { TcpChannel, type ChannelHost } from './channel';
import { ChannelHelloRecord, MAX_NAME_BYTES, TcpKind, readVarLong, type ChannelHello } from './wire';

/** The most HELLOs of channels not opened here that one connection holds. */
export const MAX_PENDING_HELLOS = 256;
/** The most bytes of such HELLOs one connection holds. */
export const MAX_PENDING_BYTES = 4 << 20;

/** A peer's id whose HELLO waits for this end to open the name. */
const PENDING = Symbol('pending');

interface PendingHello {
  remoteId: number;
  hello: ChannelHello;
  bytes: number;
}

export class Mux {
  private nextLocalId = 1;
  private readonly byName = new Map<string, TcpChannel<unknown>>();
  private readonly byRemote = new Map<number, TcpChannel<unknown> | typeof PENDING>();
  private readonly pending = new Map<string, PendingHello>();
  private pendingBytes = 0;
  private maxRemoteId = 0;

  constructor(private readonly host: ChannelHost) {}

  /** Is a channel of this name open here (not yet retired)? */
  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** How many channels are open here (not yet retired). */
  get size(): number {
    return this.byName.size;
  }

  /** Every channel open here. */
  channels(): TcpChannel<unknown>[] {
    return [...this.byName.values()];
  }

  /** Opens a channel: registers it and writes its HELLO. Bind it with `bindWaiting` once its WireSubject exists. */
  add<T>(name: string, codec: Codec<T>, sink: ChannelSink<T>, window: number): TcpChannel<T> {
    const channel = new TcpChannel<T>(this.host, this.nextLocalId++, name, codec, sink, window);
    // HELLO first: one that cannot be written (it throws) leaves the name free to open again.
    this.host.out.writeFrame(TcpKind.HELLO, channel.localId, ChannelHelloRecord, { name, ...helloOf(codec, window) });
    this.byName.set(name, channel as TcpChannel<unknown>);
    this.host.wrote();
    return channel;
  }

  /** Binds `channel` to the peer's HELLO for its name, if one waits. */
  bindWaiting(channel: TcpChannel<unknown>): void {
    const waiting = this.pending.get(channel.name);
    if (!waiting || this.byName.get(channel.name) !== channel) return;
    this.pending.delete(channel.name);
    this.pendingBytes -= waiting.bytes;
    this.byRemote.set(waiting.remoteId, channel);
    channel.bind(waiting.remoteId, waiting.hello);
  }

  /** Both directions of `channel` are over: its name may be opened again. */
  retire(channel: TcpChannel<unknown>): void {
    if (this.byName.get(channel.name) === channel) this.byName.delete(channel.name);
    if (channel.remoteId !== undefined && this.byRemote.get(channel.remoteId) === channel) this.byRemote.delete(channel.remoteId);
  }

  /** The peer will never open `name`: the channel of that name, if its HELLO has not come, fails with `err`. */
  neverOpened(name: string, err: Error): void {
    const channel = this.byName.get(name);
    if (!channel || channel.remoteId !== undefined) return;
    this.retire(channel);
    channel.connectionLost(err);
  }

  /** Forgets everything (the connection is gone). */
  clear(): void {
    this.byName.clear();
    this.byRemote.clear();
    this.pending.clear();
    this.pendingBytes = 0;
  }

  /**
   * A frame of a channel from the peer (`remoteId` is its id).
   * @throws FrameError on a protocol violation (the connection ends)
   */
  onFrame(kind: number, remoteId: number, buf: Buffer, start: number, end: number): void {
    if (kind === TcpKind.HELLO) return this.onHello(remoteId, buf, start, end);
    const channel = this.byRemote.get(remoteId);
    if (channel === undefined) {
      if (remoteId <= this.maxRemoteId) return; // a retired channel: frames in flight when it ended
      throw new FrameError(`a frame for channel ${remoteId} before its HELLO`);
    }
    if (channel === PENDING) throw new FrameError(`a frame for channel ${remoteId}, which this end has not opened`);
    channel.onFrame(kind, buf, start, end);
  }

  private onHello(remoteId: number, buf: Buffer, start: number, end: number): void {
    if (remoteId <= this.maxRemoteId) throw new FrameError(`HELLO for channel ${remoteId}: ids must increase (last ${this.maxRemoteId})`);
    this.maxRemoteId = remoteId;
    const hello = decodeHello(buf, start, end);
    const local = this.byName.get(hello.name);
    if (local && local.remoteId === undefined) {
      this.byRemote.set(remoteId, local);
      local.bind(remoteId, hello);
      return;
    }
    if (this.pending.has(hello.name)) throw new FrameError(`a second HELLO for channel "${hello.name}" before this end opened it`);
    const bytes = end - start;
    if (this.pending.size >= MAX_PENDING_HELLOS || this.pendingBytes + bytes > MAX_PENDING_BYTES) {
      throw new FrameError(`more than ${MAX_PENDING_HELLOS} channels (or ${MAX_PENDING_BYTES} bytes of HELLOs) announced but not opened here`);
    }
    this.pending.set(hello.name, { remoteId, hello, bytes });
    this.pendingBytes += bytes;
    this.byRemote.set(remoteId, PENDING);
  }
}

/**
 * Decodes a channel HELLO, checking the name's length before anything is decoded.
 * @throws FrameError when it is malformed, its name too long or its window not a positive integer
 */
function decodeHello(buf: Buffer, start: number, end: number): ChannelHello {
  const nameLength = readVarLong(buf, start, end);
  if (!nameLength || nameLength.value < 1 || nameLength.value > MAX_NAME_BYTES) {
    throw new FrameError(`a HELLO whose channel name is not 1 to ${MAX_NAME_BYTES} bytes`);
  }
  let hello: ChannelHello;
  try {
    hello = ChannelHelloRecord.decode(buf, start, end);
  } catch (err) {
    throw new FrameError(`a HELLO that does not decode: ${(err as Error).message}`, { cause: err });
  }
  if (!Number.isSafeInteger(hello.window) || hello.window < 1) throw new FrameError(`a HELLO with window ${hello.window}`);
  return hello;
}
