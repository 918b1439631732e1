/**
 * The transports the WireSubject contract suite (contract.spec.ts) runs over.
 * Each fixture makes two joined ends in this thread, can make one end's peer
 * vanish, and closes what it made. Adding a transport is one entry in
 * `transports` below (`fixture(name, pair)` when the ends need no cleanup
 * beyond `close()` of each WireSubject).
 *
 * Windows: a test that needs a small window passes `windowBytes`; each
 * fixture turns it into its own bound (the port's `windowBytes`, the size of
 * each shm ring, rounded up to a power of two, the tcp channel's receive
 * `window` at both ends), so "the window" means about the same bytes on
 * every transport.
 */
import type { Codec } from '../../core/codec';
import type { WireSubject } from '../../core/wire-subject';
import { open, type OpenOptions } from '../../transports/open';
import { port, shm } from '../../transports';
import { closeAll, connect, listen, nextConnection, proxy, type Proxy } from '../fixtures/tcp';
import { toyLink } from './toy-transport';
import { startNatsServer, type NatsServer } from '../../examples/nats-server';
import { connect as natsConnect } from '../../transports/nats';

export interface TransportFixture {
  /** Shown in the test names. */
  readonly name: string;
  /** Two joined ends, `a` with `codecA`, `b` with `codecB`, both opened with `options`. */
  pair<A, B>(codecA: Codec<A>, codecB: Codec<B>, options?: OpenOptions): Promise<[WireSubject<A>, WireSubject<B>]>;
  /** Makes the other side of `end` vanish, as a dead thread or a dropped socket would. */
  peerGone<T>(end: WireSubject<T>): void;
  /** Closes every end and resource made since the last `close()` (afterEach). */
  close(): Promise<void>;
  /** Optional: releases what the fixture keeps for the whole suite (a server), afterAll. */
  teardown?(): Promise<void>;
}

/** What a fixture's `pair` makes, and how to make the peer of each end vanish. */
interface Made<A, B> {
  ends: [WireSubject<A>, WireSubject<B>];
  /** Makes the peer of ends[0] vanish, then of ends[1]. */
  vanish: [() => void, () => void];
  /** Extra cleanup after the ends are closed. */
  release?: () => Promise<void>;
}

/** Makes two joined ends: the ends alone (then the peer-gone case fails, saying so), or with `vanish`. */
type Maker = <A, B>(
  codecA: Codec<A>,
  codecB: Codec<B>,
  options: OpenOptions,
) => Made<A, B> | [WireSubject<A>, WireSubject<B>] | Promise<Made<A, B> | [WireSubject<A>, WireSubject<B>]>;

/**
 * A fixture from a function that makes two joined ends, such as
 * `fixture('toy', toyPair)`.
 */
export function fixture(name: string, make: Maker): TransportFixture {
  const made: Made<unknown, unknown>[] = [];
  return {
    name,
    async pair<A, B>(codecA: Codec<A>, codecB: Codec<B>, options: OpenOptions = {}) {
      const got = await make(codecA, codecB, options);
      const m: Made<A, B> = Array.isArray(got) ? { ends: got, vanish: [cannotVanish(name), cannotVanish(name)] } : got;
      made.push(m as unknown as Made<unknown, unknown>);
      return m.ends;
    },
    peerGone(end) {
      for (const m of made) {
        const at = (m.ends as WireSubject<unknown>[]).indexOf(end as WireSubject<unknown>);
        if (at >= 0) return m.vanish[at]();
      }
      throw new Error(`${name}: peerGone of an end this fixture did not make`);
    },
    async close() {
      const all = made.splice(0);
      for (const m of all) for (const end of m.ends) end.close();
      for (const m of all) await m.release?.();
    },
  };
}

function cannotVanish(name: string): () => void {
  return () => {
    throw new Error(`${name}: this fixture cannot make a peer vanish (give its maker a \`vanish\`)`);
  };
}

/** The transport's own options without `windowBytes`, which each fixture maps itself. */
function withoutWindow(options: OpenOptions): OpenOptions {
  const { windowBytes: _window, ...rest } = options;
  return rest;
}

