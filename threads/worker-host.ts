/**
 * The entry of every worker thread rxwire starts (see threads/worker.ts): loads
 * the runner named in `workerData.rxwire` and the user's module, runs them,
 * reports the result or the error to the parent, and on `release` lets the
 * runner close its ends so the thread exits by itself.
 */
import { workerData } from 'node:worker_threads';
import { sendQueuedAtCrash } from '../core/batcher';
import { RemoteError, toErrorData } from '../core/errors';
import { loadDefault } from './load-module';
import type { HostCommand, HostData, HostReport, Runner } from './worker-types';

// (not `module`: in a CommonJS file that name is taken)
const { runner, module: userModule, index, setup, control: port } = (workerData as { rxwire: HostData }).rxwire;
// A throw that ends this thread (from a timer, a rejection nobody handles) lets what its ends hold go first.
sendQueuedAtCrash();

function report(message: HostReport): void {
  port.postMessage(message);
}

async function main(): Promise<void> {
  const { run } = require(runner) as Runner;
  const userExport = await loadDefault(userModule, 'worker');
  let release = () => {};
  try {
    const outcome = await run(userExport, setup, index);
    release = outcome.release;
    report({ type: 'result', value: outcome.value });
  } catch (err) {
    report({ type: 'error', error: toErrorData(err), forwarded: err instanceof RemoteError });
  }
  // The parent answers once every sibling is done with this worker's rings.
  port.once('message', (command: HostCommand) => {
    if (command.type !== 'release') return;
    release();
    port.close();
  });
}

main().catch((err) => report({ type: 'error', error: toErrorData(err), forwarded: false }));
