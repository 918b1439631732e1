import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import type { Codec } from '../core/codec';
import { route, type KeyValue } from '../core/hash';
import type { AllocateOptions, ChannelId, WorkerContext } from '../runtime/context';

/**
 * Inside a runtime worker: sends each value to the worker its key hashes to,
 * and emits every value that any worker routed here.
 *
 * ## Example
 * ```ts
 * import { codec, type WorkerContext } from 'rxwire';
 * import { exchange } from 'rxwire/operators';
 * const Word = codec({ type: 'record', name: 'Word', fields: [{ name: 'text', type: 'string' }] } as const);
 * export default (worker: WorkerContext) =>
 *   words$.pipe(
 *     exchange(worker, 'words', Word, (w) => w.text),   // each word to one worker
 *     reduce((counts, w) => counts.set(w.text, (counts.get(w.text) ?? 0) + 1), new Map()),
 *   );
 * ```
 *
 * A value goes to worker `keyHash(key(value)) % worker.peers` (`keyHash` in
 * core/hash.ts): computed from the key's value, never from object identity, so
 * every thread, process and machine routes a key alike. All values with equal
 * keys thus meet at one worker, in the order their sender emitted them (each
 * link is FIFO); values from different senders interleave.
 *
 * Every worker must apply `exchange` with the same `channel` (it allocates
 * that channel; subscribe once). The output completes when this worker's
 * source and every peer's source have completed; an error of the source, a
 * key function that throws, or a key that is not a string, number, bigint or
 * boolean errors the output here and ends the stream to every peer with that
 * error (they see `RemoteError`).
 *
 * Backpressure: an RxJS source cannot be paused, so what the peers cannot
 * take yet waits in memory. The default `maxQueue` here is therefore
 * `Infinity`; pass a number to bound it, and a sender that goes over it
 * errors the stream with `QueueFullError`.
 *
 * @param worker the context the worker's function was given
 * @param channel the channel's name, the same in every worker
 * @param codec the values' schema
 * @param key the routing key of a value
 * @param options link options (see `AllocateOptions`)
 * @returns an operator emitting what was routed to this worker
 */
export function exchange<T>(
  worker: WorkerContext,
  channel: ChannelId,
  codec: Codec<T>,
  key: (value: T) => KeyValue,
  options: AllocateOptions = {},
): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      const { senders, receiver } = worker.allocate(channel, codec, { maxQueue: Infinity, ...options });
      const peers = senders.length;
      const fail = (err: unknown) => {
        for (const sender of senders) sender.error(err);
        subscriber.error(err);
      };
      // Unsubscribed early: this worker sends no more on this channel.
      subscriber.add(() => {
        for (const sender of senders) sender.complete();
      });
      subscriber.add(receiver.subscribe(subscriber));
      subscriber.add(
        source.subscribe({
          next: (value) => {
            let target: number;
            try {
              target = route(key(value), peers);
            } catch (err) {
              return fail(err);
            }
            senders[target].next(value);
          },
          error: fail,
          complete: () => {
            for (const sender of senders) sender.complete();
          },
        }),
      );
    });
}
