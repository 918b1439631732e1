/* Codecs */
export { codec, codecOfType, raw, isCodec } from './codec';
export type { Codec, CodecOptions, ValueOf } from './codec';
export type { Infer, Schema, AvroPrimitive } from './schema';

/* Subjects */
export { open } from './open';
export type { End, OpenOptions } from './open';
export { WireSubject } from './wire-subject';
export type { WireOptions } from './wire-subject';
export type { WireStats } from './channel';

/* Frames */
export { FrameKind, PROTOCOL_VERSION } from './frame';

/* Runtime */
export { startWorker } from './worker';
export type { StartWorkerOptions } from './worker';
export { initialize } from './runtime/initialize';
export type { Guards } from './runtime/initialize';
export { Config } from './runtime/config';
export type { ThreadConfig, ProcessConfig, ClusterConfig, ClusterOptions, ConfigLike } from './runtime/config';
export { freeLocalHosts } from './runtime/hosts';
export type { HostAddress } from './runtime/hosts';
export type { WorkerContext, Channels, Sender, ChannelId, AllocateOptions } from './runtime/context';
export type { WorkerResult } from './runtime/run';
export type { ModuleRef } from './load-module';
export { WorkerPool } from './pool/pool';
export type { PoolOptions } from './pool/pool';
export type { PoolWorker, PoolSender, PoolWorkerFunction } from './pool/types';
export { keyHash, route } from './hash';
export type { KeyValue } from './hash';

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
} from './errors';
export type { ErrorData } from './errors';
