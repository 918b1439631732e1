/**
 * `initialize(Config.nats(...), module)`: a cluster with no hostfile, in the
 * calling (main) thread of each process.
 *
 * 1. Connects to the NATS servers (no reconnection: see nats-subjects.ts).
 * 2. Joins the cluster (nats-membership.ts): waits until all `processes`
 *    are there, learns this process's index and the run's id.
 * 3. Beats on the run's control subject every `heartbeat.interval` ms, from
 *    now until its workers have all exited.
 * 4. Starts `workers` worker threads, as `Config.process` does, linked by
 *    shared-memory rings among themselves; each links to the workers of the
 *    other processes over NATS (nats-links.ts) before the user's function runs.
 * 5. When `join()` settles: on a failure (a worker threw, or `terminate()`),
 *    says `fail` on the control subject, so the other processes fail at once
 *    rather than after a heartbeat timeout; then stops beating, leaves and
 *    drains its connection.
 */
import { WorkerError } from '../core/errors';
import type { NatsClusterConfig } from './nats-config';
import { joinCluster, type Membership } from './nats-membership';
import { connectCluster, controlSubject, encodeMessage, type ControlMessage, type NatsWorkerSetup } from './nats-subjects';

/** Running workers, as `initialize`'s `Guards` (declared here too: initialize.ts imports this file). */
interface Guards<R> {
  join(): Promise<R[]>;
  terminate(): Promise<void>;
}

/**
 * Runs this process's part of a NATS cluster (see the top of this file).
 * @param start starts this process's worker threads with the agreed setup
 * @throws TypeError at once when `args` do not survive a structured clone
 */
export function natsCluster<R>(config: NatsClusterConfig, args: unknown, start: (setup: NatsWorkerSetup) => Guards<R>): Guards<R> {
  try {
    structuredClone(args);
  } catch (err) {
    throw new TypeError(`initialize: args cannot be structured-cloned to the workers (${(err as Error).message})`, { cause: err });
  }
  const abort = new AbortController();
  let guards: Guards<R> | undefined;
  const results = (async () => {
    const conn = await connectCluster(config, 'main');
    const { nc } = conn;
    let membership: Membership | undefined;
    let beat: ReturnType<typeof setInterval> | undefined;
    const say = (message: ControlMessage) => {
      if (membership && !nc.isClosed()) nc.publish(controlSubject(config.name, membership.run), encodeMessage(message));
    };
    try {
      membership = await joinCluster(nc, config, abort.signal);
      const { process } = membership;
      say({ type: 'beat', process });
      beat = setInterval(() => say({ type: 'beat', process }), config.heartbeat.interval);
      try {
        if (abort.signal.aborted) throw abort.signal.reason;
        guards = start({ config, process, run: membership.run });
        return await guards.join();
      } catch (err) {
        const worker = err instanceof WorkerError ? (err.workerIndex ?? null) : null;
        say({ type: 'fail', process, worker, message: (err as Error)?.message ?? String(err) });
        throw err;
      }
    } finally {
      clearInterval(beat);
      membership?.leave();
      await conn.close(); // what was published goes out first
    }
  })();
  results.catch(() => {});
  return {
    join: () => results,
    terminate: async () => {
      abort.abort(new WorkerError('terminated before the NATS cluster started', undefined, undefined));
      await guards?.terminate();
      await results.catch(() => {});
    },
  };
}
