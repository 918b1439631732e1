/**
 * A flooding producer for the burstRecv tests: sends 0 .. count-1 as `long`s
 * as fast as the transport takes them. Whenever the flag in `flag` (an
 * Int32Array over a SharedArrayBuffer, stored by the consumer) changes to f,
 * it sends the marker -f at once. Reports how many markers it sent on
 * parentPort, then completes the wire.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { codec } from '../../core/codec';
import { open } from '../../transports/open';

const { end, count, flag, windowBytes } = workerData as { end: never; count: number; flag: SharedArrayBuffer; windowBytes: number };
const wire = open(end, codec('long'), (end as { transport?: string }).transport === 'port' ? { windowBytes } : {});
const seen = new Int32Array(flag);

(async () => {
  let last = 0;
  let markers = 0;
  for (let i = 0; i < count; i++) {
    const f = Atomics.load(seen, 0);
    if (f !== last) {
      last = f;
      markers++;
      await wire.send(-f);
    }
    await wire.send(i);
  }
  parentPort!.postMessage({ markers });
  wire.complete();
})().catch((err) => parentPort!.postMessage({ error: `${err.name}: ${err.message}` }));
