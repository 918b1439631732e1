import { codec } from '../../core/codec';
import { FrameError, SchemaMismatchError } from '../../core/errors';
import { AckRecord, FrameKind, FrameWriter, HelloRecord, RejectRecord, helloOf, parseFrames } from '../../core/frame';
import { open } from '../../transports/open';
import { port } from '../../transports';
import { batchBytes } from '../../transports/port/link';

/*
 * Issue 14.3 on the port transport: a writer sends no value before the reader
 * has accepted its schema (ACK 0), so a refused schema fails the writer and
 * nothing of its is counted as sent or lost on the wire. The peer here is a
 * bare MessagePort that speaks the frames by hand.
 */

const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

/** Records the kinds of every frame the wire under test posts to `peer`. */
function kindsPosted(peer: import('node:worker_threads').MessagePort): number[] {
  const kinds: number[] = [];
  peer.on('message', (data: unknown) => {
    parseFrames(batchBytes(data)!, (kind) => void kinds.push(kind));
  });
  return kinds;
}

function post(peer: import('node:worker_threads').MessagePort, write: (w: FrameWriter) => void): void {
  const w = new FrameWriter();
  write(w);
  peer.postMessage(w.take());
}

describe('a writer waits for its schema to be accepted', () => {
  it('posts only HELLO until ACK 0, then the values taken meanwhile, in order', async () => {
    const [a, b] = port.pair();
    const kinds = kindsPosted(b.port);
    const tx = open(a, codec('int'));
    tx.next(1);
    tx.next(2);
    await turns();
    expect(kinds).toEqual([FrameKind.HELLO]);
    expect(tx.stats().sent).toBe(0);
    post(b.port, (w) => {
      w.write(FrameKind.HELLO, HelloRecord, helloOf(codec('int'), 1 << 20));
      w.write(FrameKind.ACK, AckRecord, 0);
    });
    await turns();
    expect(kinds).toEqual([FrameKind.HELLO, FrameKind.ACK, FrameKind.NEXT, FrameKind.NEXT]);
    expect(tx.stats().sent).toBe(2);
    tx.unsubscribe();
    b.port.close();
  });

  it('a REJECT before ACK 0 fails the writer: nothing went out, nothing is counted as sent', async () => {
    const [a, b] = port.pair();
    const kinds = kindsPosted(b.port);
    const tx = open(a, codec('int'));
    for (let i = 0; i < 3; i++) tx.next(i);
    post(b.port, (w) => {
      w.write(FrameKind.HELLO, HelloRecord, helloOf(codec('int'), 1 << 20));
      w.write(FrameKind.REJECT, RejectRecord, { path: 'P.venue', message: 'no default' });
    });
    await turns();
    const err = await tx.send(3).catch((e) => e);
    expect(err).toBeInstanceOf(SchemaMismatchError);
    expect(err.path).toBe('P.venue');
    expect(tx.stats().sent).toBe(0);
    expect(kinds).not.toContain(FrameKind.NEXT);
    tx.unsubscribe();
    b.port.close();
  });

  it('only the writer → reader direction incompatible: the writer learns it, and counts nothing as sent', async () => {
    const V1 = codec({ type: 'record', name: 'P', fields: [{ name: 'qty', type: 'int' }] } as const);
    const V2 = codec({ type: 'record', name: 'P', fields: [{ name: 'qty', type: 'int' }, { name: 'venue', type: 'string' }] } as const);
    const [a, b] = port.pair();
    const writer = open(a, V1);
    const reader = open(b, V2);
    const refused = new Promise((resolve) => reader.subscribe({ error: resolve }));
    for (let i = 0; i < 3; i++) writer.next({ qty: i });
    expect(await refused).toBeInstanceOf(SchemaMismatchError);
    await turns(); // the REJECT on its way back
    const err = await writer.send({ qty: 3 }).catch((e) => e);
    expect(err).toBeInstanceOf(SchemaMismatchError);
    expect(err.path).toBe('P.venue');
    expect(writer.stats().sent).toBe(0);
    expect(reader.stats().received).toBe(0);
    writer.unsubscribe();
    reader.unsubscribe();
  });
});

describe('a HELLO out of the protocol', () => {
  it.each([-5, 0])('a port HELLO announcing a window of %d bytes is a FrameError at once, not at the first value', async (window) => {
    const [a, b] = port.pair();
    const reader = open(b, codec('int'));
    try {
      const ended = new Promise<unknown>((resolve) => reader.subscribe({ error: resolve, complete: () => resolve('complete') }));
      post(a.port, (w) => w.write(FrameKind.HELLO, HelloRecord, { ...helloOf(codec('int'), 1), window }));
      const err = await ended;
      expect(err).toBeInstanceOf(FrameError);
      expect((err as Error).message).toContain(`a HELLO announcing a window of ${window} bytes`);
    } finally {
      reader.close();
      a.port.close();
    }
  });
});

describe("a peer's schema text is bounded", () => {
  it('a HELLO of 55 000 record types (3.9 MB) is a REJECT before avsc builds it: it held the reading thread for 26 s', async () => {
    const [a, b] = port.pair();
    const reader = open(b, codec('int'));
    const kinds = kindsPosted(a.port);
    try {
      const ended = new Promise<unknown>((resolve) => reader.subscribe({ error: resolve, complete: () => resolve('complete') }));
      const union = Array.from({ length: 55_000 }, (_, i) => ({ type: 'record', name: `R${i}`, fields: [{ name: 'a', type: 'int' }] }));
      const schema = JSON.stringify({ type: 'array', items: union });
      post(a.port, (w) => w.write(FrameKind.HELLO, HelloRecord, { ...helloOf(codec('int'), 1 << 20), schema, fingerprint: 'f'.repeat(64) }));
      const err = await ended;
      expect(err).toBeInstanceOf(SchemaMismatchError);
      expect(err).toMatchObject({ path: '<root>', reason: expect.stringMatching(/more than 1000 named types/) });
      await turns();
      expect(kinds).toContain(FrameKind.REJECT);
    } finally {
      reader.close();
      a.port.close();
    }
  });
});
