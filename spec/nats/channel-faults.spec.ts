import { createServer } from 'node:net';
import { lastValueFrom, take, toArray } from 'rxjs';
import type { NatsConnection } from '@nats-io/transport-node';
import { codec } from '../../core/codec';
import { AuthError, FrameError, GapError, TransportClosedError } from '../../core/errors';
import type { WireSubject } from '../../core/wire-subject';
import { startNatsServer } from '../../examples/nats-server';
import { connect, type NatsWire } from '../../transports/nats';
import { natsSuite } from './fixture';
import { until } from '../helpers';

/*
 * NATS channels when things go wrong, against a real nats-server: wrong
 * credentials, no server, a value over max_payload, lost messages, hostile
 * bytes on a channel's subject, close with channels open.
 */

const nats = natsSuite();
const conn = () => nats.conn();
const rawClient = () => nats.raw();

const Text = codec('string');

function failure<T>(wire: WireSubject<T>): Promise<Error> {
  return new Promise((resolve, reject) => wire.subscribe({ error: resolve, complete: () => reject(new Error('completed instead of failing')) }));
}

/**
 * Watches the data subjects of channel `name` with a plain client: for each,
 * the last sequence number seen and whether NEXT frames went there (the
 * reader's subject, as docs/PROTOCOL.md lays the messages out).
 */
async function watchData(nc: NatsConnection, name: string) {
  const seen = new Map<string, { seq: number; values: boolean }>();
  nc.subscribe(`rxwire.ch.${name}._to.*`, {
    callback: (_err, msg) => {
      const data = Buffer.from(msg.data);
      if (data.length < 5) return; // the test's own hostile bytes
      const entry = seen.get(msg.subject) ?? { seq: -1, values: false };
      entry.seq = data.readUInt32LE(0);
      if (data[4] === 0 && data.length > 9 && data[9] === 0x01) entry.values = true;
      seen.set(msg.subject, entry);
    },
  });
  await nc.flush();
  return {
    /** The subject the writer's values go to, and the last sequence number on it. */
    reader(): { subject: string; seq: number } {
      const [subject, entry] = [...seen].find(([, e]) => e.values)!;
      return { subject, seq: entry.seq };
    },
  };
}

/** A pair on two connections, with `count` values carried from `writer` to `reader`. */
async function carrying(name: string, count: number) {
  const [a, b] = [await conn(), await conn()];
  const writer = a.open(name, Text);
  const reader = b.open(name, Text);
  const got: string[] = [];
  const readerEnd = new Promise<Error | 'complete'>((resolve) =>
    reader.subscribe({ next: (v) => got.push(v), error: resolve, complete: () => resolve('complete') }),
  );
  for (let i = 0; i < count; i++) await writer.send(`v${i}`);
  await until(() => got.length === count);
  return { a, b, writer, reader, got, readerEnd };
}

