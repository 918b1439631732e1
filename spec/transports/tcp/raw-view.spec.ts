import { lastValueFrom, toArray } from 'rxjs';
import { raw } from '../../../core/codec';
import { RAW_VIEW_BYTES } from '../../../transports/tcp/items';
import { closeAll, connect, listen, nextConnection } from '../../fixtures/tcp';

/*
 * Raw values of RAW_VIEW_BYTES or more arrive as views of the received bytes
 * (transports/tcp/items.ts), not copies: each must still be a buffer of the
 * application's own, which nothing rxwire reads later overwrites and which
 * shares no byte with another value.
 */

afterEach(closeAll);

/** `size` bytes that say which value they belong to (`seq`) at every position. */
function payload(seq: number, size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) bytes[i] = (seq * 31 + i * 7) & 0xff;
  return bytes;
}

const SIZES = [1, 100, RAW_VIEW_BYTES - 1, RAW_VIEW_BYTES, RAW_VIEW_BYTES + 1, 64 * 1024, 64 * 1024 + 3, 300 * 1024];

describe('tcp raw values delivered as views', () => {
  it('every value, small or large, keeps its own bytes after everything after it arrived', async () => {
    const server = await listen();
    const accepted = nextConnection(server);
    const client = await connect({ port: server.port });
    const peer = await accepted;
    const there = peer.open('bytes', raw);
    const got = lastValueFrom(there.pipe(toArray()));
    const here = client.open('bytes', raw);
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
    // Writing over one value changes no other: no two share a byte.
    for (const value of kept) value.fill(0xee);
    for (const value of kept) expect(value.every((b) => b === 0xee)).toBe(true);
    // And the large ones were not copied (the point of the change): a view lies in a bigger buffer or one it shares.
    const views = kept.filter((v) => v.length >= RAW_VIEW_BYTES && v.byteOffset > 0);
    expect(views.length).toBeGreaterThan(0);
  });
});
