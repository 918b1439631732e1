/**
 * The process suite's measuring worker: runs one program (workerData's
 * `program`) in this fresh thread, posts its sample (or why it failed) and
 * exits. A fresh thread per repetition means a fresh V8 heap, so the
 * memory per process is not helped by room an earlier repetition left.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { nactRing, nactSpawn } from './nact-programs';
import { pingPong } from './pingpong';
import { ringFloor } from './ring-floor';
import { ringLayered } from './ring-layered';
import { rxwireRing, rxwireSpawn } from './rxwire-programs';
import type { MeasureData, MeasureReport, RingSample, SpawnSample } from './protocol';

async function measure(data: MeasureData): Promise<SpawnSample | RingSample> {
  switch (data.program) {
    case 'nact-spawn':
      return nactSpawn(data.n ?? 0);
    case 'nact-ring':
      return nactRing(data.size ?? 0, data.hops ?? 0);
    case 'rxwire-spawn':
      return rxwireSpawn(data.n ?? 0);
    case 'rxwire-ring-one-thread':
      return rxwireRing(data.size ?? 0, data.hops ?? 0, 'one', data);
    case 'rxwire-ring-two-threads':
      return rxwireRing(data.size ?? 0, data.hops ?? 0, 'two', data);
    case 'floor-ping-pong-spin':
      return pingPong(data.hops ?? 0, 'spin');
    case 'floor-ping-pong-wait':
      return pingPong(data.hops ?? 0, 'wait');
    case 'floor-ring-codec':
      return ringFloor(data.size ?? 0, data.hops ?? 0);
    case 'floor-ring-layered':
      return ringLayered(data.size ?? 0, data.hops ?? 0);
  }
}

measure(workerData as MeasureData).then(
  (sample) => parentPort?.postMessage({ kind: 'sample', sample } satisfies MeasureReport),
  (err: unknown) => parentPort?.postMessage({ kind: 'failed', message: (err as Error).stack ?? String(err) } satisfies MeasureReport),
);
