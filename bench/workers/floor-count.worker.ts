/**
 * The floor's reader (bench/floor/sab-ring.ts): reads `count` records from a
 * floor ring and reports `warm` after `warmup`, `done` after `count`.
 *   - `avro`: variable records, each decoded with plain avsc
 *     (`type.decode(buf, pos)`, no checks beyond avsc's own), its `id`
 *     checked against the sequence (order, nothing lost);
 *   - `fixed`: fixed slots of `slot` bytes, the first byte checked
 *     against the sequence `& 255`; the body is not copied (a view).
 * The consumed cursor is stored once per `read` pass, as a real ring would.
 */
import * as avro from 'avsc';
import { parentPort, workerData } from 'node:worker_threads';
import { HEAD, SKIP, TAIL, mapFloorRing, waitChange } from '../floor/sab-ring';
import type { WorkerReport } from './protocol';

const { ring, count, warmup, form, slot, schema, idMask } = workerData as {
  idMask: number;
  ring: SharedArrayBuffer;
  count: number;
  warmup: number;
  form: 'avro' | 'fixed';
  slot: number;
  schema: object;
};
const report = (r: WorkerReport) => parentPort!.postMessage(r);
const { header, data, mask } = mapFloorRing(ring);
const type = form === 'avro' ? avro.Type.forSchema(schema as avro.Schema) : undefined;

let received = 0;
let outOfOrder = 0;
let tail = 0;
report({ kind: 'ready' });
while (received < count) {
  const head = Atomics.load(header, HEAD);
  if (head === tail) {
    if (!waitChange(header, HEAD, head)) break;
    continue;
  }
  const before = received;
  while (tail !== head) {
    const at = tail & mask;
    if (form === 'fixed') {
      if (data[at] !== (received & 255)) outOfOrder++;
      tail = (tail + slot) | 0;
    } else {
      const length = data.readUInt32LE(at);
      if (length === SKIP) {
        tail = (tail + (mask + 1 - at)) | 0;
        continue;
      }
      const value = type!.decode(data, at + 4).value as { id: number };
      if (value.id !== (received & idMask)) outOfOrder++;
      tail = (tail + 4 + length) | 0;
    }
    received++;
  }
  Atomics.store(header, TAIL, tail);
  Atomics.notify(header, TAIL);
  if (before < warmup && received >= warmup) report({ kind: 'warm', received });
}
if (received === count) report({ kind: 'done', received, outOfOrder });
else report({ kind: 'failed', message: `floor-count: ${received} of ${count} records, then nothing for 10 s` });
