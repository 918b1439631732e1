import { lastValueFrom, toArray } from 'rxjs';
import { raw } from '../../../core/codec';
import { closeAll, connect, listen, nextConnection } from '../../fixtures/tcp';

/*
 * A raw value alone in its frame and buffer (every value that straddles two
 * socket reads) arrives as a view of the received bytes
 * (transports/tcp/items.ts), not a copy: each must still be a buffer of the
 * application's own, which nothing rxwire reads later overwrites, which
 * shares no byte with another value, and whose ArrayBuffer may be
 * transferred without touching any other value.
 */

afterEach(closeAll);

/** `size` bytes that say which value they belong to (`seq`) at every position. */
function payload(seq: number, size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) bytes[i] = (seq * 31 + i * 7) & 0xff;
  return bytes;
}

/** The channel `name` with the raw codec between a client (`here`, which sends) and its server's connection; `got`: all it delivers there. */
async function rawChannel(name: string, options: { window?: number } = {}) {
  const server = await listen();
  const accepted = nextConnection(server);
  const client = await connect({ port: server.port });
  const peer = await accepted;
  const there = peer.open(name, raw);
  const got = lastValueFrom(there.pipe(toArray()));
  return { here: client.open(name, raw, options), got };
}

const SIZES = [1, 100, 8 * 1024, 16 * 1024 - 1, 16 * 1024, 64 * 1024 - 20, 64 * 1024, 64 * 1024 + 3, 300 * 1024];

describe('tcp raw values delivered as views of their own buffer', () => {
  it('every value, small or large, keeps its own bytes after everything after it arrived', async () => {
    const { here, got } = await rawChannel('bytes');
    const sent: Buffer[] = [];
    for (let round = 0; round < 6; round++) {
      for (const size of SIZES) {
        const value = payload(sent.length, size);
        sent.push(value);
        await here.send(value);
      }
    }
    here.complete();
    const kept = await got;
    expect(kept.length).toBe(sent.length);
    kept.forEach((value, k) => expect(Buffer.compare(value, sent[k])).toBe(0));
    // Values of 64 KiB and more straddle socket reads (64 KiB each) wherever a read begins: they are
    // views, not copies (the point of the change), lying past their frame's header in an ArrayBuffer
    // that holds nothing else. (A 64 KiB − 20 value's frame fits one read when a read begins with it,
    // and is then copied: which happens depends on how the reads fall, so it is not checked here.)
    const views = kept.filter((v) => v.length >= 64 * 1024);
    expect(views.length).toBe(6 * 3);
    for (const v of views) {
      expect(v.byteOffset).toBeGreaterThan(0);
      expect(v.buffer.byteLength - v.length).toBeLessThanOrEqual(9 + 5);
    }
    // Transferring (detaching) a view's ArrayBuffer leaves every other value whole.
    const detached = new Set<ArrayBufferLike>();
    for (const v of views.filter((_, k) => k % 2 === 0)) {
      detached.add(v.buffer);
      structuredClone(v.buffer, { transfer: [v.buffer as ArrayBuffer] });
    }
    kept.forEach((value, k) => {
      if (!detached.has(value.buffer)) expect(Buffer.compare(value, sent[k])).toBe(0);
    });
    // Writing over one value changes no other: no two share a byte.
    const alive = kept.filter((v) => v.length > 0);
    for (const value of alive) value.fill(0xee);
    for (const value of alive) expect(value.every((b) => b === 0xee)).toBe(true);
  });

  it('a burst of 64 KiB values as fast as the window allows arrives whole: no buffer is reused while the socket still holds it', async () => {
    // The sender reuses its written buffers as soon as the socket says it
    // has written them (transports/tcp/writer.ts, reclaim): every value here
    // says at every byte which one it is, so a buffer reused too early
    // would show as a value with another's bytes.
    const { here, got } = await rawChannel('burst', { window: 1 << 20 });
    const COUNT = 400;
    const pool = Array.from({ length: 7 }, (_, k) => payload(k, 64 * 1024));
    for (let i = 0; i < COUNT; i++) {
      const value = pool[i % pool.length];
      if (!here.trySend(value)) await here.send(value);
    }
    here.complete();
    const kept = await got;
    expect(kept.length).toBe(COUNT);
    kept.forEach((value, i) => expect(Buffer.compare(value, pool[i % pool.length])).toBe(0));
  });
});
