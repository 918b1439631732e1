/**
 * What the process suite's main side and its measuring worker say to each
 * other: the worker's `workerData` (which program, what size) and the one
 * sample it posts back.
 */

/** The programs bench/process/measure.worker.ts can run. */
export type ProgramName =
  | 'nact-spawn'
  | 'nact-ring'
  | 'rxwire-spawn'
  | 'rxwire-ring-one-thread'
  | 'rxwire-ring-two-threads'
  | 'floor-ping-pong-spin'
  | 'floor-ping-pong-wait'
  | 'floor-ring-codec'
  | 'floor-ring-layered';

/** workerData of the measuring worker. */
export interface MeasureData {
  readonly program: ProgramName;
  /** Processes to spawn (spawn programs). */
  readonly n?: number;
  /** Processes in the ring (ring programs). */
  readonly size?: number;
  /** Passes of the token (ring programs). */
  readonly hops?: number;
  /** The node's NodeOptions.wait (rxwire rings; default the node's default). */
  readonly wait?: 'auto' | 'spin' | 'yield' | 'async';
  /** The node's NodeOptions.spinMicros (rxwire rings). */
  readonly spinMicros?: number;
}

/** A spawn program's result: µs per spawn, heap and RSS bytes per live idle process. */
export interface SpawnSample {
  readonly spawnUs: number;
  readonly heapBytes: number;
  readonly rssBytes: number;
  [key: string]: number;
}

/** A ring program's result: token passes per second. */
export interface RingSample {
  readonly rate: number;
  [key: string]: number;
}

/** What the measuring worker posts: its sample, or why it failed. */
export type MeasureReport = { readonly kind: 'sample'; readonly sample: SpawnSample | RingSample } | { readonly kind: 'failed'; readonly message: string };
