/* Codecs */
export { codec, codecOfType, raw, isCodec } from './core/codec';
export type { Codec, CodecOptions, EncodeInput, ValueOf, InputOf } from './core/codec';
export type { Infer, InferInput, Schema, AvroPrimitive } from './core/schema';

/* Subjects */
export { open } from './transports/open';
export type { End, OpenOptions } from './transports/open';
export { WireSubject } from './core/wire-subject';
export type { WireOptions } from './core/wire-subject';
export type { WireStats } from './core/channel';

/* Frames */
export { FrameKind, PROTOCOL_VERSION } from './core/frame';

/* Runtime */
export { startWorker } from './threads/worker';
export type { StartWorkerOptions } from './threads/worker';
export { initialize } from './runtime/initialize';
export type { Guards } from './runtime/initialize';
export { Config } from './runtime/config';
export type { ThreadConfig, ProcessConfig, ClusterConfig, ClusterOptions, ConfigLike } from './runtime/config';
export type { NatsClusterConfig, NatsClusterOptions } from './runtime/config';
export { freeLocalHosts } from './runtime/hosts';
export type { HostAddress } from './runtime/hosts';
export type { WorkerContext, Channels, Sender, ChannelId, AllocateOptions } from './runtime/context';
export type { WorkerResult } from './threads/run';
export type { ModuleRef } from './threads/load-module';
export { WorkerPool } from './pool/pool';
export type { PoolOptions } from './pool/pool';
export type { PoolWorker, PoolSender, PoolWorkerFunction } from './pool/types';
export { keyHash, route } from './core/hash';
export type { KeyValue } from './core/hash';

/* Errors */
export {
  ErrorCode,
  RxwireError,
  EncodeError,
  DecodeError,
  FrameError,
  SchemaMismatchError,
  RemoteError,
  QueueFullError,
  TransportClosedError,
  TimeoutError,
  WorkerError,
  AuthError,
  ClusterError,
} from './core/errors';
export { GapError, ChannelTakenError } from './core/errors';
export type { ErrorData } from './core/errors';

/* Errors of typed protocols and supervisors (rxwire/processes) */
export { ProtocolError, ProtocolDroppedError, RestartLimitError } from './core/errors';
export { NoRespondersError } from './core/errors';
