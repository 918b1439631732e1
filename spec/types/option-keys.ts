/**
 * Type-level test: the option keys that APIs check at the door (core/options.ts)
 * are every key of their options types, so an option added to a type and not
 * to its list fails to compile here. (The other lists are typed where they
 * are declared.)
 */
import type { ClientOptions } from '../../operators/client';
import type { ServeOptions } from '../../operators/serve';
import { RPC_OPTIONS } from '../../operators/request-internals';

export const clientKeys: Record<keyof ClientOptions<unknown, unknown>, true> = RPC_OPTIONS.client;
export const serveKeys: Record<keyof ServeOptions<unknown, unknown>, true> = RPC_OPTIONS.serve;
