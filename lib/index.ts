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
