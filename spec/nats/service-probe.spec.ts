/**
 * A member's probe of its clients (docs/PROTOCOL.md, "NATS services and
 * subjects", `probe`): a client that closed or died with requests open sent
 * no cancel, and the member must notice it all the same; a live client must
 * not lose its requests to a probe.
 */
import { headers, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { NEVER, Observable, firstValueFrom, interval, range } from 'rxjs';
import { codec } from '../../core/codec';
import { TransportClosedError } from '../../core/errors';
import { client, serve } from '../../nats';
import { request } from '../../operators';
import { until } from '../helpers';
import { serviceFixture } from './service-fixture';

const Num = codec('int');
const EMPTY = new Uint8Array(0);

/** Resolves with what `promise` settled with, or 'pending' when it has not settled after `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise((resolve) => (timer = setTimeout(() => resolve('pending'), ms)));
  try {
    return await Promise.race([promise.then(() => 'settled', () => 'settled'), late]);
  } finally {
    clearTimeout(timer);
  }
}

function kindOf(msg: Msg): string | undefined {
  return msg.headers?.get('Rxwire-Kind');
}

/** A member's control subject: `rxwire.svc.<service>.member.` and 22 characters [0-9A-Za-z]. */
function memberOf(service: string, id: string): string {
  return `rxwire.svc.${service}.member.${id.padEnd(22, '0')}`;
}

function withKind(kind: string): ReturnType<typeof headers> {
  const h = headers();
  h.set('Rxwire-Kind', kind);
  return h;
}

describe('services over NATS: a member probes the clients of the requests it holds', () => {
  const f = serviceFixture();

  it('drops the requests of a client whose connection closed without cancelling, so stop() resolves', async () => {
    const aborted: number[] = [];
    const svc = f.service(await serve({ nc: await f.connection() }, 'p1', (n: number, signal: AbortSignal) => {
      signal.addEventListener('abort', () => aborted.push(n));
      // 1: a handler that never answers; 2: a streamed reply that runs on for ever (it stops at its credit once the client is gone)
      return n === 1 ? NEVER : interval(1);
    }, { request: Num, reply: Num, probeInterval: 100 }));
    const clientNc = await f.connection();
    const c = f.client(client({ nc: clientNc }, 'p1', { request: Num, reply: Num, timeout: Infinity }));
    const seen: number[] = [];
    request(c, 1).subscribe({ error: () => undefined });
    request(c, 2).subscribe({ next: (v) => seen.push(v), error: () => undefined });
    await until(() => seen.length >= 10);
    await clientNc.close(); // no cancel goes out: the member must find out
    await until(() => aborted.length === 2);
    expect(aborted.sort()).toEqual([1, 2]);
    expect(await within(svc.stop(), 5_000)).toBe('settled');
  });

  it('keeps the request of a live client that sends no word for longer than the probe interval', async () => {
    const spyNc = await f.connection();
    const probes: Msg[] = [];
    spyNc.subscribe('_INBOX.>', { callback: (_e, msg) => void (kindOf(msg) === 'probe' && probes.push(msg)) });
    await spyNc.flush();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let aborted = false;
    const svc = f.service(await serve({ nc: await f.connection() }, 'p2', async (n: number, signal: AbortSignal) => {
      signal.addEventListener('abort', () => (aborted = true));
      await gate;
      return n + 1;
    }, { request: Num, reply: Num, probeInterval: 50 }));
    // ackTimeout far above the probe interval: the client's pings say nothing in between, the probes are answered
    const c = f.client(client({ nc: f.nc }, 'p2', { request: Num, reply: Num, ackTimeout: 60_000 }));
    const answer = firstValueFrom(request(c, 41));
    await until(() => probes.length >= 3);
    expect(probes[0]!.data.length).toBeGreaterThan(0);
    expect(new TextDecoder().decode(probes[0]!.data)).toBe(svc.member);
    release();
    expect(await answer).toBe(42);
    expect(aborted).toBe(false);
  });

  it('probes a raw client that sent Rxwire-Ack, drops its request once nobody subscribes R, and never probes a plain request', async () => {
    const raw = await f.connection();
    const aborted: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const svc = f.service(await serve({ nc: await f.connection() }, 'p3', async (n: number, signal: AbortSignal) => {
      signal.addEventListener('abort', () => aborted.push(n));
      await gate;
      return n;
    }, { request: Num, reply: Num, probeInterval: 50 }));
    const ackR = '_INBOX.rawclient.1';
    const plainR = '_INBOX.rawclient.2';
    const onAck: Msg[] = [];
    const onPlain: Msg[] = [];
    const ackSub = raw.subscribe(ackR, { callback: (_e, msg) => void onAck.push(msg) }); // never answers a probe
    raw.subscribe(plainR, { callback: (_e, msg) => void onPlain.push(msg) });
    const ack = headers();
    ack.set('Rxwire-Ack', '1');
    raw.publish('rxwire.svc.p3', Num.encode(7), { reply: plainR });
    raw.publish('rxwire.svc.p3', Num.encode(8), { reply: ackR, headers: ack });
    await until(() => onAck.filter((m) => kindOf(m) === 'probe').length >= 2);
    const probe = onAck.find((m) => kindOf(m) === 'probe')!;
    expect(new TextDecoder().decode(probe.data)).toBe(svc.member);
    expect(probe.reply).not.toBe(svc.member); // its reply subject is an inbox of the member, for the server's 503
    expect(onPlain).toEqual([]); // a plain caller's inbox would take a probe for the reply
    expect(aborted).toEqual([]); // unanswered probes say only that R is subscribed
    ackSub.unsubscribe(); // the client is gone: "no responders" on the next probe
    await until(() => aborted.length === 1);
    expect(aborted).toEqual([8]);
    release(); // the plain request, held all along and never probed, gets its reply
    await until(() => onPlain.length === 1);
    expect(onPlain.map(kindOf)).toEqual(['reply']);
  });

  it('does not answer a probe, and tells a member that does not own the request to cancel it', async () => {
    const raw = await f.connection();
    const M1 = memberOf('p4', 'One');
    const M2 = memberOf('p4', 'Two');
    const told: Record<string, string[]> = { [M1]: [], [M2]: [] };
    for (const m of [M1, M2]) raw.subscribe(m, { callback: (_e, msg) => void told[m]!.push(`${kindOf(msg)} ${msg.reply}`) });
    const answers: Msg[] = [];
    raw.subscribe('_INBOX.prober.*', { callback: (_e, msg) => void answers.push(msg) });
    let R = '';
    raw.subscribe('rxwire.svc.p4', { queue: 'p4', callback: (_e, msg) => {
      R = msg.reply!;
      raw.publish(R, EMPTY, { reply: M1, headers: withKind('ack') }); // M1 owns it
    } });
    await raw.flush();
    const c = f.client(client({ nc: f.nc }, 'p4', { request: Num, reply: Num, ackTimeout: 60_000 }));
    const answer = firstValueFrom(request(c, 3));
    await until(() => R !== '');
    await raw.flush();
    let probes = 0;
    const probe = (body: string | Uint8Array): void =>
      raw.publish(R, typeof body === 'string' ? new TextEncoder().encode(body) : body, { reply: `_INBOX.prober.${++probes}`, headers: withKind('probe') });

    const sentBefore = f.nc.stats().outMsgs;
    probe(M1); // from the owner: nothing to say
    // Hostile bodies: not a subject, empty, huge, a member of another service, a subject with a wildcard. Nobody is told.
    probe('not a subject.*');
    probe('');
    probe(new Uint8Array(5000).fill(0x41));
    probe('rxwire.svc.other.member.AAAAAAAAAAAAAAAAAAAAAA');
    probe('rxwire.svc.p4.member.AAAAAAAAAAAAAAAAAAAA.*');
    probe(M2); // another member holds R too (a retry reached it): it should stop
    await until(() => told[M2]!.length === 1);
    expect(told[M2]).toEqual([`cancel ${R}`]);
    expect(f.nc.stats().outMsgs - sentBefore).toBe(1); // that cancel, and nothing else: no answer to any probe
    expect(answers).toEqual([]);
    expect(f.nc.isClosed()).toBe(false);

    const reply = headers();
    reply.set('Rxwire-Kind', 'reply');
    raw.publish(R, Num.encode(9), { reply: M1, headers: reply });
    expect(await answer).toBe(9);
    probe(M1); // the request is over here: its member is told to cancel
    await until(() => told[M1]!.length === 1);
    expect(told[M1]).toEqual([`cancel ${R}`]);
    expect(told[M2]).toHaveLength(1);
  });

  it('takes no member as owner, and sends nothing, to a reply subject that is not a member of the service', async () => {
    const raw = await f.connection();
    const forged: Msg[] = [];
    raw.subscribe('$JS.API.STREAM.DELETE.ORDERS', { callback: (_e, msg) => void forged.push(msg) });
    let requests = 0;
    let R = '';
    const M = memberOf('p7', 'Real');
    raw.subscribe('rxwire.svc.p7', { queue: 'p7', callback: (_e, msg) => {
      R = msg.reply!;
      if (++requests === 1) raw.publish(R, EMPTY, { reply: '$JS.API.STREAM.DELETE.ORDERS', headers: withKind('ack') });
      else raw.publish(R, Num.encode(5), { reply: M, headers: withKind('reply') });
    } });
    await raw.flush();
    const c = f.client(client({ nc: f.nc }, 'p7', { request: Num, reply: Num, ackTimeout: 100 }));
    // The forged ack made no owner: the request is sent again at its ack deadline, and answered then.
    expect(await firstValueFrom(request(c, 1))).toBe(5);
    expect(requests).toBe(2);
    await f.nc.flush();
    await raw.flush();
    expect(forged).toEqual([]);
  });

  it('tells the first member that probes a request cancelled before anyone owned it', async () => {
    const raw = await f.connection();
    const M = memberOf('p5', 'Late');
    const told: string[] = [];
    raw.subscribe(M, { callback: (_e, msg) => void told.push(`${kindOf(msg)} ${msg.reply}`) });
    let R = '';
    raw.subscribe('rxwire.svc.p5', { queue: 'p5', callback: (_e, msg) => void (R = msg.reply!) }); // takes it silently
    await raw.flush();
    const c = f.client(client({ nc: f.nc }, 'p5', { request: Num, reply: Num, ackTimeout: 60_000 }));
    const sub = request(c, 1).subscribe();
    await until(() => R !== '');
    sub.unsubscribe(); // cancelled while no member owns it
    raw.publish(R, new TextEncoder().encode(M), { reply: '_INBOX.prober.1', headers: withKind('probe') });
    await until(() => told.length === 1);
    expect(told).toEqual([`cancel ${R}`]);
  });

  it('fails a streamed reply that lost a value on the way (Rxwire-Seq), instead of completing it short', async () => {
    const raw = await f.connection();
    const M = memberOf('p8', 'Seq');
    const told: string[] = [];
    raw.subscribe(M, { callback: (_e, msg) => void told.push(`${kindOf(msg)} ${msg.reply}`) });
    /** What the raw member sends for request n: [kind, seq] pairs (seq undefined: no header). */
    const scripts: Record<number, [string, number | undefined][]> = {
      1: [['next', 1], ['next', 3]], // the second value was lost
      2: [['next', 1], ['next', 2], ['complete', 3]], // the third was lost, just before the end
      3: [['next', undefined], ['next', undefined], ['complete', undefined]], // a member that does not number: not checked
      4: [['next', 1], ['next', 2], ['complete', 2]],
      5: [['complete', 0]],
    };
    raw.subscribe('rxwire.svc.p8', { queue: 'p8', callback: (_e, msg) => {
      const n = Num.decode(Buffer.from(msg.data));
      for (const [kind, seq] of scripts[n]!) {
        const h = withKind(kind);
        if (seq !== undefined) h.set('Rxwire-Seq', String(seq));
        raw.publish(msg.reply!, kind === 'next' ? Num.encode(n * 10) : EMPTY, { reply: M, headers: h });
      }
    } });
    await raw.flush();
    const c = f.client(client({ nc: f.nc }, 'p8', { request: Num, reply: Num }));
    const outcome = (n: number) => new Promise<string>((resolve) => {
      const seen: number[] = [];
      request(c, n).subscribe({ next: (v) => seen.push(v), error: (e: Error) => resolve(`${e.name} after [${seen}]`), complete: () => resolve(`complete [${seen}]`) });
    });
    expect(await outcome(1)).toBe('TransportClosedError after [10]');
    await until(() => told.length === 1);
    expect(told[0]).toMatch(/^cancel _INBOX\./); // told after the NEXT out of step
    expect(await outcome(2)).toBe('TransportClosedError after [20,20]');
    expect(await outcome(3)).toBe('complete [30,30]');
    expect(await outcome(4)).toBe('complete [40,40]');
    expect(await outcome(5)).toBe('complete []');
    expect(told).toHaveLength(1); // a COMPLETE out of step ends the request at the member already
  });

  it('fails a streamed reply whose last values were lost, when the member says by ping how many it sent', async () => {
    const raw = await f.connection();
    const M = memberOf('p10', 'Tail');
    const told: string[] = [];
    let R = '';
    raw.subscribe(M, { callback: (_e, msg) => {
      if (kindOf(msg) === 'ping') msg.respond(new TextEncoder().encode(`${R} 3`)); // "I hold R and have sent 3 NEXTs"
      else told.push(`${kindOf(msg)} ${msg.reply}`);
    } });
    raw.subscribe('rxwire.svc.p10', { queue: 'p10', callback: (_e, msg) => {
      R = msg.reply!;
      const h = withKind('next');
      h.set('Rxwire-Seq', '1');
      raw.publish(R, Num.encode(1), { reply: M, headers: h }); // then 2 and 3 "lost", and no credit left to send more
    } });
    await raw.flush();
    const c = f.client(client({ nc: f.nc }, 'p10', { request: Num, reply: Num, ackTimeout: 100, timeout: Infinity }));
    const seen: number[] = [];
    const ended = await new Promise<unknown>((resolve) => request(c, 0).subscribe({ next: (v) => seen.push(v), error: resolve, complete: () => resolve('completed') }));
    expect(ended).toBeInstanceOf(TransportClosedError);
    expect((ended as Error).message).toMatch(/sent 3 values, 1 arrived/);
    expect(seen).toEqual([1]);
    await until(() => told.length === 1);
    expect(told).toEqual([`cancel ${R}`]);
  });

  it('answers a ping with R for what it does not hold and "R n" for what it has sent n NEXTs for', async () => {
    let emit!: (n: number) => void;
    const svc = f.service(await serve({ nc: await f.connection() }, 'p11', (n: number) => new Observable<number>((s) => {
      if (n === 2) emit = (v) => s.next(v);
    }), { request: Num, reply: Num }));
    const raw = await f.connection();
    const ack = headers();
    ack.set('Rxwire-Ack', '1');
    raw.subscribe('_INBOX.pinger.*', { callback: () => undefined });
    await raw.flush();
    raw.publish('rxwire.svc.p11', Num.encode(1), { reply: '_INBOX.pinger.1', headers: ack }); // held, no NEXT yet
    raw.publish('rxwire.svc.p11', Num.encode(2), { reply: '_INBOX.pinger.2', headers: ack });
    await until(() => emit !== undefined);
    emit(20);
    emit(21);
    const pong = await raw.request(svc.member, new TextEncoder().encode('_INBOX.pinger.1\n_INBOX.pinger.2\n_INBOX.pinger.9'), { headers: withKind('ping'), timeout: 2_000 });
    expect(new TextDecoder().decode(pong.data).split('\n').sort()).toEqual(['_INBOX.pinger.2 2', '_INBOX.pinger.9']);
    for (const r of ['_INBOX.pinger.1', '_INBOX.pinger.2']) raw.publish(svc.member, EMPTY, { reply: r, headers: withKind('cancel') });
  });

  it('numbers the NEXTs of a streamed reply and says their count on COMPLETE', async () => {
    f.service(await serve({ nc: await f.connection() }, 'p9', (n: number) => range(0, n), { request: Num, reply: Num }));
    const raw = await f.connection();
    const got: string[] = [];
    raw.subscribe('_INBOX.seq.1', { callback: (_e, msg) => void got.push(`${kindOf(msg)} ${msg.headers?.get('Rxwire-Seq')}`) });
    raw.subscribe('_INBOX.seq.2', { callback: (_e, msg) => void got.push(`${kindOf(msg)} ${msg.headers?.get('Rxwire-Seq')}`) });
    raw.publish('rxwire.svc.p9', Num.encode(3), { reply: '_INBOX.seq.1' });
    await until(() => got.length === 4);
    raw.publish('rxwire.svc.p9', Num.encode(0), { reply: '_INBOX.seq.2' });
    await until(() => got.length === 5);
    expect(got).toEqual(['next 1', 'next 2', 'next 3', 'complete 3', 'complete 0']);
  });

  it('refuses a probeInterval that is not a positive number of milliseconds or Infinity; Infinity never probes', async () => {
    const nc: NatsConnection = f.nc;
    for (const bad of [0, 0.5, -1, Number.NaN, 2 ** 31, '100' as unknown as number]) {
      await expect(serve({ nc }, 'p6', (n: number) => n, { request: Num, reply: Num, probeInterval: bad })).rejects.toBeInstanceOf(RangeError);
    }
    const raw = await f.connection();
    const R = '_INBOX.never.1';
    const seen: Msg[] = [];
    raw.subscribe(R, { callback: (_e, msg) => void seen.push(msg) });
    const ack = headers();
    ack.set('Rxwire-Ack', '1');
    let started = 0;
    const quiet = f.service(await serve({ nc: await f.connection() }, 'p6', () => (started++, NEVER as Observable<number>), { request: Num, reply: Num, probeInterval: Infinity }));
    raw.publish('rxwire.svc.p6', Num.encode(1), { reply: R, headers: ack });
    await until(() => started === 1 && seen.length === 1);
    expect(kindOf(seen[0]!)).toBe('ack');
    // A second member probing every 20 ms shows how long "never" has been.
    const control = '_INBOX.never.2';
    const probed: Msg[] = [];
    const controlSub = raw.subscribe(control, { callback: (_e, msg) => void (kindOf(msg) === 'probe' && probed.push(msg)) });
    f.service(await serve({ nc: await f.connection() }, 'p6b', () => NEVER as Observable<number>, { request: Num, reply: Num, probeInterval: 20 }));
    raw.publish('rxwire.svc.p6b', Num.encode(1), { reply: control, headers: ack });
    await until(() => probed.length >= 5);
    expect(seen.map(kindOf)).toEqual(['ack']); // five probe intervals of the other member, none here
    raw.publish(quiet.member, EMPTY, { reply: R, headers: withKind('cancel') }); // so both members can stop
    controlSub.unsubscribe();
  });
});
