/**
 * Tcp suite runners, rxwire side: the main thread listens with
 * `tcp.listen({ host: '127.0.0.1', port: 0 })`, the `tcp-wire-count` worker
 * connects with `tcp.connect`; both open the channel by name, the main side
 * sends with `wire.trySend(v)` and `await wire.send(v)` when it is refused
 * (the window or the socket's write buffer is full), the worker decodes and
 * counts. Timed as `timeSends` does it; server, connection and worker are set
 * up before the clock and all closed after it, each repetition.
 */
import { firstValueFrom } from 'rxjs';
import { raw, type Codec } from '../../core/codec';
import type { WireSubject } from '../../core/wire-subject';
import { tcp } from '../../transports';
import type { Runner, Sample } from '../harness';
import { timeSends, trySendRange, type SendRange, type ThroughputSize } from '../port/throughput';
import { bytesPool, type BytesSize } from '../shm/bytes';
import { POOL_MASK, Trade, tradePool } from '../trade';
import { startBenchWorker } from '../worker-host';
import type { TcpWireCountData } from '../workers/tcp-wire-count.worker';
import { BYTES_MASK, BYTES_POOL, HOST, heldName, withMbps } from './throughput';

/** How long the main side waits for the worker to close the connection after the channel completed. */
const CLOSE_GRACE_MS = 2000;

/** rxwire: Trades over a WireSubject on a tcp connection (`conn.open('trades', Trade)`), `trySend` / `await send`. */
export function tcpWireThroughput(size: ThroughputSize): Runner {
  const pool = tradePool();
  return {
    name: 'WireSubject over tcp',
    run: () => withWireLink('trades', Trade, { kind: 'trade', count: size.warmup + size.n, warmup: size.warmup }, pool, POOL_MASK, size),
  };
}

/**
 * rxwire: `bytes`-byte payloads over a WireSubject with the `raw` codec on a
 * tcp connection, `trySend` / `await send`; the worker first holds
 * `appStateBytes` of live objects (workers/app-state.ts).
 */
export function tcpBytesThroughput(size: BytesSize, appStateBytes = 0): Runner {
  const pool = bytesPool(size.bytes, BYTES_POOL);
  const data = { kind: 'bytes', count: size.warmup + size.n, warmup: size.warmup, mask: BYTES_MASK, appStateBytes } as const;
  return {
    name: `WireSubject raw over tcp${heldName(appStateBytes)}`,
    run: async () =>
      withMbps(
        await withWireLink('frames', raw, data, pool, BYTES_MASK, size),
        size.bytes,
      ),
  };
}

async function withWireLink<T>(
  channel: string,
  codec: Codec<T>,
  data: Omit<TcpWireCountData, 'host' | 'port' | 'channel'>,
  pool: readonly T[],
  mask: number,
  size: ThroughputSize,
): Promise<Sample> {
  const server = await tcp.listen({ host: HOST, port: 0 });
  const accepted = firstValueFrom(server.connections$);
  // If the worker never connects, closing the server completes connections$
  // and `accepted` rejects (EmptyError) unobserved: the worker's own failure
  // is what the case reports.
  accepted.catch(() => undefined);
  const workerData: TcpWireCountData = { ...data, channel, host: HOST, port: server.port };
  const bench = startBenchWorker('tcp-wire-count', workerData, []);
  let conn: tcp.TcpConnection | undefined;
  let wire: WireSubject<T> | undefined;
  const send: SendRange = async (from, to) => {
    if (!wire) {
      conn = await accepted;
      wire = conn.open(channel, codec);
    }
    await trySendRange(wire, pool, mask, from, to);
  };
  try {
    return await timeSends(bench, size, send);
  } finally {
    // Complete the channel; the worker then closes the connection and exits.
    wire?.close();
    if (conn) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS)));
      await Promise.race([conn.closed.catch(() => {}), grace]);
      clearTimeout(timer);
    }
    await server.close();
    await bench.stop();
  }
}
