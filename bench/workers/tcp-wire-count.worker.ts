/**
 * Tcp suite worker, rxwire side: connects to the main side's `tcp.listen`
 * server with `tcp.connect`, opens the channel by name with the Trade codec
 * (or the raw codec) and counts what arrives: each Trade's id, each
 * payload's first byte, is checked (FIFO, nothing lost). Reports `ready`
 * once its channel is open, `warm` after `warmup` values, `done` after
 * `count`. When the main side completes the channel, closes the channel and
 * the connection, then exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { raw } from '../../core/codec';
import type { WireSubject } from '../../core/wire-subject';
import { tcp } from '../../transports';
import { POOL_MASK, Trade } from '../trade';
import { holdAppState } from './app-state';
import type { WorkerReport } from './protocol';

/** workerData of `tcp-wire-count`. */
export interface TcpWireCountData {
  /** Where the main side listens. */
  readonly host: string;
  readonly port: number;
  /** The channel's name, opened on both ends. */
  readonly channel: string;
  /** `trade`: Trades, id i & POOL_MASK; `bytes`: raw payloads whose first byte is i & mask. */
  readonly kind: 'trade' | 'bytes';
  readonly count: number;
  readonly warmup: number;
  /** `bytes` only. */
  readonly mask?: number;
  /** Bytes of live application state this worker holds before it connects (app-state.ts); default 0. */
  readonly appStateBytes?: number;
}

const { host, port, channel, kind, count, warmup, mask = 0, appStateBytes = 0 } = workerData as TcpWireCountData;
holdAppState(appStateBytes);
const report = (r: WorkerReport) => parentPort!.postMessage(r);

async function main(): Promise<void> {
  const conn = await tcp.connect({ host, port });
  let received = 0;
  let outOfOrder = 0;
  const counted = () => {
    if (++received === warmup) report({ kind: 'warm', received });
    if (received === count) report({ kind: 'done', received, outOfOrder });
  };
  const finish = (wire: WireSubject<unknown>) => {
    wire.close();
    void conn.close();
  };
  const fail = (err: Error) => {
    report({ kind: 'failed', message: err.message });
    void conn.close();
  };
  if (kind === 'trade') {
    const wire = conn.open(channel, Trade);
    wire.subscribe({
      next: (t) => {
        if (t.id !== (received & POOL_MASK)) outOfOrder++;
        counted();
      },
      error: fail,
      complete: () => finish(wire as WireSubject<unknown>),
    });
  } else {
    const wire = conn.open(channel, raw);
    wire.subscribe({
      next: (bytes) => {
        if (bytes[0] !== (received & mask)) outOfOrder++;
        counted();
      },
      error: fail,
      complete: () => finish(wire as WireSubject<unknown>),
    });
  }
  report({ kind: 'ready' });
}

main().catch((err: Error) => report({ kind: 'failed', message: `${err.name}: ${err.message}` }));
