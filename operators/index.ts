/* Runtime operators */
export { exchange } from './exchange';
export type { ExchangeOptions } from './exchange';
export { burstRecv } from './burst-recv';
export type { BurstRecvOptions } from './burst-recv';

/* Request/reply */
export { client, RequestClient } from './client';
export type { ClientOptions } from './client';
export { request } from './request';
export type { RequestOptions } from './request';
export type { RpcWire } from './rpc-connection';
export { serve } from './serve';
export type { ServeOptions, Reply } from './serve';
export { rpcCodec, RpcKind } from './request-internals';
export type { RpcEnvelope } from './request-internals';

/* Stages */
export { stage } from './stage';
export type { StageOptions } from './stage';
export { pipeline, step } from './pipeline';
export type { Step, StepOptions } from './pipeline';
