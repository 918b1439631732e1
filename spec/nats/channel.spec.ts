import { lastValueFrom, take, toArray } from 'rxjs';
import { codec } from '../../core/codec';
import { ChannelTakenError, RemoteError, SchemaMismatchError } from '../../core/errors';
import { startNatsServer, type NatsServer } from '../../examples/nats-server';
import { connect, type NatsWire } from '../../transports/nats';

/*
 * NATS channels against a real nats-server: pairing, values both ways,
 * endings, errors, schema handshake, a third opener.
 */

let server: NatsServer;
const conns: NatsWire[] = [];
async function conn(): Promise<NatsWire> {
  const c = await connect({ servers: server.url });
  conns.push(c);
  return c;
}

beforeAll(async () => {
  server = await startNatsServer();
});
afterEach(async () => {
  await Promise.all(conns.splice(0).map((c) => c.close()));
});
afterAll(() => server.stop());

const Text = codec('string');

describe('NATS channels', () => {
  it('pairs two ends on two connections and carries values both ways, with endings', async () => {
    const [a, b] = [await conn(), await conn()];
    const wa = a.open('greet', Text);
    const wb = b.open('greet', Text);
    const gotB = lastValueFrom(wb.pipe(toArray()));
    const gotA = lastValueFrom(wa.pipe(toArray()));
    for (let i = 0; i < 100; i++) wa.next(`a${i}`);
    wa.complete();
    await wb.send('b0');
    wb.complete();
    expect(await gotB).toEqual(Array.from({ length: 100 }, (_, i) => `a${i}`));
    expect(await gotA).toEqual(['b0']);
  });

  it('pairs whichever end opens first, two ends on one connection too', async () => {
    const a = await conn();
    const w1 = a.open('solo', Text);
    const got = lastValueFrom(w1.pipe(take(1)));
    await a.nc.flush(); // the first end has said its id before the second opens
    const w2 = a.open('solo', Text);
    await w2.send('hi');
    expect(await got).toBe('hi');
    w1.close();
    w2.close();
  });

  it('carries an error as RemoteError', async () => {
    const [a, b] = [await conn(), await conn()];
    const wa = a.open('err', Text);
    const wb = b.open('err', Text);
    const failed = new Promise<Error>((resolve) => wb.subscribe({ error: resolve }));
    wa.error(new TypeError('boom'));
    const err = await failed;
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).remoteName).toBe('TypeError');
    expect(err.message).toBe('boom');
  });

  it('refuses a schema mismatch at open, at both ends', async () => {
    const [a, b] = [await conn(), await conn()];
    const wa = a.open('mismatch', Text);
    const wb = b.open('mismatch', codec('long'));
    const fa = new Promise<Error>((resolve) => wa.subscribe({ error: resolve }));
    const fb = new Promise<Error>((resolve) => wb.subscribe({ error: resolve }));
    await expect(wa.send('x')).rejects.toBeInstanceOf(SchemaMismatchError);
    expect(await fa).toBeInstanceOf(SchemaMismatchError);
    expect(await fb).toBeInstanceOf(SchemaMismatchError);
  });

  it('three ends opened at once: exactly two pair and carry values, the third gets ChannelTakenError', async () => {
    const cs = [await conn(), await conn(), await conn()];
    const wires = cs.map((c) => c.open('race', codec('int')));
    const outcomes = wires.map(
      (w, i) =>
        new Promise<number | Error>((resolve) => {
          w.subscribe({ next: resolve, error: resolve });
          w.send(i).catch(() => undefined);
        }),
    );
    const results = await Promise.all(outcomes);
    const taken = results.filter((r) => r instanceof ChannelTakenError);
    const values = results.filter((r): r is number => typeof r === 'number');
    expect(taken.length).toBe(1);
    expect(values.length).toBe(2);
    // Each of the pair got the other's index.
    const paired = results.map((r, i) => [r, i] as const).filter(([r]) => typeof r === 'number');
    expect(paired[0][0]).toBe(paired[1][1]);
    expect(paired[1][0]).toBe(paired[0][1]);
  });

  it('refuses a third end of a name with ChannelTakenError', async () => {
    const [a, b, c] = [await conn(), await conn(), await conn()];
    const wa = a.open('three', Text);
    const wb = b.open('three', Text);
    const got = lastValueFrom(wb.pipe(take(1)));
    await wa.send('first');
    expect(await got).toBe('first');
    const wc = c.open('three', Text);
    const err = await new Promise<Error>((resolve) => wc.subscribe({ error: resolve }));
    expect(err).toBeInstanceOf(ChannelTakenError);
  });
});
