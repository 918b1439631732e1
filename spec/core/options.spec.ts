/**
 * Options checked at the door (core/options.ts): a key an API does not take
 * is a TypeError naming it and what the API takes; a key whose value is
 * undefined passes. Every API listed in the README is called here with a
 * misspelt key; none of these calls starts a thread or opens a socket.
 */
import { Subject } from 'rxjs';
import { codec, raw } from '../../core/codec';
import { openSettings } from '../../transports/nats/options';
import { connect as natsConnect } from '../../transports/nats';
import { durable } from '../../transports/nats/jetstream';
import { shm, tcp } from '../../transports';
import { open } from '../../transports/open';
import { burstRecv, client, exchange, request, rpcCodec, serve, stage, step } from '../../operators';
import { WorkerPool } from '../../pool/pool';
import { startNode, supervisorSpec } from '../../processes';
import type { WorkerContext } from '../../runtime/context';
import { Config, toConfig } from '../../runtime/config';
import { initialize } from '../../runtime/initialize';

const worker = { index: 0, peers: 1, allocate: () => ({ senders: [], receiver: new Subject() }) } as unknown as WorkerContext;

describe('options checked at the door', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['codec', () => codec('long', { vallidate: false } as never), /^codec: options\.vallidate is not an option \(it takes validate\)$/],
    ['shm.pair', () => shm.pair({ byts: 256 } as never), /shm\.pair: options\.byts is not an option \(it takes bytes, prefault\)/],
    ['exchange', () => exchange({ worker, channel: 'c', codec: raw, key: () => 1, maxqueue: 5 } as never), /exchange: options\.maxqueue is not an option \(it takes transport, bytes, wait, spinMicros, maxQueue, worker, channel, codec, key\)/],
    ['burstRecv', () => burstRecv({ maxsize: 2 } as never), /burstRecv: options\.maxsize is not an option/],
    ['stage', () => stage('x.js', { input: raw, output: raw, inflight: 2 } as never), /stage: options\.inflight is not an option \(it takes workers, input, output, ordered, inFlight, key, bytes\)/],
    ['step', () => step('x.js', { input: raw, output: raw, worker: 1 } as never), /step: options\.worker is not an option/],
    ['serve', () => serve(() => 1, { request: raw, reply: raw, concurency: 2 } as never), /serve: options\.concurency is not an option \(it takes request, reply, concurrency, signal\)/],
    ['WorkerPool.spawn', () => WorkerPool.spawn(1, 'x.js', { down: raw, up: raw, upCapcity: 8 } as never), /WorkerPool\.spawn: options\.upCapcity is not an option/],
    ['startNode', () => startNode({ thread: 2 } as never), /startNode: options\.thread is not an option \(it takes threads, id, ringBytes, wait, spinMicros\)/],
    ['supervisorSpec', () => supervisorSpec([], { maxRestart: 1 } as never), /supervisorSpec: options\.maxRestart is not an option/],
    ['NATS conn.open', () => openSettings({ hearbeat: false } as never), /conn\.open: options\.hearbeat is not an option/],
    ['NATS durable', () => durable({ nc: {} as never }, 'orders', raw, { durble: 'x' } as never), /^durable: options\.durble is not an option \(it takes durable, subject, /],
    ['NATS conn.open heartbeat', () => openSettings({ heartbeat: { interval: 100, timout: 1 } as never }), /^conn\.open: options\.heartbeat\.timout is not an option \(it takes interval, timeout\)$/],
    [
      'Config.cluster',
      () => Config.cluster({ hosts: ['127.0.0.1:2101'], process: 0, wokers: 2 } as never),
      /^Config\.cluster: options\.wokers is not an option \(it takes hosts, process, workers, connectTimeout, secret, heartbeat\)$/,
    ],
    ['Config.cluster heartbeat', () => Config.cluster({ hosts: ['127.0.0.1:2101'], process: 0, heartbeat: { intervl: 5 } as never }), /^Config\.cluster: options\.heartbeat\.intervl is not an option/],
    [
      'Config.nats',
      () => Config.nats({ servers: 'nats://127.0.0.1:4222', name: 'wc', processes: 2, jointimeout: 1000 } as never),
      /^Config\.nats: options\.jointimeout is not an option \(it takes servers, name, processes, workers, process, joinTimeout, heartbeat, user, pass\)$/,
    ],
    ['Config.nats heartbeat', () => Config.nats({ servers: 'nats://127.0.0.1:4222', name: 'wc', processes: 2, heartbeat: { timout: 1 } as never }), /^Config\.nats: options\.heartbeat\.timout is not an option/],
    ['initialize { workers }', () => initialize({ workers: 2, threads: 4 } as never, 'x.js'), /^initialize: config\.threads is not an option \(it takes workers\)$/],
    ['initialize thread', () => initialize({ kind: 'thread', workers: 4 } as never, 'x.js'), /^initialize: config\.workers is not an option \(it takes kind\)$/],
    ['shm.ring', () => shm.ring({ byte: 1024 } as never), /^shm\.ring: options\.byte is not an option \(it takes bytes, consumers, prefault\)$/],
    ['shm.ring consumer', () => shm.ring({ consumers: [{}, { afer: [0] }] } as never), /^shm\.ring: options\.consumers\[1\]\.afer is not an option \(it takes after\)$/],
    ['initialize process', () => initialize({ kind: 'process', workers: 2, wokers: 4 } as never, 'x.js'), /^initialize: config\.wokers is not an option \(it takes kind, workers\)$/],
  ];

  it.each(cases)('%s', (_, call, message) => {
    expect(call).toThrow(TypeError);
    expect(call).toThrow(message);
  });

  it('NATS connect: its second argument (rxwire’s own options) too, before any socket', async () => {
    await expect(natsConnect({ servers: 'nats://127.0.0.1:1' }, { prefx: 'x.' } as never)).rejects.toThrow(/^connect: the second argument\.prefx is not an option \(it takes prefix\)$/);
  });

  it('a WireSubject’s pauseReadsWhileQueued is a boolean (a string was taken as true)', () => {
    const [a] = shm.pair({ bytes: 4096, prefault: false });
    expect(() => open(a, raw, { pauseReadsWhileQueued: 'no' } as never)).toThrow(new TypeError('options.pauseReadsWhileQueued must be a boolean'));
  });

  it('tcp.listen and tcp.connect reject before any socket', async () => {
    await expect(tcp.listen({ windw: 1 } as never)).rejects.toThrow(/tcp\.listen: options\.windw is not an option/);
    await expect(tcp.connect({ port: 1, reconect: true } as never)).rejects.toThrow(/tcp\.connect: options\.reconect is not an option/);
  });

  it('client and request on a wire: the misspelt key is refused, the right one taken', () => {
    const [a] = shm.pair({ bytes: 4096, prefault: false });
    const wire = open(a, rpcCodec());
    expect(() => client(wire, { request: raw, reply: raw, timout: 5 } as never)).toThrow(/client: options\.timout is not an option \(it takes request, reply, concurrency, timeout\)/);
    const c = client(wire, { request: raw, reply: raw, timeout: undefined });
    expect(() => request(c, Buffer.of(1), { timout: 5 } as never)).toThrow(/request: options\.timout is not an option \(it takes timeout, signal\)/);
    c.close();
    wire.unsubscribe();
  });

  it('a config given back with a change keeps its kind, which Config.cluster and Config.nats take (and initialize)', () => {
    const cluster = Config.cluster({ hosts: ['127.0.0.1:2101', '127.0.0.1:2102'], process: 0 });
    expect(Config.cluster({ ...cluster, process: 1 })).toEqual({ ...cluster, process: 1 });
    expect(toConfig(cluster)).toEqual(cluster);
    const nats = Config.nats({ servers: 'nats://127.0.0.1:4222', name: 'wc', processes: 2 });
    expect(Config.nats({ ...nats, process: 1 })).toEqual({ ...nats, process: 1 });
    expect(toConfig(nats)).toEqual(nats);
    expect(() => Config.nats({ ...cluster } as never)).toThrow(/^Config\.nats: options\.kind is not an option/);
  });

  it('a key whose value is undefined passes, and a well-spelt option is taken', () => {
    expect(() => codec('long', { validate: undefined, other: undefined } as never)).not.toThrow();
    expect(() => burstRecv({ maxSize: 2, extra: undefined } as never)).not.toThrow();
  });
});
