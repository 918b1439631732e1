/**
 * The server side of `durable()`: the stream and the consumer, created when
 * missing, and the one mapping of the client's errors onto rxwire's typed
 * errors.
 */
import { JetStreamApiError, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { RemoteError, TimeoutError, TransportClosedError, type RxwireError } from '../../../core/errors';
import { consumerConfig, streamConfig, type ResolvedOptions } from './options';

/** JetStream's API error code for "stream not found" and "consumer not found". */
export const STREAM_NOT_FOUND = 10059;
export const CONSUMER_NOT_FOUND = 10014;

function apiCode(err: unknown): number | undefined {
  return err instanceof JetStreamApiError ? err.code : undefined;
}

/**
 * Makes sure the stream exists and takes `o.subject`: creates it from the
 * options when missing; an existing stream is used as it is, but must list
 * the subject (else a RemoteError saying so).
 */
export async function ensureStream(jsm: JetStreamManager, o: ResolvedOptions): Promise<void> {
  try {
    const info = await jsm.streams.info(o.stream);
    if (!info.config.subjects?.includes(o.subject)) {
      throw new RemoteError({ name: 'JetStreamConfigError', message: `stream ${o.stream} exists but does not take subject ${o.subject} (its subjects: ${(info.config.subjects ?? []).join(', ')})`, code: null, stack: null });
    }
  } catch (err) {
    if (apiCode(err) !== STREAM_NOT_FOUND) throw err;
    await jsm.streams.add(streamConfig(o));
  }
}

/**
 * The name of the consumer to read through: the durable one (created from
 * the options when missing, used as it is when it exists), or a new
 * ephemeral one.
 */
export async function ensureConsumer(jsm: JetStreamManager, o: ResolvedOptions): Promise<string> {
  if (o.durable !== undefined) {
    try {
      await jsm.consumers.info(o.stream, o.durable);
      return o.durable;
    } catch (err) {
      if (apiCode(err) !== CONSUMER_NOT_FOUND) throw err;
    }
  }
  const info = await jsm.consumers.add(o.stream, consumerConfig(o));
  return info.name;
}

/** A JetStream manager for `nc` (one API round trip). */
export function manager(nc: NatsConnection): Promise<JetStreamManager> {
  return jetstreamManager(nc);
}

/**
 * Any failure of the client as one of rxwire's typed errors: the connection
 * closed → TransportClosedError; no answer in time → TimeoutError; an
 * answer of the server's JetStream API, or anything else → RemoteError
 * (`remoteName` the client's error name, `remoteCode` JetStream's error
 * code when there is one). rxwire's own errors pass through.
 */
export function typed(err: unknown, nc: NatsConnection, what: string): RxwireError {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('ERR_RXWIRE_')) return err as RxwireError;
  const e = err as { name?: string; message?: string; stack?: string } | undefined;
  if (nc.isClosed() || e?.name === 'ClosedConnectionError' || e?.name === 'DrainingConnectionError') return new TransportClosedError(`${what}: the NATS connection is closed`, { cause: err });
  if (e?.name === 'TimeoutError') return new TimeoutError(`${what}: ${e.message ?? 'timed out'}`, { cause: err });
  const code = apiCode(err);
  return new RemoteError({ name: e?.name ?? 'Error', message: `${what}: ${e?.message ?? String(err)}`, code: code === undefined ? null : String(code), stack: e?.stack ?? null });
}

/** Whether a failed publish may be tried again with the same message id (the server may come back). */
export function retryable(err: unknown, nc: NatsConnection): boolean {
  if (nc.isClosed()) return false;
  const name = (err as { name?: string } | undefined)?.name;
  if (name === 'TimeoutError' || name === 'NoRespondersError' || name === 'JetStreamNotEnabled' || name === 'ConnectionError') return true;
  if (name === 'RequestError') return true; // wraps no responders / a disconnect while waiting
  const code = apiCode(err);
  return code === 10008; // "JetStream system temporarily unavailable"
}
