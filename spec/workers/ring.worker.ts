/**
 * One side of a bare ring, for the shm tests; `workerData.role` picks it.
 * Both sides run on a Pump with the strategy under test, and report over
 * parentPort (not through the ring).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RecordKind, mapRing } from '../../transports/shm/layout';
import { RingReader, RingWriter } from '../../transports/shm/ring';
import { Pump, type WaitStrategy } from '../../transports/shm/wait';
import { RecordChecker, recordCodec, rng } from '../fixtures/records';

const { role, sab, count, seed, wait, consumer = 0, stamp = false, verifyAfter } = workerData as {
  role: 'produce' | 'consume';
  sab: SharedArrayBuffer;
  count: number;
  seed: number;
  wait: WaitStrategy;
  consumer?: number;
  /** Consumer: mark each record's first payload byte in place (a disruptor stage). */
  stamp?: boolean;
  /** Consumer: check each record already carries the stamp of this earlier consumer. */
  verifyAfter?: number;
};
const memory = mapRing(sab);
const options = { strategy: wait, spinMicros: 50, sliceMs: 100 };

if (role === 'produce') {
  const writer = new RingWriter(memory);
  const codec = recordCodec(rng(seed));
  let seq = 0;
  let sized = false;
  const pump = new Pump(
    memory.header,
    options,
    () => {
      const start = seq;
      // Batch publish: as many records as fit, then one store.
      while (seq < count) {
        if (!sized) codec.nextSize();
        sized = true;
        if (!writer.tryWrite(RecordKind.NEXT, codec, seq)) break;
        sized = false;
        seq++;
        if (seq - start >= 4096) break;
      }
      writer.publish();
      if (seq === count) {
        parentPort!.postMessage({ produced: seq });
        return 'done';
      }
      return seq > start ? 'progress' : 'idle';
    },
    () => writer.hasRoom(),
    () => writer.spaceCell(),
  );
  pump.start();
} else {
  const reader = new RingReader(memory, consumer);
  const checker = new RecordChecker(seed);
  let overtaken = 0;
  const pump = new Pump(
    memory.header,
    options,
    () => {
      const n = reader.read((_kind, data, start, end) => {
        if (verifyAfter !== undefined) {
          // A later stage: every record must carry the earlier stage's stamp.
          if (end - start > 4 && data[start + 4] !== 0xa5) overtaken++;
          if (data.readUInt32LE(start) !== checker.next >>> 0) checker.wrong++;
          checker.next++;
          return;
        }
        checker.check(data, start, end);
        if (stamp && end - start > 4) data[start + 4] = 0xa5;
      });
      reader.release();
      if (checker.next >= count) {
        parentPort!.postMessage({ received: checker.next, wrong: checker.wrong, checksum: checker.checksum, overtaken });
        return 'done';
      }
      return n > 0 ? 'progress' : 'idle';
    },
    () => reader.available() > 0,
    () => reader.dataCell(),
  );
  pump.start();
}