describe('NATS channels: faults', () => {
  it('wrong credentials: connect fails with AuthError; the right ones connect', async () => {
    const guarded = await startNatsServer({ jetstream: false, user: 'app', pass: 's3cret' });
    try {
      const err = await connect({ servers: guarded.url, user: 'app', pass: 'wrong' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthError);
      const ok = await connect({ servers: guarded.url, user: 'app', pass: 's3cret' });
      await ok.close();
      expect(ok.nc.isClosed()).toBe(true);
    } finally {
      await guarded.stop();
    }
  });

  it('no server: connect fails with TransportClosedError at once, no hang', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    const err = await connect({ servers: `nats://127.0.0.1:${port}` }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportClosedError);
    expect((err as Error).message).toContain(`127.0.0.1:${port}`);
  });

  it('a 4 MiB value with the default 1 MiB max_payload is refused with FrameError naming both sizes; the channel carries on', async () => {
    const { writer, got } = await carrying('big', 1);
    const big = 'x'.repeat(4 << 20);
    const err = await writer.send(big).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FrameError);
    expect((err as Error).message).toContain('4194308 bytes'); // the encoded value: a 4-byte length, then 4 MiB
    expect((err as Error).message).toContain('max_payload of 1048576');
    await writer.send('after');
    await until(() => got.length === 2);
    expect(got).toEqual(['v0', 'after']);
  });

  it('a 4 MiB value under a server whose max_payload is 8 MiB is carried whole', async () => {
    const roomy = await startNatsServer({ jetstream: false, maxPayload: 8 << 20 });
    const opened: NatsWire[] = [];
    try {
      const [a, b] = [await connect({ servers: roomy.url }), await connect({ servers: roomy.url })];
      opened.push(a, b);
      const writer = a.open('big', Text);
      const reader = b.open('big', Text);
      const got = lastValueFrom(reader.pipe(take(2), toArray()));
      const big = 'y'.repeat(4 << 20);
      await writer.send('small');
      await writer.send(big);
      const [small, second] = await got;
      expect(small).toBe('small');
      expect(second.length).toBe(big.length);
      expect(second === big).toBe(true);
    } finally {
      await Promise.all(opened.map((c) => c.close()));
      await roomy.stop();
    }
  });

  it('a lost message (a sequence number skipped) ends the reader with GapError after the values before it, and the writer with TransportClosedError', async () => {
    const raw = await rawClient();
    const watch = await watchData(raw, 'gap');
    const { writer, got, readerEnd } = await carrying('gap', 100);
    const writerEnd = failure(writer);
    await raw.flush();
    const { subject, seq } = watch.reader();
    const skipped = Buffer.alloc(5);
    skipped.writeUInt32LE(seq + 2, 0); // seq + 1 never comes
    raw.publish(subject, skipped);
    const end = await readerEnd;
    expect(end).toBeInstanceOf(GapError);
    expect(end).toMatchObject({ expected: seq + 1, got: seq + 2 });
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => `v${i}`));
    expect(await writerEnd).toBeInstanceOf(TransportClosedError);
  });

  it.each([
    ['a truncated message (3 bytes)', () => Buffer.from([1, 2, 3])],
    ['garbage frames behind the right sequence number', (seq: number) => Buffer.concat([header(seq + 1), Buffer.from([0xff, 0xff, 0x00, 0x00, 0x01, 0x07])])],
    ['a frame of an unknown kind', (seq: number) => Buffer.concat([header(seq + 1), Buffer.from([1, 0, 0, 0, 0x7f])])],
  ])('hostile input, %s, on a channel subject: FrameError there, nothing else harmed', async (_what, bytes) => {
    const raw = await rawClient();
    const watch = await watchData(raw, 'hostile');
    const { a, b, writer, got, readerEnd } = await carrying('hostile', 10);
    const bystanderW = a.open('bystander', Text);
    const bystanderR = b.open('bystander', Text);
    const seen: string[] = [];
    bystanderR.subscribe({ next: (v) => seen.push(v), error: () => {} });
    const writerEnd = failure(writer);
    await raw.flush();
    const { subject, seq } = watch.reader();
    raw.publish(subject, bytes(seq));
    expect(await readerEnd).toBeInstanceOf(FrameError);
    expect(got).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`));
    expect(await writerEnd).toBeInstanceOf(TransportClosedError);
    // The other channel on the same connections is untouched.
    await bystanderW.send('still here');
    await until(() => seen.length === 1);
    expect(seen).toEqual(['still here']);
  });

  it('conn.close() ends its open channels with TransportClosedError at both ends, at once', async () => {
    const { a, writer, readerEnd } = await carrying('closing', 5);
    const writerEnd = failure(writer);
    await a.close();
    expect(await writerEnd).toBeInstanceOf(TransportClosedError);
    const end = await readerEnd;
    expect(end).toBeInstanceOf(TransportClosedError);
    expect((end as Error).message).toBe('the other end closed its NATS connection');
    expect(a.nc.isClosed()).toBe(true);
    expect(() => a.open('later', Text)).toThrow(TransportClosedError);
  });

  it('an end whose proposal timed out before a late accept is told `here` when it says its ID again, and its next proposal is accepted', async () => {
    // A plain client plays the lower end "0" (pairTimeout 100 ms) and a silent third end "zzzz"; the rxwire end
    // (pairTimeout 600 ms), proposing to "zzzz", answers "0"'s proposal only after its own one times out.
    const nc = await rawClient();
    const base = 'rxwire.ch.late-accept.';
    const ids: string[] = [];
    const toZero: string[] = [];
    const data: Buffer[] = [];
    nc.subscribe(`${base}_open`, { callback: (_e, m) => void ids.push(m.string()) });
    nc.subscribe(`${base}_pair.0`, { callback: (_e, m) => void toZero.push(m.string()) });
    nc.subscribe(`${base}_pair.zzzz`, { callback: () => {} });
    nc.subscribe(`${base}_to.0`, { callback: (_e, m) => void data.push(Buffer.from(m.data)) });
    await nc.flush();
    (await conn()).open('late-accept', Text, { pairTimeout: 600 });
    await until(() => ids.length > 0);
    const id = ids[0];
    nc.publish(`${base}_open`, 'zzzz'); // the rxwire end proposes to it, and waits 600 ms
    await expect(nc.request(`${base}_pair.${id}`, 'propose 0', { timeout: 100 })).rejects.toThrow(); // "0" gives up
    await until(() => data.length > 0); // 600 ms on, its HELLO: it took the proposal that waited, and paired with "0"
    nc.publish(`${base}_open`, '0'); // "0", not paired, says its ID again
    await until(() => toZero.includes(`here ${id}`));
    expect((await nc.request(`${base}_pair.${id}`, 'propose 0', { timeout: 5000 })).string()).toBe('accept');
  });

  it('a connection given to connect() stays open after close(): it is the caller\'s', async () => {
    const raw = await rawClient();
    const wrapped = await connect(raw);
    const other = await conn();
    const w = wrapped.open('given', Text);
    const r = other.open('given', Text);
    const one = new Promise((resolve, reject) => r.subscribe({ next: resolve, error: reject }));
    await w.send('hello');
    expect(await one).toBe('hello');
    await wrapped.close();
    expect(raw.isClosed()).toBe(false);
  });
});

function header(seq: number): Buffer {
  const h = Buffer.alloc(5);
  h.writeUInt32LE(seq, 0);
  return h;
}
