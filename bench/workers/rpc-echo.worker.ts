/**
 * Request suite worker: a request/reply server over an rxwire WireSubject
 * opened with `rpcCodec()` on the far end of an `shm.pair()`:
 * `wire.pipe(serve((t) => t, { request: Trade, reply: Trade })).subscribe(wire)`:
 * the handler returns the request's Trade synchronously. When the client
 * closes (completes the wire) the server's output completes, the wire closes
 * and the worker exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { open } from '../../transports/open';
import { rpcCodec, serve } from '../../operators';
import type { ShmEnd, WaitStrategy } from '../../transports/shm';
import { Trade } from '../trade';
import type { WorkerReport } from './protocol';

/** workerData of `rpc-echo`: the far shm end and this end's wait strategy. */
export interface RpcEchoWorkerData {
  readonly end: ShmEnd;
  /** The server end's wait strategy (default `'auto'`). */
  readonly wait?: WaitStrategy;
}

const { end, wait } = workerData as RpcEchoWorkerData;
const wire = open(end, rpcCodec(), wait ? { wait } : {});
wire.pipe(serve((t: Trade) => t, { request: Trade, reply: Trade })).subscribe(wire);
parentPort!.postMessage({ kind: 'ready' } satisfies WorkerReport);
