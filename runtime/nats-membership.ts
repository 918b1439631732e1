/**
 * The start of a NATS cluster, in each process's main thread: the processes
 * under one cluster name find each other, agree on who is in, and each
 * learns its index (docs/PROTOCOL.md, "NATS cluster").
 *
 * 1. Each process picks a random id, subscribes to `rxwire.cluster.<name>.join`
 *    and publishes `hello` there every 250 ms (a process that subscribes later
 *    hears the next one).
 * 2. A hello of another shape (`processes`, `workers`, version, heartbeat) fails the
 *    start with `ClusterError` naming both; more distinct ids than
 *    `processes` (a stray, or two clusters under one name) too, unless one
 *    of them has gone silent (4).
 * 3. Once it has heard exactly `processes` ids (its own included), it says
 *    `ready` with the ids, sorted, and again with every hello until the start
 *    is over (a publish may be lost; one who forgot a member dropped it).
 *    A `ready` with other members does not count (its sender may have heard
 *    a process this one has not yet, or forgotten one this one still counts).
 * 4. It forgets an id not heard (hello or ready) for `heartbeat.timeout` ms
 *    (at least four hellos), unless it has that id's `ready` with its own
 *    members: a process that died, or was cut off, before the start was over.
 *    Forgetting drops the id's `ready`, and this process's own if it named
 *    the id (it says `ready` again once it has heard `processes` ids again);
 *    others' that name it stay, and count again if it is heard again. So a dead process is not counted, and its restart
 *    (a new id) joins: a hello from a new id when `processes` are heard
 *    already waits (is not recorded) while one of those has missed two
 *    hellos, and is refused as a stray only when none has.
 * 5. Once every member said `ready` with the same members, the start is over.
 *    Indices: each process that gave `process` has it (two giving one index
 *    fail with `ClusterError`); the others take the free indices in the
 *    order of their ids. The run's id is a hash of the members' ids.
 *
 * After the start, each member answers a hello from an id not among its
 * members with `busy` (the cluster is running), which fails that process's
 * start with `ClusterError`. A start that does not complete within
 * `joinTimeout` fails with `TimeoutError` saying how many processes came;
 * one whose connection closes, with `TransportClosedError`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { ClusterError, TimeoutError, TransportClosedError } from '../core/errors';
import type { NatsClusterConfig } from './nats-config';
import { SilenceClock } from './silence';
import { CLUSTER_VERSION, decodeMessage, encodeMessage, joinSubject, type HelloMessage, type JoinMessage } from './nats-subjects';

/** Milliseconds between two hellos of a process that has not heard everyone. */
export const HELLO_INTERVAL_MS = 250;

/** Milliseconds of silence after which a process is forgotten at the start: the heartbeat's timeout, at least four hellos. */
function forgetAfter(heartbeatTimeout: number): number {
  return Math.max(heartbeatTimeout, 4 * HELLO_INTERVAL_MS);
}

/** What the start agreed on. */
export interface Membership {
  /** This process's index. */
  readonly process: number;
  /** The run's id: 16 hex digits, a token of every subject of the run. */
  readonly run: string;
  /** Answers strays with `busy` until called; call once the run is over. */
  readonly leave: () => void;
}

/**
 * Runs the start (see the top of this file) on `nc`.
 * @param signal aborts the start (its reason is the rejection)
 */
