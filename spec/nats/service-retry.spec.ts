import { connect, type NatsConnection } from '@nats-io/transport-node';
import { NEVER, Observable, firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { startNatsServer, type NatsServer } from '../../examples/nats-server';
import { codec } from '../../core/codec';
import { FrameError, TransportClosedError } from '../../core/errors';
import { client, serve, type Service } from '../../nats';
import { request } from '../../operators';
import type { RequestClient } from '../../operators/client';
import { until } from '../helpers';

const Num = codec('int');

describe('services over NATS: members that die, stall or answer twice', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  const extra: NatsConnection[] = [];
  const services: Service[] = [];
  const clients: RequestClient<unknown, unknown>[] = [];

  const member = async (): Promise<NatsConnection> => {
    const conn = await connect({ servers: server.url });
    extra.push(conn);
    return conn;
  };
  const track = <Q, A>(c: RequestClient<Q, A>): RequestClient<Q, A> => {
    clients.push(c as RequestClient<unknown, unknown>);
    return c;
  };

  beforeAll(async () => {
    server = await startNatsServer({ jetstream: false });
    nc = await connect({ servers: server.url });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(services.splice(0).map((s) => s.stop()));
    await Promise.all(extra.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  it('sends a request again when its member dies after acknowledging it; the handler there hears the abort', async () => {
    const doomedNc = await member();
    let startedOnDoomed = false;
    let abortedOnDoomed = false;
    services.push(
      await serve({ nc: doomedNc }, 'r1', (_n: number, signal: AbortSignal) => {
        startedOnDoomed = true;
        signal.addEventListener('abort', () => (abortedOnDoomed = true));
        return NEVER;
      }, { request: Num, reply: Num }),
    );
    const c = track(client({ nc }, 'r1', { request: Num, reply: Num, ackTimeout: 200 }));
    const answer = firstValueFrom(request(c, 20));
    await until(() => startedOnDoomed);
    services.push(await serve({ nc: await member() }, 'r1', (n: number) => n + 1, { request: Num, reply: Num }));
    await doomedNc.close(); // its subscriptions go with it: the client's ping meets "no responders"
    expect(await answer).toBe(21);
    expect(abortedOnDoomed).toBe(true);
  });

  it('sends a request again when no member acknowledges it in time', async () => {
    // A raw queue-group member that swallows requests: it takes one, then leaves.
    const swallower = await member();
    let swallowed = 0;
    const sub = swallower.subscribe('rxwire.svc.r2', { queue: 'r2', callback: () => void swallowed++ });
    await swallower.flush();
    const c = track(client({ nc }, 'r2', { request: Num, reply: Num, ackTimeout: 200 }));
    const answer = firstValueFrom(request(c, 5));
    await until(() => swallowed === 1);
    sub.unsubscribe();
    services.push(await serve({ nc: await member() }, 'r2', (n: number) => n * 2, { request: Num, reply: Num }));
    expect(await answer).toBe(10);
  });

  it('fails a streamed reply with TransportClosedError when its member dies after a value', async () => {
    const doomedNc = await member();
    services.push(
      await serve({ nc: doomedNc }, 'r3', () => new Observable<number>((s) => s.next(1)), { request: Num, reply: Num }),
    );
    const c = track(client({ nc }, 'r3', { request: Num, reply: Num, ackTimeout: 200 }));
    const seen: number[] = [];
    const ended = new Promise<unknown>((resolve) => request(c, 0).subscribe({ next: (v) => seen.push(v), error: resolve, complete: () => resolve('completed') }));
    await until(() => seen.length === 1);
    services.push(await serve({ nc: await member() }, 'r3', () => new Observable<number>((s) => s.next(2)), { request: Num, reply: Num }));
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
    services.push(await serve({ nc: await member() }, 'r4', handler, { request: Num, reply: Num, queue: 'g1' }));
    services.push(await serve({ nc: await member() }, 'r4', handler, { request: Num, reply: Num, queue: 'g2' }));
    const c = track(client({ nc }, 'r4', { request: Num, reply: Num }));
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => lastValueFrom(request(c, i).pipe(toArray()))));
    expect(replies).toEqual(Array.from({ length: 50 }, (_, i) => [i]));
    await until(() => runs === 100); // both groups ran every request; each caller heard one answer
  });

  it('refuses a request over the server max_payload with FrameError, sending nothing', async () => {
    services.push(await serve({ nc: await member() }, 'r5', (s: string) => s.length, { request: codec('string'), reply: Num }));
    const c = track(client({ nc }, 'r5', { request: codec('string'), reply: Num }));
    const before = nc.stats().outMsgs;
    await expect(firstValueFrom(request(c, 'x'.repeat(2 * 1024 * 1024)))).rejects.toBeInstanceOf(FrameError);
    expect(nc.stats().outMsgs).toBe(before);
    expect(await firstValueFrom(request(c, 'abc'))).toBe(3);
  });

  it('answers a reply over the server max_payload with FrameError as a RemoteError', async () => {
    services.push(await serve({ nc: await member() }, 'r6', (n: number) => 'y'.repeat(n), { request: Num, reply: codec('string') }));
    const c = track(client({ nc }, 'r6', { request: Num, reply: codec('string') }));
    const err = await firstValueFrom(request(c, 2 * 1024 * 1024)).catch((e: unknown) => e);
    expect(err).toMatchObject({ remoteName: 'FrameError', remoteCode: 'ERR_RXWIRE_FRAME' });
  });
});
