/**
 * The process suite's measuring worker: runs one program (workerData's
 * `program`) in this fresh thread, posts its sample (or why it failed) and
 * exits. A fresh thread per repetition means a fresh V8 heap, so the
 * memory per process is not helped by room an earlier repetition left.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { nactRing, nactSpawn } from './nact-programs';
import type { MeasureData, MeasureReport, RingSample, SpawnSample } from './protocol';

async function measure(data: MeasureData): Promise<SpawnSample | RingSample> {
  switch (data.program) {
    case 'nact-spawn':
      return nactSpawn(data.n ?? 0);
    case 'nact-ring':
      return nactRing(data.size ?? 0, data.hops ?? 0);
  }
}

measure(workerData as MeasureData).then(
  (sample) => parentPort?.postMessage({ kind: 'sample', sample } satisfies MeasureReport),
  (err: unknown) => parentPort?.postMessage({ kind: 'failed', message: (err as Error).stack ?? String(err) } satisfies MeasureReport),
);
