import { createInbox, headers, type NatsConnection } from '@nats-io/transport-node';
import { NEVER, firstValueFrom, lastValueFrom, range, toArray } from 'rxjs';
import { codec } from '../../core/codec';
import { ErrorCode, NoRespondersError, RemoteError, SchemaMismatchError, TimeoutError, TransportClosedError } from '../../core/errors';
import { client, serve } from '../../nats';
import { request } from '../../operators';
import { until } from '../helpers';
import { serviceFixture } from './service-fixture';

const Quote = codec({ type: 'record', name: 'Quote', fields: [{ name: 'sym', type: 'string' }, { name: 'qty', type: 'int' }] } as const);
const Price = codec('double');

describe('serve / client over NATS request/reply', () => {
  const f = serviceFixture();
  let nc: NatsConnection;
  beforeAll(() => {
    nc = f.nc;
  });

  const price = (q: { sym: string; qty: number }): number => q.qty * (q.sym === 'ACME' ? 1.5 : 2);

  it('answers requests through request() of rxwire/operators', async () => {
    f.service(await serve({ nc }, 'price', price, { request: Quote, reply: Price }));
    const prices = f.client(client({ nc }, 'price', { request: Quote, reply: Price }));
    expect(await firstValueFrom(request(prices, { sym: 'ACME', qty: 4 }))).toBe(6);
    const many = await Promise.all(Array.from({ length: 200 }, (_, i) => firstValueFrom(request(prices, { sym: 'X', qty: i }))));
    expect(many).toEqual(Array.from({ length: 200 }, (_, i) => 2 * i));
  });

  it('answers a plain @nats-io client: Avro body in, Avro body and headers out', async () => {
    f.service(await serve({ nc }, 'price', async (q: { sym: string; qty: number }) => price(q), { request: Quote, reply: Price }));
    const plain = await f.connection();
    const reply = await plain.request('rxwire.svc.price', Quote.encode({ sym: 'ACME', qty: 2 }), { timeout: 10_000 });
    expect(Price.decode(reply.data)).toBe(3);
    expect(reply.headers?.get('Rxwire-Kind')).toBe('reply');
    expect(reply.headers?.get('Rxwire-Schema')).toBe(Price.fingerprint);
  });

  it('answers a plain client whose body does not decode with a typed error in the headers', async () => {
    f.service(await serve({ nc }, 'price', price, { request: Quote, reply: Price }));
    const reply = await nc.request('rxwire.svc.price', new Uint8Array([0x02, 0x41]), { timeout: 10_000 }); // a string, no int
    expect(reply.headers?.get('Rxwire-Kind')).toBe('error');
    expect(reply.headers?.get('Rxwire-Error-Name')).toBe('DecodeError');
    expect(reply.headers?.get('Rxwire-Error-Code')).toBe(ErrorCode.DECODE);
    expect(reply.headers?.get('Rxwire-Error-Message')).not.toBe('');
  });

  it('refuses a request whose Rxwire-Schema names another schema with SchemaMismatchError', async () => {
    f.service(await serve({ nc }, 'price', price, { request: Quote, reply: Price }));
    const h = headers();
    h.set('Rxwire-Schema', codec('string').fingerprint);
    const reply = await nc.request('rxwire.svc.price', codec('string').encode('ACME'), { timeout: 10_000, headers: h });
    expect(reply.headers?.get('Rxwire-Error-Name')).toBe('SchemaMismatchError');
    expect(reply.headers?.get('Rxwire-Error-Code')).toBe(ErrorCode.SCHEMA_MISMATCH);
  });

  it('fails with RemoteError when the handler throws, with its name, code and a message spanning lines', async () => {
    f.service(
      await serve({ nc }, 'boom', () => {
        throw Object.assign(new RangeError('bad qty\nsecond line 100%'), { code: 'E_QTY' });
      }, { request: Quote, reply: Price }),
    );
    const c = f.client(client({ nc }, 'boom', { request: Quote, reply: Price }));
    const err = await firstValueFrom(request(c, { sym: 'A', qty: 1 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({ remoteName: 'RangeError', remoteCode: 'E_QTY', message: 'bad qty\nsecond line 100%' });
    expect((err as RemoteError).remoteStack).toContain('RangeError');
  });

  it('fails with NoRespondersError when no member runs', async () => {
    const c = f.client(client({ nc }, 'nobody', { request: Quote, reply: Price }));
    await expect(firstValueFrom(request(c, { sym: 'A', qty: 1 }))).rejects.toBeInstanceOf(NoRespondersError);
  });

  it('times out with TimeoutError, and the cancel reaches the handler (its signal aborts)', async () => {
    const aborted: string[] = [];
    f.service(
      await serve({ nc }, 'slow', (q: { sym: string }, signal: AbortSignal) =>
        new Promise<number>((_resolve, reject) => signal.addEventListener('abort', () => {
          aborted.push(q.sym);
          reject(new Error('aborted'));
        })), { request: Quote, reply: Price }),
    );
    const c = f.client(client({ nc }, 'slow', { request: Quote, reply: Price }));
    await expect(firstValueFrom(request(c, { sym: 'T', qty: 1 }, { timeout: 300 }))).rejects.toBeInstanceOf(TimeoutError);
    await until(() => aborted.includes('T'));
    // An unsubscribe and an AbortSignal cancel too.
    const s = request(c, { sym: 'U', qty: 1 }).subscribe({ error: () => undefined });
    const abort = new AbortController();
    const viaSignal = firstValueFrom(request(c, { sym: 'S', qty: 1 }, { signal: abort.signal })).catch((e: unknown) => e);
    await until(() => c.size === 2);
    await nc.flush();
    s.unsubscribe();
    abort.abort(new Error('caller gave up'));
    expect(await viaSignal).toMatchObject({ message: 'caller gave up' });
    await until(() => aborted.includes('U') && aborted.includes('S'));
  });

  it('streams an Observable reply in order under the client credit, to rxwire and plain clients', async () => {
    const N = 1000;
    f.service(await serve({ nc }, 'count', (q: { qty: number }) => range(0, q.qty), { request: Quote, reply: codec('int') }));
    const c = f.client(client({ nc }, 'count', { request: Quote, reply: codec('int') }));
    expect(await lastValueFrom(request(c, { sym: '', qty: N }).pipe(toArray()))).toEqual(Array.from({ length: N }, (_, i) => i));
    // A plain client gets one message per value, then `complete` (it grants no credit: the member does).
    const got: number[] = [];
    for await (const m of await nc.requestMany('rxwire.svc.count', Quote.encode({ sym: '', qty: 300 }), { strategy: 'sentinel', maxWait: 10_000 })) {
      if (m.headers?.get('Rxwire-Kind') !== 'next') break;
      got.push(codec('int').decode(m.data));
    }
    expect(got).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('stop() lets the running request answer, then takes no more', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const svc = await serve({ nc }, 'drain', async (q: { qty: number }) => {
      await gate;
      return q.qty;
    }, { request: Quote, reply: Price });
    const c = f.client(client({ nc }, 'drain', { request: Quote, reply: Price }));
    const running = firstValueFrom(request(c, { sym: '', qty: 9 }));
    await until(() => c.size === 1);
    await nc.flush();
    await nc.flush();
    const stopped = svc.stop();
    release();
    expect(await running).toBe(9);
    await stopped;
    await expect(firstValueFrom(request(c, { sym: '', qty: 1 }))).rejects.toBeInstanceOf(NoRespondersError);
  });

  it('stop() resolves when the last running request is cancelled while it waits', async () => {
    let aborted = false;
    const svc = await serve({ nc }, 'drain2', (_q: unknown, signal: AbortSignal) => {
      signal.addEventListener('abort', () => (aborted = true));
      return NEVER;
    }, { request: Quote, reply: Price });
    const c = f.client(client({ nc }, 'drain2', { request: Quote, reply: Price }));
    const sub = request(c, { sym: '', qty: 1 }).subscribe();
    await until(() => c.size === 1);
    await nc.flush(); // the member's ack has reached the client: its cancel goes to the member
    await nc.flush();
    let stopped = false;
    void svc.stop().then(() => (stopped = true));
    await nc.flush(); // the member has left the queue group and waits for its request
    sub.unsubscribe(); // the cancel: the handler must end, and with it the stop
    await until(() => stopped);
    expect(aborted).toBe(true);
  });

  it('fails pending requests with TransportClosedError on close(), and the handler hears the cancel', async () => {
    let aborted = false;
    let started = false;
    f.service(await serve({ nc }, 'hang', (_q: unknown, signal: AbortSignal) => {
      started = true;
      signal.addEventListener('abort', () => (aborted = true));
      return NEVER;
    }, { request: Quote, reply: Price }));
    const c = client({ nc }, 'hang', { request: Quote, reply: Price, ackTimeout: 200 });
    const pending = firstValueFrom(request(c, { sym: '', qty: 1 })).catch((e: unknown) => e);
    await until(() => started);
    await nc.flush(); // the member's ack, sent before the handler ran, has reached the client
    c.close();
    expect(await pending).toBeInstanceOf(TransportClosedError);
    await until(() => aborted);
  });

  it('a forged ping is not echoed (only lines that are subjects are answered) and does not stop the member', async () => {
    // Before: each line came back as asked, so 360,000 bytes of 0xff came back as 1,080,000 (U+FFFD), over
    // max_payload: publish threw inside nats.js's reader, which stopped reading (the member heard nothing more).
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    f.service(await serve({ nc }, 'slow', async (q: { sym: string; qty: number }) => (await held, price(q)), { request: Quote, reply: Price }));
    const plain = await f.connection();
    const r = createInbox();
    const heard: { reply?: string; kind?: string; data: Uint8Array }[] = [];
    plain.subscribe(r, { callback: (_err, msg) => void heard.push({ reply: msg.reply, kind: msg.headers?.get('Rxwire-Kind'), data: msg.data }) });
    const ack = headers();
    ack.set('Rxwire-Ack', '1');
    plain.publish('rxwire.svc.slow', Quote.encode({ sym: 'ACME', qty: 2 }), { reply: r, headers: ack });
    await until(() => heard.some((m) => m.kind === 'ack'));
    const member = heard.find((m) => m.kind === 'ack')!.reply!;
    const ping = headers();
    ping.set('Rxwire-Kind', 'ping');
    const answer = async (body: Uint8Array) => (await plain.request(member, body, { timeout: 5_000, headers: ping })).string();
    expect(await answer(Buffer.alloc(360_000, 0xff))).toBe('');
    expect(await answer(Buffer.from(`${r}\n_INBOX.gone.1\nno such\n\u00e9t\u00e9\na..b`))).toBe('_INBOX.gone.1'); // r is held, with no next sent
    release();
    await until(() => heard.some((m) => m.kind === 'reply'));
    // The member still serves.
    expect(Price.decode((await plain.request('rxwire.svc.slow', Quote.encode({ sym: 'ACME', qty: 4 }), { timeout: 10_000 })).data)).toBe(6);
  });

  it('refuses bad names and options', () => {
    expect(() => client({ nc }, 'a.*', { request: Quote, reply: Price })).toThrow(TypeError);
    expect(() => client({ nc }, 'ok', { request: Quote, reply: Price, ackTimeout: 0 })).toThrow(RangeError);
    expect(() => client({ nc }, 'ok', { request: Quote } as never)).toThrow(TypeError);
    return expect(serve({ nc }, 'a b', price, { request: Quote, reply: Price })).rejects.toThrow(TypeError);
  });

  it('leaves no NATS subscription behind once the client is closed and the service stopped', async () => {
    const subscriptions = (): number => (nc as unknown as { protocol: { subscriptions: { size(): number } } }).protocol.subscriptions.size();
    const before = subscriptions();
    const svc = await serve({ nc }, 'leak', price, { request: Quote, reply: Price });
    const c = client({ nc }, 'leak', { request: Quote, reply: Price });
    const d = c.clone();
    expect(await firstValueFrom(request(d, { sym: 'X', qty: 1 }))).toBe(2);
    expect(subscriptions()).toBe(before + 3); // the member's two, the client's inbox
    c.close();
    expect(subscriptions()).toBe(before + 3); // the clone still holds the wire
    d.close();
    await svc.stop();
    expect(subscriptions()).toBe(before);
  });

  it('fails with SchemaMismatchError when the member replies under another schema', async () => {
    f.service(await serve({ nc }, 'other', price, { request: Quote, reply: Price }));
    const c = f.client(client({ nc }, 'other', { request: Quote, reply: codec('float') }));
    await expect(firstValueFrom(request(c, { sym: 'X', qty: 1 }))).rejects.toBeInstanceOf(SchemaMismatchError);
  });
});
