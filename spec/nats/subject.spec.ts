import { connect, type NatsConnection } from '@nats-io/transport-node';
import { firstValueFrom, take, toArray, type Subscription } from 'rxjs';
import { startNatsServer, type NatsServer } from '../../examples/nats-server';
import { codec, raw } from '../../core/codec';
import { DecodeError, EncodeError, FrameError, TransportClosedError } from '../../core/errors';
import { subject } from '../../nats';
import { until } from '../helpers';

const Tick = codec({ type: 'record', name: 'Tick', fields: [{ name: 'seq', type: 'int' }, { name: 'sym', type: 'string' }] } as const);

describe('subject(): pub/sub on a NATS subject', () => {
  let server: NatsServer;
  let a: NatsConnection;
  let b: NatsConnection;
  const subs: Subscription[] = [];

  beforeAll(async () => {
    server = await startNatsServer({ jetstream: false });
    a = await connect({ servers: server.url });
    b = await connect({ servers: server.url });
  });
  afterEach(() => {
    for (const s of subs.splice(0)) s.unsubscribe();
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await server?.stop();
  });

  it('fans out every value, in order, to every subscriber on every connection', async () => {
    const N = 500;
    const got: number[][] = [[], [], []];
    const here = subject({ nc: a }, 't.fan', Tick);
    const there = subject({ nc: b }, 't.fan', Tick);
    subs.push(here.subscribe((t) => got[0].push(t.seq)));
    subs.push(there.subscribe((t) => got[1].push(t.seq)));
    subs.push(there.subscribe((t) => got[2].push(t.seq)));
    await a.flush();
    await b.flush();
    for (let seq = 0; seq < N; seq++) here.next({ seq, sym: 'ACME' });
    await until(() => got.every((g) => g.length === N));
    const expected = Array.from({ length: N }, (_, i) => i);
    for (const g of got) expect(g).toEqual(expected);
  });

  it('gives each value to one member of a queue group', async () => {
    const N = 600;
    const got: number[][] = [[], [], []];
    const members = [subject({ nc: a }, 't.q', Tick, { queue: 'workers' }), subject({ nc: b }, 't.q', Tick, { queue: 'workers' }), subject({ nc: b }, 't.q', Tick, { queue: 'workers' })];
    members.forEach((m, i) => subs.push(m.subscribe((t) => got[i].push(t.seq))));
    await a.flush();
    await b.flush();
    const pub = subject({ nc: a }, 't.q', Tick);
    for (let seq = 0; seq < N; seq++) pub.next({ seq, sym: 'Q' });
    await until(() => got.flat().length === N);
    await a.flush();
    await b.flush();
    const all = got.flat().sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: N }, (_, i) => i)); // each once, none lost
    for (const g of got) expect(g.length).toBeGreaterThan(0); // the server spreads them (random: 600 to one member is ~(1/3)^600)
  });

  it('ends a subscriber whose message does not decode with DecodeError, and leaves the others', async () => {
    const typed = subject({ nc: a }, 't.bad', Tick);
    const bytes = subject({ nc: a }, 't.bad', raw);
    const seen: Uint8Array[] = [];
    subs.push(bytes.subscribe((v) => seen.push(v)));
    const failed = firstValueFrom(typed.pipe(toArray())).catch((err: unknown) => err);
    await a.flush();
    b.publish('t.bad', new Uint8Array([0xff, 0xff, 0xff])); // a plain client's garbage
    b.publish('t.bad', Tick.encode({ seq: 1, sym: 'x' }));
    const err = await failed;
    expect(err).toBeInstanceOf(DecodeError);
    await until(() => seen.length === 2);
    expect(Tick.decode(seen[1])).toMatchObject({ seq: 1, sym: 'x' });
  });

  it('receives what a plain NATS client publishes, and a plain subscriber reads what next() publishes', async () => {
    const t = subject({ nc: a }, 't.plain', Tick);
    const got = firstValueFrom(t.pipe(take(1)));
    const plain = b.subscribe('t.plain', { max: 2 });
    await a.flush();
    await b.flush();
    b.publish('t.plain', Tick.encode({ seq: 7, sym: 'P' }));
    expect(await got).toMatchObject({ seq: 7, sym: 'P' });
    t.next({ seq: 8, sym: 'Q' });
    const messages: number[] = [];
    for await (const m of plain) messages.push(Tick.decode(m.data).seq);
    expect(messages).toEqual([7, 8]);
  });

  it('throws EncodeError from next() for a value that does not fit, sending nothing', async () => {
    const t = subject({ nc: a }, 't.enc', Tick);
    const before = a.stats().outMsgs;
    expect(() => t.next({ seq: 'one', sym: 'x' } as never)).toThrow(EncodeError);
    expect(a.stats().outMsgs).toBe(before);
  });

  it("throws FrameError from next() for a value over the server's max_payload, sending nothing; the handle goes on", async () => {
    // It threw TransportClosedError, though the connection was fine and the next value went out.
    const t = subject({ nc: a }, 't.big', raw);
    const got = firstValueFrom(subject({ nc: b }, 't.big', raw));
    await b.flush();
    const max = a.info!.max_payload;
    const before = a.stats().outMsgs;
    expect(() => t.next(new Uint8Array(max + 1))).toThrow(FrameError);
    expect(a.stats().outMsgs).toBe(before);
    t.next(Uint8Array.of(7));
    expect(await got).toEqual(Buffer.of(7));
  });

  it('unsubscribing unsubscribes from NATS: the server delivers nothing more to that connection', async () => {
    const t = subject({ nc: b }, 't.unsub', Tick);
    const got: number[] = [];
    const s = t.subscribe((v) => got.push(v.seq));
    await b.flush();
    a.publish('t.unsub', Tick.encode({ seq: 1, sym: 'a' }));
    await until(() => got.length === 1);
    s.unsubscribe();
    await b.flush();
    const before = b.stats().inMsgs;
    a.publish('t.unsub', Tick.encode({ seq: 2, sym: 'b' }));
    await a.flush();
    await b.flush(); // a round trip after the publish: anything delivered has arrived
    expect(b.stats().inMsgs).toBe(before);
    expect(got).toEqual([1]);
  });

  it('complete() ends only this handle: its subscribers complete, next() throws, the others go on', async () => {
    const mine = subject({ nc: a }, 't.done', Tick);
    const theirs = subject({ nc: b }, 't.done', Tick);
    const ended = firstValueFrom(mine.pipe(toArray()));
    const other: number[] = [];
    subs.push(theirs.subscribe((v) => other.push(v.seq)));
    await b.flush();
    mine.complete();
    expect(await ended).toEqual([]);
    expect(() => mine.next({ seq: 1, sym: 'x' })).toThrow(TransportClosedError);
    theirs.next({ seq: 2, sym: 'y' });
    await until(() => other.length === 1);
    expect(await firstValueFrom(mine.pipe(toArray()))).toEqual([]); // a later subscriber completes at once
    const failing = subject({ nc: a }, 't.done', Tick);
    const boom = new Error('boom');
    failing.error(boom);
    await expect(firstValueFrom(failing)).rejects.toBe(boom);
  });

  it('errors its subscribers with TransportClosedError when the connection closes', async () => {
    const nc = await connect({ servers: server.url });
    const t = subject({ nc }, 't.close', Tick);
    const failed = firstValueFrom(t).catch((err: unknown) => err);
    await nc.flush();
    await nc.close();
    expect(await failed).toBeInstanceOf(TransportClosedError);
    expect(() => t.next({ seq: 1, sym: 'x' })).toThrow(TransportClosedError);
  });

  it('refuses a name that is not a NATS subject, and wildcards for publishing', () => {
    expect(() => subject({ nc: a }, 'a b', Tick)).toThrow(TypeError);
    expect(() => subject({ nc: a }, 'a..b', Tick)).toThrow(TypeError);
    expect(() => subject({ nc: a }, 't.x', Tick, { queue: '' })).toThrow(TypeError);
    expect(() => subject({ nc: a }, 't.x', Tick, { queu: 'w' } as never)).toThrow('subject: options.queu is not an option (it takes queue)');
    expect(() => subject({ nc: a }, 't.x', Tick, null as never)).toThrow(TypeError);
    expect(() => subject({ nc: a }, 't.*', Tick).next({ seq: 1, sym: 'x' })).toThrow(TypeError);
  });
});
