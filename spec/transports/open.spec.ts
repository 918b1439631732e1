import { MessageChannel } from 'node:worker_threads';
import { ChannelTakenError } from '../../core/errors';
import { codec } from '../../core/codec';
import { open } from '../../transports/open';
import { port, shm } from '../../transports';
import { connect, listen } from '../../transports/tcp';

/* open() at the door: an option the end does not take is refused, naming it, before anything is opened. */

describe('open() refuses options that do not fit the end', () => {
  it.each([
    ['wait', 'spin'],
    ['spinMicros', 10],
    ['window', 1024],
    ['windowsBytes', 1024], // misspelt
  ])('a port end with options.%s', (key, value) => {
    const [a, b] = port.pair();
    expect(() => open(a, codec('int'), { [key]: value })).toThrow(new RegExp(`options\\.${key} does not apply to a port end`));
    expect(() => open(a, codec('int'), { [key]: value })).toThrow(TypeError);
    a.port.close();
    b.port.close();
  });

  it.each([
    ['windowBytes', 4096],
    ['batchBytes', 4096],
    ['maxFrameBytes', 4096],
    ['window', 4096],
  ])('an shm end with options.%s', (key, value) => {
    const [a, b] = shm.pair({ bytes: 4096 });
    expect(() => open(a, codec('int'), { [key]: value })).toThrow(new RegExp(`options\\.${key} does not apply to an? shm end`));
    a.live.close();
    b.live.close();
  });

  it('a tcp end with options.windowBytes or options.wait', async () => {
    const server = await listen({ port: 0 });
    const client = await connect({ port: server.port });
    try {
      expect(() => open(client.end('x'), codec('int'), { windowBytes: 4096 })).toThrow(/options\.windowBytes does not apply to a tcp end/);
      expect(() => open(client.end('x'), codec('int'), { wait: 'spin' })).toThrow(TypeError);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('takes what fits, and an option set to undefined', () => {
    const [a, b] = port.pair();
    const tx = open(a, codec('int'), { windowBytes: 4096, maxQueue: 8, wait: undefined });
    const [c, d] = shm.pair({ bytes: 4096 });
    const rx = open(c, codec('int'), { wait: 'async', spinMicros: 0, pauseReadsWhileQueued: false });
    tx.unsubscribe();
    rx.unsubscribe();
    b.port.close();
    d.live.close();
  });

  it.each([
    ['an shm', 'spinMicros'],
    ['an shm', 'maxQueue'],
    ['a port', 'windowBytes'],
    ['a port', 'batchBytes'],
    ['a port', 'maxFrameBytes'],
  ])('%s end refuses options.%s given as a string of digits, not a number', (kind, key) => {
    const [a, b] = kind === 'an shm' ? shm.pair({ bytes: 4096, prefault: false }) : port.pair();
    const call = () => open(a, codec('int'), { [key]: '4096' });
    expect(call).toThrow(RangeError);
    expect(call).toThrow(new RegExp(`^options\\.${key} must be a`));
    for (const end of [a, b]) ('live' in end ? end.live : end.port).close();
  });

  it('refuses options that are not an object', () => {
    const [a, b] = port.pair();
    expect(() => open(a, codec('int'), 42 as never)).toThrow(TypeError);
    for (const bad of [null, {}, 'int']) expect(() => open(a, bad as never)).toThrow(new TypeError('open: codec must be a codec (from codec(schema), or raw)'));
    a.port.close();
    b.port.close();
  });
});

describe('open() twice on one end', () => {
  /** Every value `wire` delivers within `ms`. */
  const within = <T>(wire: { subscribe(o: { next(v: T): void; error(): void }): { unsubscribe(): void } }, ms: number) =>
    new Promise<T[]>((resolve) => {
      const got: T[] = [];
      const sub = wire.subscribe({ next: (v) => got.push(v), error: () => undefined });
      setTimeout(() => {
        sub.unsubscribe();
        resolve(got);
      }, ms);
    });

  it.each([
    ['an shm', () => shm.pair({ bytes: 4096 })],
    ['a port', () => port.pair()],
  ] as const)('%s end: the second open is a ChannelTakenError, and the first still gets every value once', async (_kind, pair) => {
    const [a, b] = pair();
    const tx = open(a, codec('int'));
    const rx = open(b, codec('int'));
    try {
      expect(() => open(b, codec('int'))).toThrow(ChannelTakenError);
      expect(() => open(b, codec('string'))).toThrow(/this end is taken/);
      const seen = within<number>(rx, 200);
      for (let i = 0; i < 10; i++) tx.next(i);
      expect(await seen).toEqual([...Array(10).keys()]);
      // Closed, an end of a pair stays taken: its ring or port is released.
      rx.close();
      expect(() => open(b, codec('int'))).toThrow(ChannelTakenError);
    } finally {
      tx.close();
      rx.close();
    }
  });

  it('a bare MessagePort (as a Worker or parentPort) is free again once its wire is closed: it is the user\'s, and outlives the wire', async () => {
    const { port1, port2 } = new MessageChannel();
    try {
      const tx = open(port2, codec('int'));
      const first = open(port1, codec('int'));
      expect(() => open(port1, codec('int'))).toThrow(ChannelTakenError);
      const seen = within<number>(first, 200);
      tx.next(7);
      expect(await seen).toEqual([7]);
      first.close();
      tx.close();
      // Not ours to close: the port still works, and a new wire may claim it.
      const again = open(port1, codec('int'));
      expect(() => open(port1, codec('int'))).toThrow(ChannelTakenError);
      again.close();
    } finally {
      port1.close();
      port2.close();
    }
  });

  it('an open that fails (a bad option, a schema too large for the ring) leaves the end free for a retry', async () => {
    const [a, b] = port.pair();
    const [c, d] = shm.pair({ bytes: 4096 });
    const Huge = codec({ type: 'record', name: 'Huge', fields: Array.from({ length: 200 }, (_, i) => ({ name: `field_${i}`, type: 'string' })) } as never);
    expect(() => open(b, codec('int'), { windowBytes: 0 })).toThrow(RangeError);
    expect(() => open(d, Huge)).toThrow(/can never fit a ring of 4096 bytes/);
    const wires = [open(a, codec('int')), open(b, codec('int')), open(c, codec('int')), open(d, codec('int'))];
    try {
      const [overPort, fromPort, overShm, fromShm] = wires;
      const seen = Promise.all([within<number>(fromPort, 200), within<number>(fromShm, 200)]);
      overPort.next(1);
      overShm.next(2);
      expect(await seen).toEqual([[1], [2]]);
    } finally {
      for (const wire of wires) wire.close();
    }
  });
});