function powerOfTwoAtLeast(bytes: number): number {
  let p = 256;
  while (p < bytes) p *= 2;
  return p;
}

export const portFixture = fixture('port', async (codecA, codecB, options) => {
  const [pa, pb] = port.pair();
  return {
    ends: [open(pa, codecA, options), open(pb, codecB, options)],
    // The other side's port closes, as when its thread dies.
    vanish: [() => pb.port.close(), () => pa.port.close()],
  };
});

export const shmFixture = fixture('shm', async (codecA, codecB, options) => {
  const [ea, eb] = shm.pair(options.windowBytes ? { bytes: powerOfTwoAtLeast(options.windowBytes) } : {});
  const rest = withoutWindow(options);
  return {
    ends: [open(ea, codecA, rest), open(eb, codecB, rest)],
    // The other side's liveness port closes, as when its thread dies.
    vanish: [() => eb.live.close(), () => ea.live.close()],
  };
});

/** Client ↔ proxy ↔ server on 127.0.0.1: cutting the proxy drops both sockets, as a network failure would. */
export const tcpFixture = fixture('tcp', async (codecA, codecB, options) => {
  const server = await listen();
  const accepted = nextConnection(server);
  const line: Proxy = await proxy(server.port);
  const client = await connect({ port: line.port });
  const peer = await accepted;
  const rest = withoutWindow(options);
  const tcpOptions = options.windowBytes ? { ...rest, window: options.windowBytes } : rest;
  return {
    ends: [client.open('contract', codecA, tcpOptions), peer.open('contract', codecB, tcpOptions)],
    vanish: [() => line.cut(), () => line.cut()],
    release: closeAll,
  };
});

/** The toy in-memory transport of docs/ARCHITECTURE.md: the interface's own test. */
export const toyFixture = fixture('toy', async (codecA, codecB, options) => {
  const { windowBytes, ...rest } = options as OpenOptions & { windowBytes?: number };
  return toyLink(codecA, codecB, windowBytes ? { ...rest, window: windowBytes } : rest);
});

/**
 * Two NATS connections to a real nats-server (started at the first pair,
 * stopped by `teardown`), one end on each. The peer vanishes as a killed
 * process would: its NATS connection closes under it, nothing said, and the
 * heartbeat (200 ms, timeout 1 s here) notices.
 */
export const natsFixture: TransportFixture = (() => {
  let server: Promise<NatsServer> | undefined;
  let made = 0;
  const base = fixture('nats', async (codecA, codecB, options) => {
    server ??= startNatsServer({ jetstream: false });
    const { url } = await server;
    const [ca, cb] = [await natsConnect({ servers: url }), await natsConnect({ servers: url })];
    const name = `contract-${++made}`;
    const natsOptions = { ...options, heartbeat: { interval: 200, timeout: 1000 } };
    // A peer that vanishes before pairing is no peer yet: wait until both ends
    // have paired, seen as each end's first data message (its HELLO) on NATS.
    const said = new Set<string>();
    const helloes = new Promise<void>((resolve) => {
      const sub = ca.nc.subscribe(`rxwire.ch.${name}._to.>`, {
        callback: (_err, msg) => {
          if (said.add(msg.subject).size < 2) return;
          sub.unsubscribe();
          resolve();
        },
      });
    });
    await ca.nc.flush();
    const ends = [ca.open(name, codecA, natsOptions), cb.open(name, codecB, natsOptions)] as [WireSubject<typeof codecA extends Codec<infer A> ? A : never>, WireSubject<typeof codecB extends Codec<infer B> ? B : never>];
    await helloes;
    return {
      ends,
      vanish: [() => void cb.nc.close(), () => void ca.nc.close()],
      release: async () => {
        await Promise.all([ca.close(), cb.close()]);
      },
    };
  });
  return {
    ...base,
    async teardown() {
      const running = server;
      server = undefined;
      if (running) await (await running).stop();
    },
  };
})();

/** Every transport the contract suite runs over. */
export const transports: TransportFixture[] = [portFixture, shmFixture, tcpFixture, toyFixture, natsFixture];
