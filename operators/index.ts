/* Runtime operators */
export { exchange } from './exchange';
export { burstRecv } from './burst-recv';
export type { BurstRecvOptions } from './burst-recv';
