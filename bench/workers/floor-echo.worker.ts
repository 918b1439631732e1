/**
 * The floor's echo (bench/floor/ping-pong.ts): waits for `FLAG` to become
 * `ASK`, decodes the Trade in the shared buffer with plain avsc, encodes it
 * back in place, sets `FLAG` to `ANSWER` and notifies; `count` times.
 * Waiting spins first, then sleeps in `Atomics.wait`.
 */
import * as avro from 'avsc';
import { parentPort, workerData } from 'node:worker_threads';
import { ANSWER, ASK, FLAG, mapPingPong } from '../floor/ping-pong-layout';
import { waitChange } from '../floor/sab-ring';
import type { WorkerReport } from './protocol';

const { sab, count, schema } = workerData as { sab: SharedArrayBuffer; count: number; schema: object };
const report = (r: WorkerReport) => parentPort!.postMessage(r);
const { flag, data } = mapPingPong(sab);
const type = avro.Type.forSchema(schema as avro.Schema);

report({ kind: 'ready' });
let answered = 0;
while (answered < count) {
  const seen = Atomics.load(flag, FLAG);
  if (seen !== ASK) {
    if (!waitChange(flag, FLAG, seen)) break;
    continue;
  }
  const value = type.decode(data, 0).value;
  type.encode(value, data, 0);
  Atomics.store(flag, FLAG, ANSWER);
  Atomics.notify(flag, FLAG);
  answered++;
}
if (answered === count) report({ kind: 'done', received: answered, outOfOrder: 0 });
else report({ kind: 'failed', message: `floor-echo: ${answered} of ${count} round trips, then nothing for 10 s` });
