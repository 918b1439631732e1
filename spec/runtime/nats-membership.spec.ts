/**
 * The start of a NATS cluster (runtime/nats-membership.ts) on a real
 * nats-server: a process that said hello and died before the start was over
 * is forgotten, so its restart joins and the count is true. Each process is a
 * `joinCluster` on its own connection; the waits are for messages seen on
 * the join subject, never for a time.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { Config } from '../../index';
import { TimeoutError, TransportClosedError } from '../../core/errors';
import { joinCluster, type Membership } from '../../runtime/nats-membership';
import { decodeMessage, encodeMessage, joinSubject, type JoinMessage } from '../../runtime/nats-subjects';
import { natsSuite } from '../nats/fixture';
import { until } from '../helpers';

const nats = natsSuite();
let clusterNo = 0;
/** A fresh cluster name per test, so no test hears another's. */
const fresh = () => `membership-${process.pid}-${++clusterNo}`;
/** Forgotten after 1000 ms of silence (four hellos: the timeout is shorter). */
const HEARTBEAT = { interval: 100, timeout: 300 };

/** Every message on the join subject of `name`, in order, as a raw client hears them. */
async function listen(name: string) {
  const nc = await nats.raw();
  const heard: JoinMessage[] = [];
  nc.subscribe(joinSubject(name), {
    callback: (err, msg) => {
      if (!err) heard.push(decodeMessage<JoinMessage>(msg.data)!);
    },
  });
  await nc.flush();
  const hellos = (id: string) => heard.filter((m) => m.type === 'hello' && m.id === id).length;
  const ids = () => [...new Set(heard.filter((m) => m.type === 'hello').map((m) => m.id))];
  return { nc, heard, hellos, ids };
}

/** A process of the cluster on its own connection; the membership is left after the test. */
async function start(config: ReturnType<typeof Config.nats>, joined: Membership[]) {
  const nc: NatsConnection = await nats.raw();
  const membership = joinCluster(nc, config, new AbortController().signal).then((m) => (joined.push(m), m));
  return { nc, membership };
}

describe('the start of a NATS cluster, with a process that died before it was over', () => {
  const joined: Membership[] = [];
  afterEach(() => joined.splice(0).forEach((m) => m.leave()));

  test('one that said hello and died is not counted: the start times out with the true count', async () => {
    const name = fresh();
    const config = Config.nats({ servers: nats.server.url, name, processes: 3, heartbeat: HEARTBEAT, joinTimeout: 5000 });
    const watch = await listen(name);
    const alone = await start(config, joined);
    const dying = await start(config, joined);
    await until(() => watch.ids().length === 2);
    await dying.nc.close(); // dies between hello and ready (two of three: nobody is ready)
    await expect(dying.membership).rejects.toBeInstanceOf(TransportClosedError);
    const err = await alone.membership.then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(TimeoutError);
    // Forgotten after 1000 ms of silence, within the 5000 ms: it counted the dead one ('2 of 3').
    expect(err!.message).toContain('1 of 3 processes present after 5000 ms');
  });

  test('all ready with one that died after its hello: it is forgotten, they say ready again with its restart, all start', async () => {
    const name = fresh();
    // Forgotten after 3000 ms of silence: the restart, after 750 ms or more, comes while the dead one still counts.
    const heartbeat = { interval: 1000, timeout: 3000 };
    const config = Config.nats({ servers: nats.server.url, name, processes: 3, heartbeat, joinTimeout: 60_000 });
    const watch = await listen(name);
    const a = await start(config, joined);
    const b = await start(config, joined);
    await until(() => watch.ids().length === 2);
    // The third says hello once (as a process in another language would, docs/PROTOCOL.md) and is heard no more.
    const dead = 'deadbeefdeadbeef';
    watch.nc.publish(joinSubject(name), encodeMessage({ type: 'hello', v: 1, id: dead, processes: 3, workers: 1, process: null, heartbeat: [heartbeat.interval, heartbeat.timeout] }));
    const readyWithDead = () => watch.heard.filter((m) => m.type === 'ready' && m.members.includes(dead)).length;
    await until(() => readyWithDead() >= 2); // '3 of 3 present': both wait for the dead one's ready
    // Its restart, a new id, once the dead one has missed two hellos (four of another's later hellos): it waits to be
    // let in till the dead one is forgotten; before, all failed ('4 processes joined, more than its 3').
    const since = watch.hellos(watch.ids()[0]);
    await until(() => watch.hellos(watch.ids()[0]) >= since + 4);
    const restart = await start(config, joined);
    const members = await Promise.all([a.membership, b.membership, restart.membership]);
    expect(new Set(members.map((m) => m.run)).size).toBe(1);
    expect(members.map((m) => m.process).sort()).toEqual([0, 1, 2]);
    // Each process's last ready (said with every hello till the start was over) lists the restart, not the dead one:
    // waited for, as this client hears them a moment after the processes do.
    const lastOf = (who: string) => watch.heard.filter((m) => m.type === 'ready' && m.id === who).at(-1) as { members: string[] } | undefined;
    const ids = watch.ids().filter((who) => who !== dead);
    expect(ids).toHaveLength(3);
    await until(() => ids.every((who) => lastOf(who) !== undefined && !lastOf(who)!.members.includes(dead)));
    for (const who of ids) expect(lastOf(who)!.members.sort()).toEqual([...ids].sort());
  });

  test('one silent for just over the forgetting time, heard again after one process forgot it and before the other did: all start, one run', async () => {
    // The one that forgot it dropped the other's ready (it listed the slow one) and waited for it for ever: the
    // other had no reason to say ready again, and the start split (a TimeoutError beside a run that counted it).
    const name = fresh();
    const config = Config.nats({ servers: nats.server.url, name, processes: 3, heartbeat: HEARTBEAT, joinTimeout: 10_000 });
    const watch = await listen(name);
    const a = await start(config, joined);
    await new Promise((resolve) => setTimeout(resolve, 125)); // out of phase: their checks come at different times
    const b = await start(config, joined);
    await until(() => watch.ids().length === 2);
    const slow = 'ffffffffffffffff';
    const hello = encodeMessage({ type: 'hello', v: 1, id: slow, processes: 3, workers: 1, process: null, heartbeat: [HEARTBEAT.interval, HEARTBEAT.timeout] });
    watch.nc.publish(joinSubject(name), hello);
    const saidAt = Date.now();
    await until(() => watch.heard.filter((m) => m.type === 'ready').length >= 2);
    const members = (watch.heard.find((m) => m.type === 'ready') as { members: string[] }).members;
    // Held just over the 1000 ms: the first check past it (a hello of a or b) forgot it; it beats again before the other's.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, saidAt + 1005 - Date.now())));
    const seen = watch.heard.length;
    await until(() => watch.heard.slice(seen).some((m) => m.type === 'hello' && m.id !== slow));
    // From here it behaves as docs/PROTOCOL.md says: hello, and its ready, every 250 ms until the start is over.
    const ready = encodeMessage({ type: 'ready', id: slow, members });
    let beating = true;
    const beat = async () => {
      while (beating) {
        watch.nc.publish(joinSubject(name), hello);
        watch.nc.publish(joinSubject(name), ready);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };
    const beats = beat();
    try {
      const both = await Promise.all([a.membership, b.membership]);
      expect(both[0].run).toBe(both[1].run);
      expect(both.map((m) => m.process).sort()).not.toEqual([both[0].process, both[0].process]);
    } finally {
      beating = false;
      await beats;
    }
  });
});
