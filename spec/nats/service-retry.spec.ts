import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { startNatsServer } from '../../examples/nats-server';
import { NEVER, Observable, firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { codec } from '../../core/codec';
import { FrameError, TransportClosedError } from '../../core/errors';
import { client, serve } from '../../nats';
import { request } from '../../operators';
import { until } from '../helpers';
import { serviceFixture } from './service-fixture';

const Num = codec('int');

describe('services over NATS: members that die, stall or answer twice', () => {
  const f = serviceFixture();
  let nc: NatsConnection;
  beforeAll(() => {
    nc = f.nc;
  });

  it('sends a request again when its member dies after acknowledging it; the handler there hears the abort', async () => {
    const doomedNc = await f.connection();
    let startedOnDoomed = false;
    let abortedOnDoomed = false;
    f.service(
      await serve({ nc: doomedNc }, 'r1', (_n: number, signal: AbortSignal) => {
        startedOnDoomed = true;
        signal.addEventListener('abort', () => (abortedOnDoomed = true));
        return NEVER;
      }, { request: Num, reply: Num }),
    );
    const c = f.client(client({ nc }, 'r1', { request: Num, reply: Num, ackTimeout: 200 }));
    const answer = firstValueFrom(request(c, 20));
    await until(() => startedOnDoomed);
    f.service(await serve({ nc: await f.connection() }, 'r1', (n: number) => n + 1, { request: Num, reply: Num }));
    await doomedNc.close(); // its subscriptions go with it: the client's ping meets "no responders"
    expect(await answer).toBe(21);
    expect(abortedOnDoomed).toBe(true);
  });

  it('sends a request again when no member acknowledges it in time', async () => {
    // A raw queue-group member that swallows requests: it takes one, then leaves.
    const swallower = await f.connection();
    let swallowed = 0;
    const sub = swallower.subscribe('rxwire.svc.r2', { queue: 'r2', callback: () => void swallowed++ });
    await swallower.flush();
    const c = f.client(client({ nc }, 'r2', { request: Num, reply: Num, ackTimeout: 200 }));
    const answer = firstValueFrom(request(c, 5));
    await until(() => swallowed === 1);
    sub.unsubscribe();
    f.service(await serve({ nc: await f.connection() }, 'r2', (n: number) => n * 2, { request: Num, reply: Num }));
    expect(await answer).toBe(10);
  });

  it('fails a streamed reply with TransportClosedError when its member dies after a value', async () => {
    const doomedNc = await f.connection();
    f.service(
      await serve({ nc: doomedNc }, 'r3', () => new Observable<number>((s) => s.next(1)), { request: Num, reply: Num }),
    );
    const c = f.client(client({ nc }, 'r3', { request: Num, reply: Num, ackTimeout: 200 }));
    const seen: number[] = [];
    const ended = new Promise<unknown>((resolve) => request(c, 0).subscribe({ next: (v) => seen.push(v), error: resolve, complete: () => resolve('completed') }));
    await until(() => seen.length === 1);
    f.service(await serve({ nc: await f.connection() }, 'r3', () => new Observable<number>((s) => s.next(2)), { request: Num, reply: Num }));
    await doomedNc.close();
    expect(await ended).toBeInstanceOf(TransportClosedError);
    expect(seen).toEqual([1]); // nothing from the other member: the values delivered cannot be taken back
  });

  it('takes one reply when two queue groups both answer', async () => {
    let runs = 0;
    const handler = (n: number): number => {
      runs++;
      return n;
    };
    f.service(await serve({ nc: await f.connection() }, 'r4', handler, { request: Num, reply: Num, queue: 'g1' }));
    f.service(await serve({ nc: await f.connection() }, 'r4', handler, { request: Num, reply: Num, queue: 'g2' }));
    const c = f.client(client({ nc }, 'r4', { request: Num, reply: Num }));
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => lastValueFrom(request(c, i).pipe(toArray()))));
    expect(replies).toEqual(Array.from({ length: 50 }, (_, i) => [i]));
    await until(() => runs === 100); // both groups ran every request; each caller heard one answer
  });

  it('refuses a request over the server max_payload with FrameError, sending nothing', async () => {
    f.service(await serve({ nc: await f.connection() }, 'r5', (s: string) => s.length, { request: codec('string'), reply: Num }));
    const c = f.client(client({ nc }, 'r5', { request: codec('string'), reply: Num }));
    const before = nc.stats().outMsgs;
    await expect(firstValueFrom(request(c, 'x'.repeat(2 * 1024 * 1024)))).rejects.toBeInstanceOf(FrameError);
    expect(nc.stats().outMsgs).toBe(before);
    expect(await firstValueFrom(request(c, 'abc'))).toBe(3);
  });

  it('answers a reply over the server max_payload with FrameError as a RemoteError', async () => {
    f.service(await serve({ nc: await f.connection() }, 'r6', (n: number) => 'y'.repeat(n), { request: Num, reply: codec('string') }));
    const c = f.client(client({ nc }, 'r6', { request: Num, reply: codec('string') }));
    const err = await firstValueFrom(request(c, 2 * 1024 * 1024)).catch((e: unknown) => e);
    expect(err).toMatchObject({ remoteName: 'FrameError', remoteCode: 'ERR_RXWIRE_FRAME' });
  });

  it('sends a request again when its member, asked by ping, no longer holds it (its reply was lost)', async () => {
    // A raw member speaking the protocol: acknowledges, never answers, and says by ping that it does not hold the request.
    const raw = await f.connection();
    const M = 'rxwire.svc.r7.member.RawMember0000000000000'; // a member's M ends in 22 characters [0-9A-Za-z]
    let pinged = 0;
    const queue = raw.subscribe('rxwire.svc.r7', {
      queue: 'r7',
      callback: (_e, msg) => {
        const h = headers();
        h.set('Rxwire-Kind', 'ack');
        raw.publish(msg.reply!, new Uint8Array(0), { reply: M, headers: h });
        queue.unsubscribe(); // leaves the group: the retry goes to the real member
      },
    });
    raw.subscribe(M, {
      callback: (_e, msg) => {
        pinged++;
        msg.respond(msg.data); // "I hold none of these"
      },
    });
    await raw.flush();
    const c = f.client(client({ nc }, 'r7', { request: Num, reply: Num, ackTimeout: 200 }));
    const answer = firstValueFrom(request(c, 4));
    await until(() => queue.isClosed());
    f.service(await serve({ nc: await f.connection() }, 'r7', (n: number) => n * 3, { request: Num, reply: Num }));
    expect(await answer).toBe(12);
    expect(pinged).toBeGreaterThan(0);
  });

  it('answers every request exactly once across a nats-server restart', async () => {
    const own = await startNatsServer({ jetstream: false });
    const options = { servers: own.url, reconnectTimeWait: 50, maxReconnectAttempts: -1 };
    const [memberNc, clientNc] = [await connect(options), await connect(options)];
    try {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let started = 0;
      const svc = await serve({ nc: memberNc }, 'r8', async (n: number) => {
        started++;
        await gate;
        return n;
      }, { request: Num, reply: Num });
      const c = client({ nc: clientNc }, 'r8', { request: Num, reply: Num, ackTimeout: 200, timeout: 60_000 });
      const N = 50;
      const replies = Promise.all(Array.from({ length: N }, (_, i) => lastValueFrom(request(c, i).pipe(toArray()))));
      await until(() => started === N);
      await own.kill();
      release(); // the replies go out while the server is down
      await own.restart();
      expect(await replies).toEqual(Array.from({ length: N }, (_, i) => [i]));
      c.close();
      await svc.stop();
    } finally {
      await memberNc.close();
      await clientNc.close();
      await own.stop();
    }
  });

  it('acknowledges requests waiting for a handler slot, so they are not re-sent however long they wait', async () => {
    const memberNc = await f.connection();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let runs = 0;
    let running = 0;
    let most = 0;
    f.service(await serve({ nc: memberNc }, 'r9', async (n: number) => {
      runs++;
      most = Math.max(most, ++running);
      await gate;
      running--;
      return n;
    }, { request: Num, reply: Num, concurrency: 1 }));
    const c = f.client(client({ nc }, 'r9', { request: Num, reply: Num, ackTimeout: 100 }));
    const replies = Promise.all(Array.from({ length: 5 }, (_, i) => firstValueFrom(request(c, i))));
    // Several ack timeouts pass while 4 of them wait: the member is pinged meanwhile (5 requests + pings).
    await until(() => memberNc.stats().inMsgs >= 5 + 3);
    release();
    expect(await replies).toEqual([0, 1, 2, 3, 4]);
    expect(runs).toBe(5);
    expect(most).toBe(1);
  });
});
