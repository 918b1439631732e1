/**
 * Tcp suite runners, bare baseline: the main thread listens on 127.0.0.1
 * (an ephemeral port), the `tcp-bare-count` worker connects and counts; the
 * main side writes with the helpers of `bare.ts`. Timed as every throughput
 * of the suites (`timeSends`): `warmup` values untimed, then the clock runs
 * from the first of `n` writes to the worker's report that it has them all.
 * Server, socket and worker are set up before the clock and all closed
 * after it, each repetition.
 */
import { once } from 'node:events';
import * as net from 'node:net';
import type { Runner, Sample } from '../harness';
import { timeSends, type SendRange, type ThroughputSize } from '../port/throughput';
import { bytesPool, type BytesSize } from '../shm/bytes';
import { POOL_MASK, tradePool } from '../trade';
import { startBenchWorker, type BenchWorker } from '../worker-host';
import type { TcpBareCountData } from '../workers/tcp-bare-count.worker';
import { BATCH_BYTES, BatchWriter, FrameWriter, tradeType } from './bare';

/** The loopback address every tcp case uses. */
export const HOST = '127.0.0.1';

/** Distinct byte payloads cycled through (as the shm suite's); a power of two. */
export const BYTES_POOL = 16;
export const BYTES_MASK = BYTES_POOL - 1;

/** How the bare sender uses its socket. */
export interface BareOptions {
  /** Bytes per `write()` (Trades), default {@link BATCH_BYTES}. */
  readonly batchBytes?: number;
  /** The socket's `writableHighWaterMark`, default {@link BARE_HIGH_WATER_MARK}. */
  readonly highWaterMark?: number;
  /** Bytes of live application state the receiving worker holds (workers/app-state.ts), default 0. */
  readonly appStateBytes?: number;
}

/** The suffix a runner's name gets when its worker holds application state. */
export function heldName(appStateBytes: number): string {
  return appStateBytes > 0 ? `, worker holding ${Math.round(appStateBytes / (1 << 20))} MiB` : '';
}

/** The bare sender's write-buffer bound: the same as the tcp transport's default `highWaterMark`. */
export const BARE_HIGH_WATER_MARK = 1 << 20;

/**
 * Baseline: Trades encoded with avsc (`Type.encode`, no validation) into one
 * reusable arena, each behind a u32 length, written ~64 KiB per `write()`,
 * waiting for `'drain'` when `write()` returns false; the worker parses and
 * decodes each one.
 */
export function bareTradeThroughput(size: ThroughputSize, options: BareOptions = {}): Runner {
  const { batchBytes = BATCH_BYTES } = options;
  const pool = tradePool();
  const type = tradeType();
  const encode = (value: unknown, buffer: Buffer, offset: number) => type.encode(value, buffer, offset);
  return {
    name: `bare net + avsc, ${batchBytes / 1024} KiB batches`,
    run: () =>
      withBareLink({ kind: 'trade', count: size.warmup + size.n, warmup: size.warmup }, options, (accepted, bench) => {
        let writer: BatchWriter<unknown> | undefined;
        const send: SendRange = async (from, to) => {
          writer ??= new BatchWriter(await accepted, encode, batchBytes);
          await writer.writeRange(pool, POOL_MASK, from, to);
          await writer.end();
        };
        return timeSends(bench, size, send);
      }),
  };
}

/**
 * Baseline: `bytes`-byte payloads, each written as a u32 length and the
 * payload itself (corked: one `writev` per group, no copy), waiting for
 * `'drain'` when `write()` returns false; the worker splits them back out.
 */
export function bareBytesThroughput(size: BytesSize, options: BareOptions = {}): Runner {
  const pool = bytesPool(size.bytes, BYTES_POOL);
  return {
    name: `bare net, length + payload (writev)${heldName(options.appStateBytes ?? 0)}`,
    run: () =>
      withBareLink({ kind: 'bytes', count: size.warmup + size.n, warmup: size.warmup, mask: BYTES_MASK, appStateBytes: options.appStateBytes }, options, async (accepted, bench) => {
        let writer: FrameWriter | undefined;
        const send: SendRange = async (from, to) => {
          writer ??= new FrameWriter(await accepted, pool);
          await writer.writeRange(BYTES_MASK, from, to);
        };
        const sample = await timeSends(bench, size, send);
        return withMbps(sample, size.bytes);
      }),
  };
}

/** Adds `mbps` (payload MB/s, 1 MB = 10^6 B) to a sample with `rate` (values/s). */
export function withMbps(sample: Sample, bytes: number): Sample {
  return { rate: sample.rate, mbps: (sample.rate * bytes) / 1e6 };
}

/**
 * Listens on `HOST`, starts `tcp-bare-count` to connect to it, runs `body`
 * with the socket the server will accept (a promise: `timeSends` first
 * waits for the worker's `ready`, posted once it has connected), then ends
 * the socket, waits for it to close, closes the server and waits for the
 * worker to exit.
 */
async function withBareLink(
  data: Omit<TcpBareCountData, 'host' | 'port'>,
  options: BareOptions,
  body: (socket: Promise<net.Socket>, bench: BenchWorker) => Promise<Sample>,
): Promise<Sample> {
  let socket: net.Socket | undefined;
  const server = net.createServer({ noDelay: true, highWaterMark: options.highWaterMark ?? BARE_HIGH_WATER_MARK });
  let failure: Error | undefined;
  const accepted = new Promise<net.Socket>((resolve) =>
    server.once('connection', (s: net.Socket) => {
      // A reset (the worker failed) closes the socket; `drained` then rejects
      // and the failure is reported here rather than as an unhandled 'error'.
      s.on('error', (err) => (failure ??= err));
      resolve((socket = s));
    }),
  );
  server.listen(0, HOST);
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const workerData: TcpBareCountData = { ...data, host: HOST, port };
  const bench = startBenchWorker('tcp-bare-count', workerData, []);
  try {
    return await body(accepted, bench);
  } catch (err) {
    throw failure ? new Error(`${(err as Error).message} (socket: ${failure.message})`, { cause: err }) : err;
  } finally {
    if (socket && !socket.destroyed) {
      const closed = once(socket, 'close');
      socket.end();
      await closed;
    }
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await bench.stop();
  }
}
