import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { firstValueFrom, take, toArray } from 'rxjs';
import { codec } from '../../core/codec';
import { DecodeError, EncodeError, FrameError, QueueFullError, RemoteError, SchemaMismatchError, TransportClosedError } from '../../core/errors';
import { startNatsServer, type NatsServer } from '../../examples/nats-server';
import { durable } from '../../transports/nats/jetstream';
import { tick, until } from '../helpers';

const Tick = codec({ type: 'record', name: 'Tick', fields: [{ name: 'n', type: 'long' }, { name: 'sym', type: 'string' }] } as const);
type Tick = { n: number; sym: string };
const ticks = (from: number, count: number): Tick[] => Array.from({ length: count }, (_, i) => ({ n: from + i, sym: `S${(from + i) % 7}` }));

describe('durable (JetStream)', () => {
  let server: NatsServer;
  const conns: NatsConnection[] = [];
  const subjects: { close(): Promise<void> }[] = [];
  let streamNo = 0;
  const name = () => `t${++streamNo}`;

  async function conn(): Promise<{ nc: NatsConnection }> {
    const nc = await connect({ servers: server.url });
    conns.push(nc);
    return { nc };
  }
  function track<D extends { close(): Promise<void> }>(d: D): D {
    subjects.push(d);
    return d;
  }

  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterEach(async () => {
    await Promise.all(subjects.splice(0).map((d) => d.close()));
    await Promise.all(conns.splice(0).map((nc) => nc.close()));
  });
  afterAll(() => server.stop());

  it('persists values as they are sent and delivers them in order, each send resolving with its stream sequence', async () => {
    const c = await conn();
    const stream = name();
    const d = track(durable(c, stream, Tick, { durable: 'reader' }));
    const acks = await Promise.all(ticks(1, 300).map((t) => d.send(t)));
    expect(acks.map((a) => a.seq)).toEqual(ticks(1, 300).map((t) => t.n));
    expect(acks.every((a) => a.stream === stream && !a.duplicate)).toBe(true);
    for (const t of ticks(301, 200)) d.next(t);
    const got = await firstValueFrom(d.pipe(take(500), toArray()));
    expect(got).toEqual(ticks(1, 500));
    const jsm = await jetstreamManager(c.nc);
    expect((await jsm.streams.info(stream)).state.messages).toBe(500);
  });

  it('a durable reader that leaves and comes back resumes after the last value it took, each value once', async () => {
    const c = await conn();
    const stream = name();
    const d = track(durable(c, stream, Tick, { durable: 'r', batch: 16, maxAckPending: 64 }));
    await Promise.all(ticks(1, 400).map((t) => d.send(t)));
    const first = await firstValueFrom(d.pipe(take(150), toArray()));
    await d.close(); // a reader that leaves in good order: what it held undelivered is nak'ed
    // A second DurableSubject (another connection, as another process would) on the same durable consumer.
    const again = track(durable(await conn(), stream, Tick, { durable: 'r' }));
    const rest = await firstValueFrom(again.messages$.pipe(take(250), toArray()));
    expect([...first, ...rest.map((m) => m.value)].map((t) => t.n)).toEqual(ticks(1, 400).map((t) => t.n));
    expect(rest[0].seq).toBe(151);
    // The values its last pull brought but it never delivered were nak'ed on close: handed out again at once, first.
    expect(rest.filter((m) => m.redelivered).map((m) => m.seq)).toEqual(rest.slice(0, rest.findIndex((m) => !m.redelivered)).map((m) => m.seq));
    // ...and every taken one acknowledged: an ack is a message the server takes in its own time (on a loaded
    // machine 58 were still on their way when the consumer was asked at once), so the test asks until it has them.
    const jsm = await jetstreamManager(c.nc);
    let info = await jsm.consumers.info(stream, 'r');
    for (const start = Date.now(); info.num_ack_pending > 0 && Date.now() - start < 20_000; info = await jsm.consumers.info(stream, 'r')) await tick(20);
    expect(info.num_ack_pending).toBe(0);
    expect(info.ack_floor.stream_seq).toBe(400);
  });

  it('subscribers share one reader: each value goes to every subscriber present, and one who leaves does not stop the others', async () => {
    const c = await conn();
    const stream = name();
    const d = track(durable(c, stream, Tick, { durable: 'shared' }));
    await Promise.all(ticks(1, 20).map((t) => d.send(t)));
    const a: number[] = [];
    const b: number[] = [];
    const done = firstValueFrom(d.pipe(take(20), toArray()));
    const subA = d.subscribe((t) => a.push(t.n));
    d.pipe(take(5)).subscribe((t) => b.push(t.n));
    await done;
    subA.unsubscribe();
    expect(a).toEqual(ticks(1, 20).map((t) => t.n));
    expect(b).toEqual([1, 2, 3, 4, 5]);
    expect(d.stats().received).toBe(20); // read (and acknowledged) once each, however many subscribers
  });

  it('replays from a sequence and from a time', async () => {
    const c = await conn();
    const stream = name();
    const d = track(durable(c, stream, Tick));
    const early = await Promise.all(ticks(1, 20).map((t) => d.send(t)));
    expect(early.at(-1)!.seq).toBe(20);
    const jsm = await jetstreamManager(c.nc);
    const stored20 = new Date((await jsm.streams.getMessage(stream, { seq: 20 }))!.time);
    await until(() => Date.now() > stored20.getTime() + 20, 5000); // the next values are stored strictly later
    const mid = new Date();
    await Promise.all(ticks(21, 20).map((t) => d.send(t)));
    const fromSeq = track(durable(c, stream, Tick, { deliver: { seq: 15 } }));
    expect(await firstValueFrom(fromSeq.pipe(take(26), toArray()))).toEqual(ticks(15, 26));
    const fromTime = track(durable(c, stream, Tick, { deliver: { time: mid } }));
    expect(await firstValueFrom(fromTime.pipe(take(20), toArray()))).toEqual(ticks(21, 20));
    const fromNew = track(durable(c, stream, Tick, { deliver: 'new' }));
    const next = firstValueFrom(fromNew.pipe(take(1)));
    const created = async () => (await jsm.consumers.list(stream).next()).some((ci) => ci.config.deliver_policy === 'new');
    for (let i = 0; !(await created()); i++) {
      if (i > 200) throw new Error('the ephemeral consumer was not created');
      await tick(25);
    }
    await d.send({ n: 41, sym: 'X' });
    expect(await next).toEqual({ n: 41, sym: 'X' });
  });

  it('stores a value published twice with the same message id once (a retried or restarted producer)', async () => {
    const c = await conn();
    const stream = name();
    const a = track(durable(c, stream, Tick, { producerId: 'p1' }));
    const first = await Promise.all(ticks(1, 10).map((t) => a.send(t)));
    const b = track(durable(await conn(), stream, Tick, { producerId: 'p1', firstSequence: 6 })); // restarts at its 6th value
    const second = await Promise.all(ticks(6, 10).map((t) => b.send(t)));
    expect(first.every((x) => !x.duplicate)).toBe(true);
    expect(second.map((x) => x.duplicate)).toEqual([true, true, true, true, true, false, false, false, false, false]);
    expect(second.slice(0, 5).map((x) => x.seq)).toEqual([6, 7, 8, 9, 10]); // the stored copy's sequence
    const jsm = await jetstreamManager(c.nc);
    expect((await jsm.streams.info(stream)).state.messages).toBe(15);
    const m = await jsm.streams.getMessage(stream, { seq: 3 });
    expect(m!.header.get('Nats-Msg-Id')).toBe('p1-3');
    expect(m!.header.get('Rxwire-Schema')).toBe(Tick.fingerprint.slice(0, 16));
    expect(b.stats()).toMatchObject({ acked: 10, duplicates: 5 });
  });

  it('a value that does not fit is an EncodeError and nothing is sent; next ends publishing with it', async () => {
    const c = await conn();
    const stream = name();
    const d = track(durable(c, stream, Tick));
    await expect(d.send({ n: 'x' } as never)).rejects.toBeInstanceOf(EncodeError);
    expect(() => d.trySend({ n: 1 } as never)).toThrow(EncodeError);
    await d.send({ n: 1, sym: 'a' });
    const errored = firstValueFrom(d).catch((e: unknown) => e);
    await until(() => d.stats().buffered >= 0); // subscribed
    d.next({ n: 2 } as never);
    expect(await errored).toBeInstanceOf(EncodeError);
    await expect(d.send({ n: 3, sym: 'c' })).rejects.toBeInstanceOf(EncodeError);
    const jsm = await jetstreamManager(c.nc);
    expect((await jsm.streams.info(stream)).state.messages).toBe(1);
  });

  it("a value over the server's max_payload is a FrameError and nothing is sent; the producer goes on", async () => {
    // It was published, the server refused it, and every later send failed with that refusal, for good.
    const c = await conn();
    const stream = name();
    const d = track(durable(c, stream, Tick));
    const big = { n: 0, sym: 'x'.repeat(c.nc.info!.max_payload) };
    await expect(d.send(big)).rejects.toBeInstanceOf(FrameError);
    expect(() => d.trySend(big)).toThrow(FrameError);
    expect((await d.send({ n: 1, sym: 'a' })).seq).toBe(1);
    expect(d.trySend({ n: 2, sym: 'b' })).toBe(true);
    await d.close();
    const jsm = await jetstreamManager(c.nc);
    expect((await jsm.streams.info(stream)).state.messages).toBe(2);
  });

  it('next queues up to maxQueue while the window is full; one more ends publishing with QueueFullError, and what was taken is still stored', async () => {
    const c = await conn();
    const stream = name();
    const d = track(durable(c, stream, Tick, { window: 1, maxQueue: 2 }));
    await d.send({ n: 0, sym: 'warm' });
    const err = new Promise<unknown>((resolve) => d.subscribe({ error: resolve }));
    for (const t of ticks(1, 4)) d.next(t); // 1 in flight, 2 queued, the 4th refused
    expect(await err).toBeInstanceOf(QueueFullError);
    await expect(d.send({ n: 9, sym: 'z' })).rejects.toBeInstanceOf(QueueFullError);
    await until(() => d.stats().inFlight === 0, 10_000);
    const jsm = await jetstreamManager(c.nc);
    expect((await jsm.streams.info(stream)).state.messages).toBe(4); // the warm-up value and the 3 taken; the 4th was refused
  });

  it('bounds the publishes in flight: trySend is false while `window` await their ack, and true again after', async () => {
    const c = await conn();
    const d = track(durable(c, name(), Tick, { window: 4 }));
    await d.send({ n: 0, sym: 'warm' }); // the stream exists
    const taken = ticks(1, 10).map((t) => d.trySend(t));
    expect(taken).toEqual([true, true, true, true, false, false, false, false, false, false]);
    expect(d.stats().inFlight).toBe(4);
    await until(() => d.stats().inFlight === 0, 10_000);
    expect(d.trySend({ n: 5, sym: 'z' })).toBe(true);
  });

  it('bytes that do not decode: the reader errors with DecodeError naming the sequence, the value is terminated, and a new reader resumes after it', async () => {
    const c = await conn();
    const stream = name();
    const d = track(durable(c, stream, Tick, { durable: 'r' }));
    await d.send({ n: 1, sym: 'a' });
    const js = jetstream(c.nc);
    await js.publish(d.subject, new Uint8Array([0xff, 0xff, 0xff])); // a plain client, no rxwire headers
    await d.send({ n: 3, sym: 'c' });
    const seen: Tick[] = [];
    const err = await new Promise<unknown>((resolve) => d.subscribe({ next: (t) => seen.push(t), error: resolve }));
    expect(err).toBeInstanceOf(DecodeError);
    expect((err as Error).message).toMatch(/seq 2 /);
    expect(seen).toEqual([{ n: 1, sym: 'a' }]);
    expect(await firstValueFrom(d)).toEqual({ n: 3, sym: 'c' }); // seq 2 was terminated: not handed out again
  });

  it('a value written under another schema (its Rxwire-Schema header) is a SchemaMismatchError for that reader, and stays for a reader with the writer\'s codec', async () => {
    const c = await conn();
    const stream = name();
    const Other = codec({ type: 'record', name: 'Tick', fields: [{ name: 'n', type: 'long' }, { name: 'sym', type: 'string' }, { name: 'x', type: 'int' }] } as const);
    const w = track(durable(c, stream, Other));
    await w.send({ n: 1, sym: 'a', x: 2 });
    await w.send({ n: 2, sym: 'b', x: 3 });
    // Twice on one durable consumer: the wrong codec takes nothing away (the values were terminated, and lost, before).
    for (let round = 0; round < 2; round++) {
      const r = track(durable(c, stream, Tick, { durable: 'billing' }));
      const err = await firstValueFrom(r).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(SchemaMismatchError);
      expect((err as Error).message).toMatch(/seq [12] .*stays the consumer's next/);
      await r.close();
    }
    const right = track(durable(c, stream, Other, { durable: 'billing' }));
    // Both values, once each (JetStream hands out nak'ed values again in the order it chooses).
    const got = await firstValueFrom(right.pipe(take(2), toArray()));
    expect(got.sort((a, b) => a.n - b.n)).toEqual([{ n: 1, sym: 'a', x: 2 }, { n: 2, sym: 'b', x: 3 }]);
  });

  it('a consumer deleted under its reader: the reader errors with RemoteError JetStreamConsumerGone, never hangs', async () => {
    const c = await conn();
    const stream = name();
    const d = track(durable(c, stream, Tick, { durable: 'doomed' }));
    await d.send({ n: 1, sym: 'a' });
    const seen: Tick[] = [];
    const err = new Promise<unknown>((resolve) => d.subscribe({ next: (t) => seen.push(t), error: resolve }));
    await until(() => seen.length === 1, 10_000);
    const jsm = await jetstreamManager(c.nc);
    await jsm.consumers.delete(stream, 'doomed');
    const e = (await err) as RemoteError;
    expect(e).toBeInstanceOf(RemoteError);
    expect(e.remoteName).toBe('JetStreamConsumerGone');
  });

  it('the NATS connection closing ends the reader and the publishes still waiting with TransportClosedError', async () => {
    const nc = await connect({ servers: server.url });
    const stream = name();
    const d = track(durable({ nc }, stream, Tick, { window: 1 }));
    await d.send({ n: 1, sym: 'a' });
    const err = new Promise<unknown>((resolve) => d.subscribe({ error: resolve }));
    await until(() => d.stats().received === 1, 10_000);
    const waiting = ticks(2, 50).map((t) => d.send(t).then(() => 'stored', (e: unknown) => e));
    await nc.close();
    expect(await err).toBeInstanceOf(TransportClosedError);
    const outcomes = await Promise.all(waiting);
    expect(outcomes.some((o) => o instanceof TransportClosedError)).toBe(true);
    expect(outcomes.every((o) => o === 'stored' || o instanceof TransportClosedError)).toBe(true);
  });

  it('close() waits for what was taken to be stored, errors the subscribers with TransportClosedError and leaves nothing running', async () => {
    const c = await conn();
    const stream = name();
    const d = durable(c, stream, Tick);
    const err = new Promise<unknown>((resolve) => d.subscribe({ error: resolve }));
    for (const t of ticks(1, 50)) d.next(t);
    await d.close();
    expect(await err).toBeInstanceOf(TransportClosedError);
    expect(d.stats()).toMatchObject({ sent: 50, acked: 50, inFlight: 0, queued: 0 });
    await expect(d.send({ n: 9, sym: 'z' })).rejects.toBeInstanceOf(TransportClosedError);
    await expect(firstValueFrom(d)).rejects.toBeInstanceOf(TransportClosedError);
    const jsm = await jetstreamManager(c.nc);
    expect((await jsm.streams.info(stream)).state.messages).toBe(50);
  });
});