export function joinCluster(nc: NatsConnection, config: NatsClusterConfig, signal: AbortSignal): Promise<Membership> {
  const id = randomBytes(8).toString('hex');
  const subject = joinSubject(config.name);
  const { interval, timeout } = config.heartbeat;
  const hello: HelloMessage = { type: 'hello', v: CLUSTER_VERSION, id, processes: config.processes, workers: config.workers, process: config.process ?? null, heartbeat: [interval, timeout] };
  const heard = new Map<string, HelloMessage>([[id, hello]]);
  /** When each other id recorded in `heard` was last heard (`performance.now()`). */
  const lastHeard = new Map<string, number>();
  const readies = new Map<string, string>();
  let members: string[] | undefined;
  let agreed: Membership | undefined;
  let sub: Subscription | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let deadline: ReturnType<typeof setTimeout> | undefined;
  const say = (message: JoinMessage) => {
    if (!nc.isClosed()) nc.publish(subject, encodeMessage(message));
  };
  const leave = () => {
    if (!nc.isClosed()) sub?.unsubscribe();
  };

  return new Promise<Membership>((resolve, reject) => {
    const stop = () => {
      clearInterval(timer);
      clearTimeout(deadline);
      signal.removeEventListener('abort', onAbort);
    };
    let failed = false;
    const fail = (err: Error) => {
      if (agreed || failed) return;
      failed = true;
      stop();
      leave();
      reject(err);
    };
    const onAbort = () => fail(signal.reason as Error);
    const done = (index: number) => {
      stop();
      const run = createHash('sha256').update(members!.join(',')).digest('hex').slice(0, 16);
      agreed = { process: index, run, leave };
      resolve(agreed);
    };
    /** The id has said `ready` with this process's members: it is in, dead or not (the run's heartbeat judges it). */
    const committed = (other: string) => members !== undefined && readies.get(other) === members.join(',');
    /** Forgets the ids silent past `forgetAfter` (see the top of this file). */
    const forget = (now: number) => {
      for (const [other, at] of lastHeard) {
        if (now - at <= forgetAfter(timeout) || committed(other)) continue;
        lastHeard.delete(other);
        heard.delete(other);
        readies.delete(other); // others' readies that list it stay: they count again if it is heard again
        if (members?.includes(other)) {
          members = undefined; // this one's own ready named it: said again once `processes` are heard
          readies.delete(id);
        }
      }
    };
    const onMessage = (message: JoinMessage | undefined) => {
      if (!message || (message.type !== 'busy' && message.id === id)) return;
      if (message.type === 'busy') {
        if (message.to === id) fail(new ClusterError(`NATS cluster ${config.name} is already running with ${message.processes} processes; this process is not one of them`));
        return;
      }
      if (agreed) {
        // The run is on: a hello from outside it is refused.
        if (message.type === 'hello' && !members!.includes(message.id)) say({ type: 'busy', to: message.id, processes: config.processes });
        return;
      }
      if (message.type === 'hello') {
        const beats = (h: HelloMessage) => (Array.isArray(h.heartbeat) ? `, heartbeat ${h.heartbeat[0]}/${h.heartbeat[1]} ms` : '');
        const shape = (h: HelloMessage) => `processes ${h.processes}, workers ${h.workers}, version ${h.v}${beats(message) && beats(h)}`;
        // A heartbeat unlike this one's would have one process judge the other dead while it beats at its own pace.
        const otherBeat = Array.isArray(message.heartbeat) && (message.heartbeat[0] !== interval || message.heartbeat[1] !== timeout);
        if (message.processes !== hello.processes || message.workers !== hello.workers || message.v !== hello.v || otherBeat) {
          say(hello); // the other may not have heard this one yet: it fails too
          fail(new ClusterError(`NATS cluster ${config.name}: process ${message.id} has ${shape(message)}, this one (${id}) ${shape(hello)}`));
          return;
        }
        const now = performance.now();
        if (!heard.has(message.id) && heard.size === config.processes) {
          // One that missed two hellos may be dead, to be forgotten: the newcomer (its restart?) waits till then.
          if ([...lastHeard].some(([other, at]) => now - at > 2 * HELLO_INTERVAL_MS && !committed(other))) return;
          say(hello);
          fail(new ClusterError(`NATS cluster ${config.name}: ${heard.size + 1} processes joined, more than its ${config.processes} (a stray process, or two clusters under one name?)`));
          return;
        }
        heard.set(message.id, message);
        lastHeard.set(message.id, now);
        if (heard.size === config.processes && !members) {
          members = [...heard.keys()].sort(); // (hellos go on until the start is over: a peer may not have heard this one yet)
          say({ type: 'ready', id, members });
          readies.set(id, members.join(','));
        }
      } else if (message.type === 'ready' && Array.isArray(message.members)) {
        readies.set(message.id, message.members.join(','));
        if (lastHeard.has(message.id)) lastHeard.set(message.id, performance.now());
      }
      if (members && members.every((m) => readies.get(m) === members!.join(','))) {
        try {
          done(indexOf(id, members, heard, config));
        } catch (err) {
          fail(err as Error);
        }
      }
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort);
    void nc.closed().then(() => fail(new TransportClosedError(`NATS cluster ${config.name}: the connection to NATS closed during the start`)));
    sub = nc.subscribe(subject, {
      callback: (err, msg) => {
        if (!err) onMessage(decodeMessage<JoinMessage>(msg.data));
      },
    });
    say(hello);
    if (config.processes === 1) {
      members = [id];
      return done(config.process ?? 0);
    }
    const clock = new SilenceClock(2 * HELLO_INTERVAL_MS);
    timer = setInterval(() => {
      say(hello);
      if (members) say({ type: 'ready', id, members });
      const now = clock.tick();
      if (now !== undefined) forget(now);
    }, HELLO_INTERVAL_MS);
    deadline = setTimeout(
      () => fail(new TimeoutError(`NATS cluster ${config.name}: ${heard.size} of ${config.processes} processes present after ${config.joinTimeout} ms`)),
      config.joinTimeout,
    );
  });
}

/** This process's index among `members` (see the top of this file). */
function indexOf(id: string, members: readonly string[], heard: ReadonlyMap<string, HelloMessage>, config: NatsClusterConfig): number {
  const taken = new Map<number, string>();
  for (const m of members) {
    const given = heard.get(m)!.process;
    if (given === null) continue;
    if (!Number.isInteger(given) || given < 0 || given >= config.processes || taken.has(given)) {
      throw new ClusterError(`NATS cluster ${config.name}: processes ${taken.get(given) ?? '?'} and ${m} both claim index ${given} (or it is out of range)`);
    }
    taken.set(given, m);
  }
  const free = Array.from({ length: config.processes }, (_, i) => i).filter((i) => !taken.has(i));
  const unassigned = members.filter((m) => heard.get(m)!.process === null);
  const given = heard.get(id)!.process;
  return given ?? free[unassigned.indexOf(id)];
}
