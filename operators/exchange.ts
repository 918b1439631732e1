import { Observable, tap, type MonoTypeOperatorFunction } from 'rxjs';
import { isCodec, type Codec } from '../core/codec';
import { failedHere, isRemote } from '../core/errors';
import { keyHash, type KeyValue } from '../core/hash';
import { ALLOCATE_OPTIONS, type AllocateOptions, type ChannelId, type WorkerContext } from '../runtime/context';
import { checkKnown } from '../core/options';

/** Options of {@link exchange}: what to route and how, plus the links' own options. */
export interface ExchangeOptions<T> extends AllocateOptions {
  /** The context the worker's function was given. */
  worker: WorkerContext;
  /** The channel's name (a string or a number), the same in every worker. */
  channel: ChannelId;
  /** The values' codec. */
  codec: Codec<T>;
  /** The routing key of a value: a string, number, bigint or boolean. */
  key: (value: T) => KeyValue;
}

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
 *     exchange({ worker, channel: 'words', codec: Word, key: (w) => w.text }),   // each word to one worker
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
 * error (they see `RemoteError`). Unsubscribing early ends this worker's
 * side too: it completes a turn of the event loop later, unless the
 * worker's function has failed by then (an error downstream of `exchange`),
 * when the peers get that failure instead.
 *
 * Backpressure: an RxJS source cannot be paused, so what the peers cannot
 * take yet waits in memory. The default `maxQueue` here is therefore
 * `Infinity`; pass a number to bound it, and a sender that goes over it
 * errors the stream with `QueueFullError`.
 *
 * @param options the worker, channel, codec and key, and the links' options
 *   (see {@link ExchangeOptions} and `AllocateOptions`)
 * @returns an operator emitting what was routed to this worker
 * @throws TypeError at once when `worker`, `channel`, `codec` or `key` is
 *   missing or of the wrong type (naming it); the links' options are checked
 *   when the channel is allocated, at subscribe
 */
export function exchange<T>(options: ExchangeOptions<T>): MonoTypeOperatorFunction<T> {
  const { worker, channel, codec, key, ...linkOptions } = checkOptions(options);
  return (source) =>
    new Observable<T>((subscriber) => {
      // An explicit `maxQueue: undefined` is the default here too (Infinity), not the WireSubject's 65536.
      const { senders, receiver } = worker.allocate(channel, codec, { ...linkOptions, maxQueue: linkOptions.maxQueue ?? Infinity });
      const peers = senders.length;
      // Every sender errors before the output does (the output's error runs the teardown below).
      const fail = (err: unknown) => {
        for (const sender of senders) sender.error(err);
        subscriber.error(err);
      };
      // Unsubscribed early: this worker sends no more on this channel. Its senders complete a turn later, not
      // now: when the unsubscribe comes from an error downstream that fails the worker's function, the runtime
      // errors them first (Peers.finish), and the peers see that failure, not this side completing.
      subscriber.add(() =>
        setImmediate(() => {
          for (const sender of senders) sender.complete(); // (the runtime closes its wires, never unsubscribes them: no throw)
        }),
      );
      subscriber.add(
        receiver.subscribe({
          next: (value) => subscriber.next(value),
          // A failure of this worker's own (a value for a peer that did not fit its link, which that link's
          // incoming side also reports here, first) reaches every peer as an error, not as this side completing;
          // a peer's failure came to every worker from that peer already.
          error: (err: unknown) => (isRemote(err) ? subscriber.error(err) : fail(err)),
          complete: () => subscriber.complete(),
        }),
      );
      const route = (value: T): void => {
        // route(), without re-checking `peers` per value (the runtime gives at least 1).
        const sender = senders[keyHash(key(value)) % peers];
        sender.next(value);
        if (failedHere(sender)) throw sender.thrownError; // a value that did not fit: this stream's error, as it is
      };
      // Routed inside `tap`: a throw there (a key, a value that did not fit) stops a synchronous source at once,
      // as RxJS's own operators do, instead of running it to its end after the output has failed.
      subscriber.add(
        source.pipe(tap(route)).subscribe({
          error: fail,
          complete: () => {
            for (const sender of senders) sender.complete();
          },
        }),
      );
    });
}

const KNOWN: Record<keyof ExchangeOptions<unknown>, true> = { ...ALLOCATE_OPTIONS, worker: true, channel: true, codec: true, key: true };

/** Validates `exchange`'s options at the door, naming the one at fault. */
function checkOptions<T>(options: ExchangeOptions<T>): ExchangeOptions<T> {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('exchange: options must be an object { worker, channel, codec, key }');
  }
  checkKnown(options, KNOWN, 'exchange: options');
  const { worker, channel, codec, key } = options;
  if (typeof worker !== 'object' || worker === null || typeof worker.allocate !== 'function') {
    throw new TypeError("options.worker must be the WorkerContext the worker's function was given");
  }
  if (typeof channel !== 'string' && typeof channel !== 'number') throw new TypeError('options.channel must be a string or a number');
  if (!isCodec(codec)) throw new TypeError('options.codec must be a codec (from codec(schema), or raw)');
  if (typeof key !== 'function') throw new TypeError('options.key must be a function of a value');
  return options;
}
