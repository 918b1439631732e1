/**
 * One link of a hostfile cluster (runtime/cluster-link.ts) over a real TCP
 * connection on 127.0.0.1: what a peer's `done` does to the channels opened
 * to it. The whole cluster is in cluster.spec.ts; a `done` whose list is too
 * long to send needs about 260,000 channels there, so the rule is held
 * here, one message at a time.
 */
import { firstValueFrom, materialize, toArray } from 'rxjs';
import * as tcp from '../../transports/tcp';
import { codec } from '../../core/codec';
import { TransportClosedError } from '../../core/errors';
import { Link } from '../../runtime/cluster-link';
import { DONE_KEYS_BYTES, TCP_DONE_KEYS_BYTES, listsKeys } from '../../runtime/link-kinds';

const Num = codec('int');

async function linked(): Promise<{ here: Link; there: Link; close: () => Promise<void> }> {
  const server = await tcp.listen({ host: '127.0.0.1', port: 0, heartbeat: false });
  const accepted = firstValueFrom(server.connections$);
  const dialed = await tcp.connect({ host: '127.0.0.1', port: server.port, heartbeat: false });
  const here = new Link(dialed);
  const there = new Link(await accepted);
  here.peer = 1;
  there.peer = 0;
  const close = async () => {
    await Promise.all([here.close(), there.close()]);
    await server.close();
  };
  return { here, there, close };
}

const done = (listed: boolean, allocated: string[]) => ({ kind: 'done' as const, index: 1, peers: 2, workers: 1, allocated, listed });

describe('a cluster link and its peer’s done', () => {
  test('a channel the peer did not list fails with TransportClosedError; one it listed stays open', async () => {
    const { here, there, close } = await linked();
    try {
      const unlisted = here.conn.open('s:never', Num);
      const listed = here.conn.open('s:later', Num);
      here.opened.add('s:never').add('s:later');
      const ending = firstValueFrom(unlisted.pipe(materialize(), toArray()));
      there.say(done(true, ['s:later']));
      await here.settled;
      const [notice] = await ending;
      expect(notice.kind).toBe('E');
      expect(notice.error).toBeInstanceOf(TransportClosedError);
      expect(notice.error.message).toContain('worker 1 finished before it allocated this channel');
      // The listed one still pairs: the peer opens it and a value crosses.
      const got = firstValueFrom(listed);
      there.conn.open('s:later', Num).next(7);
      expect(await got).toBe(7);
    } finally {
      await close();
    }
  });

  test('a done without its list (too long to send) fails nothing: the channel still pairs', async () => {
    const { here, there, close } = await linked();
    try {
      const wire = here.conn.open('s:kept', Num);
      here.opened.add('s:kept');
      there.say(done(false, []));
      await here.settled;
      expect(here.peerDone).toBe(true);
      expect(here.peerAllocated).toBeUndefined();
      const got = firstValueFrom(wire);
      there.conn.open('s:kept', Num).next(3);
      expect(await got).toBe(3);
    } finally {
      await close();
    }
  });

  test('a list of keys is sent while it takes at most DONE_KEYS_BYTES', () => {
    const key = 'n:1234567'; // 9 bytes, 12 counted
    const fit = Math.floor(DONE_KEYS_BYTES / 12);
    expect(listsKeys(Array(fit).fill(key))).toBe(true);
    expect(listsKeys(Array(fit + 1).fill(key))).toBe(false);
    expect(listsKeys([])).toBe(true);
    // A TCP cluster's done takes more (its frames take 4 MiB): the same 12-byte keys up to 3 MiB.
    expect(listsKeys(Array(fit + 1).fill(key), TCP_DONE_KEYS_BYTES)).toBe(true);
    expect(listsKeys(Array(Math.floor(TCP_DONE_KEYS_BYTES / 12) + 1).fill(key), TCP_DONE_KEYS_BYTES)).toBe(false);
  });
});
