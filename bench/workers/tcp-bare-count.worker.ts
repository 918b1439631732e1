/**
 * Tcp suite worker, bare baseline: connects a plain `net` socket to the main
 * side's server, splits what arrives into length-prefixed records
 * (`RecordParser`) and counts them. Trades are decoded with avsc
 * (`Type.decode` in place) and their ids checked (FIFO, nothing lost);
 * byte payloads are received as buffers the worker owns (a view of the read
 * chunk, or a fresh buffer for one that straddles reads) and their first
 * byte checked. Reports `ready` once connected, `warm` after `warmup`
 * records, `done` after `count`; ends its side when the main side ends its,
 * then exits.
 */
import * as net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { RecordParser, tradeType, type OnRecord } from '../tcp/bare';
import { POOL_MASK } from '../trade';
import { holdAppState } from './app-state';
import type { WorkerReport } from './protocol';

/** workerData of `tcp-bare-count`. */
export interface TcpBareCountData {
  /** Where the main side listens. */
  readonly host: string;
  readonly port: number;
  /** `trade`: Avro Trades, id i & POOL_MASK; `bytes`: payloads whose first byte is i & mask. */
  readonly kind: 'trade' | 'bytes';
  readonly count: number;
  readonly warmup: number;
  /** `bytes` only. */
  readonly mask?: number;
  /** Bytes of live application state this worker holds before it connects (app-state.ts); default 0. */
  readonly appStateBytes?: number;
}

const { host, port, kind, count, warmup, mask = 0, appStateBytes = 0 } = workerData as TcpBareCountData;
holdAppState(appStateBytes);
const report = (r: WorkerReport) => parentPort!.postMessage(r);

let received = 0;
let outOfOrder = 0;
const counted = () => {
  if (++received === warmup) report({ kind: 'warm', received });
  if (received === count) report({ kind: 'done', received, outOfOrder });
};

let onRecord: OnRecord;
if (kind === 'trade') {
  const type = tradeType();
  onRecord = (buffer, start, end) => {
    const { value, offset } = type.decode(buffer, start) as { value: { id: number }; offset: number };
    if (offset !== end || value.id !== (received & POOL_MASK)) outOfOrder++;
    counted();
  };
} else {
  onRecord = (buffer, start, end) => {
    // The payload as the application would keep it: no copy when it lies in one read.
    const payload = buffer.subarray(start, end);
    if (payload[0] !== (received & mask)) outOfOrder++;
    counted();
  };
}

const parser = new RecordParser(onRecord, { fresh: kind === 'bytes' });
const socket = net.connect({ host, port, noDelay: true }, () => report({ kind: 'ready' }));
socket.on('data', (chunk: Buffer) => {
  try {
    parser.push(chunk);
  } catch (err) {
    report({ kind: 'failed', message: (err as Error).message });
    socket.destroy();
  }
});
socket.on('end', () => socket.end());
socket.on('error', (err) => report({ kind: 'failed', message: err.message }));
