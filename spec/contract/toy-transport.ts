import type { Guard } from '../../core/bounded';
import type { Codec } from '../../core/codec';
import { TransportClosedError } from '../../core/errors';
import { FrameKind, HelloRecord, helloOf } from '../../core/frame';
import { Session } from '../../core/session';
import type { SessionTransport } from '../../core/session-transport';
import { WireSubject, type WireOptions } from '../../core/wire-subject';

/** One end of a toy link: frames go to the peer's session in one batch per turn of the event loop. */
class ToyEnd<T> implements SessionTransport {
  session!: Session<T>;
  peer!: ToyEnd<unknown>;
  readonly maxValueBytes = 1 << 20;
  private outbox: [FrameKind, Buffer][] = [];

  write<V>(kind: FrameKind, body?: Codec<V>, value?: V): number {
    const bytes = body ? body.encode(value as V) : Buffer.alloc(0);
    if (this.outbox.push([kind, bytes]) === 1) setImmediate(() => this.post());
    return bytes.length;
  }
  decodeNext<V>(reader: Codec<V>, guard: Guard | undefined, buf: Buffer, start: number, end: number, into: V[]): number {
    guard?.(buf, start, end); // the counts a hostile writer claims, checked before avsc trusts them
    into.push(reader.decode(buf, start, end));
    return end - start;
  }
  flush(): void {} // the end of the turn is soon enough
  keepAlive(): void {} // the pending setImmediate keeps the loop alive while frames wait
  close(): void {}

  private post(): void {
    const { session } = this.peer;
    try {
      for (const [kind, body] of this.outbox.splice(0)) {
        if (kind === FrameKind.HELLO) session.hello(HelloRecord.decode(body));
        else session.receive(kind, body, 0, body.length);
      }
    } catch (err) {
      session.protocolError(err as Error);
    }
    session.deliver();
  }
}

/** Two WireSubjects joined in memory: `a` writes with `codecA` and reads `codecB`'s values, and the reverse. */
export function toyPair<A, B>(codecA: Codec<A>, codecB: Codec<B>, options: WireOptions & { window?: number } = {}): [WireSubject<A>, WireSubject<B>] {
  return toyLink(codecA, codecB, options).ends;
}

/** The same, with `vanish[i]`: the peer of `ends[i]` is gone, as when its thread dies (the session is told). */
export function toyLink<A, B>(codecA: Codec<A>, codecB: Codec<B>, options: WireOptions & { window?: number } = {}) {
  const { window = 4 << 20, ...wire } = options; // 4 MiB, as port's default
  const ends = [new ToyEnd<A>(), new ToyEnd<B>()] as const;
  const open = <T>(end: ToyEnd<T>, codec: Codec<T>) =>
    new WireSubject<T>((sink) => {
      end.session = new Session(end, codec, sink, { window, announces: 'send', maxFrame: 1 << 20, nextOverhead: 0 });
      end.write(FrameKind.HELLO, HelloRecord, helloOf(codec, window));
      return end.session;
    }, codec, wire);
  ends[0].peer = ends[1] as ToyEnd<unknown>;
  ends[1].peer = ends[0] as ToyEnd<unknown>;
  const gone = (end: ToyEnd<unknown>) => () => end.session.peerGone(new TransportClosedError('the other end is gone'));
  return {
    ends: [open(ends[0], codecA), open(ends[1], codecB)] as [WireSubject<A>, WireSubject<B>],
    vanish: [gone(ends[0] as ToyEnd<unknown>), gone(ends[1] as ToyEnd<unknown>)] as [() => void, () => void],
  };
}
