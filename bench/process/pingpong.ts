/**
 * The floor of a cross-thread token ring on this machine: two threads pass
 * a count back and forth through one Int32 of shared memory, nothing else
 * (no ring, no codec, no scheduler). Each store is a hop. `spin`: each side
 * polls with `Atomics.load` until it is its turn (both threads on a core
 * all along); `wait`: each side sleeps in `Atomics.wait` and is woken by
 * `Atomics.notify` (a wake-up per hop). Whatever rxwire's two-thread ring
 * does, it cannot pass this rate on the same machine at the same load: the
 * probe (bench/process/probe.ts) prints it beside the ring's.
 *
 * This module is both sides: the measuring thread calls {@link pingPong},
 * which starts this same file as the partner worker.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { startWorker } from '../../threads/worker';
import type { RingSample } from './protocol';

/** How the two sides wait for their turn. */
export type PingPongMode = 'spin' | 'wait';

interface PartnerData {
  readonly pingPong: { readonly cell: SharedArrayBuffer; readonly hops: number; readonly mode: PingPongMode };
}

/** Plays one side: moves when the count is `first`, `first + 2`, ... below `2 * rounds`. */
function play(cell: Int32Array, first: number, rounds: number, mode: PingPongMode): void {
  for (let k = first; k < 2 * rounds; k += 2) {
    if (mode === 'spin') while (Atomics.load(cell, 0) !== k);
    else for (let seen = Atomics.load(cell, 0); seen !== k; seen = Atomics.load(cell, 0)) Atomics.wait(cell, 0, seen);
    Atomics.store(cell, 0, k + 1);
    if (mode === 'wait') Atomics.notify(cell, 0);
  }
}

/** Passes a count `hops` times between this thread and a fresh worker; hops per second. */
export async function pingPong(hops: number, mode: PingPongMode): Promise<RingSample> {
  const rounds = Math.ceil(hops / 2);
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const worker = startWorker(__filename, { workerData: { pingPong: { cell: cell.buffer, hops: rounds, mode } } satisfies PartnerData });
  try {
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    const t0 = performance.now();
    play(cell, 0, rounds, mode);
    const seconds = (performance.now() - t0) / 1000;
    return { rate: (2 * rounds) / seconds };
  } finally {
    await worker.terminate();
  }
}

// The partner: started by pingPong with its workerData.
const partner = !isMainThread && (workerData as Partial<PartnerData> | null)?.pingPong;
if (partner) {
  parentPort?.postMessage('ready');
  play(new Int32Array(partner.cell), 1, partner.hops, partner.mode);
}
