/**
 * The main side of the process suite's runners: each repetition starts a
 * fresh measuring worker (bench/process/measure.worker), waits for its one
 * sample and for it to exit.
 */
import * as path from 'node:path';
import { startWorker } from '../../threads/worker';
import type { Runner, Sample } from '../harness';
import type { MeasureData, MeasureReport } from './protocol';

/** How long one repetition may take before it counts as failed (and its worker is terminated). */
const TIMEOUT_MS = 300_000;

/** Runs `data`'s program once in a fresh worker thread and returns its sample. */
export async function measureInWorker(data: MeasureData): Promise<Sample> {
  const file = path.join(__dirname, `measure.worker${path.extname(__filename)}`);
  const worker = startWorker(file, { workerData: data });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const report = await new Promise<MeasureReport>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the ${data.program} worker exited (code ${code}) before reporting`)));
      timer = setTimeout(() => reject(new Error(`${data.program} gave no sample within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
    });
    if (report.kind === 'failed') throw new Error(`${data.program}: ${report.message}`);
    return report.sample;
  } finally {
    clearTimeout(timer);
    await worker.terminate();
  }
}

/** A runner named `name` that runs `data`'s program in a fresh worker per repetition. */
export function workerRunner(name: string, data: MeasureData): Runner {
  return { name, run: () => measureInWorker(data) };
}
