/**
 * The cluster's channel between two workers of different processes over a
 * NATS connection: the port transport's session (frames in batches, HELLO,
 * credit, endings, errors) on a link of two subjects. This is the one
 * function the cluster opens channels with (`NatsChannelOpener`); it is
 * written to be swapped for the `transports/nats/` channel
 * (`conn.open(name, codec)`) when that lands, with nothing else to change.
 *
 * The link. End `side` (0 for the lower worker index, 1 for the higher)
 * reads `rxwire.ch.<name>.<side>` and publishes to the other one. NATS keeps
 * nothing for a subject nobody reads, so neither end publishes a frame
 * before it knows the other reads: each subscribes, then publishes an empty
 * message (a probe) to the other; on the first probe it receives it knows the
 * other reads, publishes one probe back (the other may have missed its first)
 * and posts what it held. Of two probes at least one arrives (whoever
 * subscribed second published after both were subscribed), so both ends
 * start. Later probes are ignored. Per publisher, NATS delivers in order,
 * so frames arrive FIFO; a batch is never larger than the server's
 * `max_payload`.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Codec } from '../core/codec';
import { FRAME_HEADER } from '../core/frame';
import { WireSubject, type WireOptions } from '../core/wire-subject';
import { openPortChannel } from '../transports/port/channel';
import type { Link } from '../transports/port/link';

/** Opens the channel `name` of this end (`side`) over `nc`: the seam the cluster plugs its channels into. */
export type NatsChannelOpener = (
  nc: NatsConnection,
  name: string,
  side: 0 | 1,
  codec: Codec<unknown>,
  options: WireOptions & { window?: number },
) => WireSubject<unknown>;

/** The default opener: the port session over a NATS link (see the top of this file). */
export const openNatsChannel: NatsChannelOpener = (nc, name, side, codec, options) => {
  const { window, ...wire } = options;
  const maxPayload = nc.info?.max_payload ?? 1 << 20;
  // A batch is posted past half the payload limit, so with one more value
  // (at most the other half) it still fits in one message.
  const half = Math.floor(maxPayload / 2);
  return new WireSubject(
    (sink) =>
      openPortChannel(natsLink(nc, `rxwire.ch.${name}`, side), codec, sink, {
        windowBytes: window ?? 1 << 20,
        batchBytes: half,
        maxFrameBytes: half - FRAME_HEADER,
      }),
    codec,
    wire,
  );
};

/** A port `Link` over two NATS subjects (see the top of this file). */
function natsLink(nc: NatsConnection, base: string, side: 0 | 1): Link {
  const inbound = `${base}.${side}`;
  const outbound = `${base}.${1 - side}`;
  let held: Uint8Array[] | undefined = [];
  let sub: Subscription | undefined;
  let watching: Promise<void> | undefined;
  let closed = false;
  const publish = (bytes: Uint8Array) => {
    if (!closed && !nc.isClosed()) nc.publish(outbound, bytes);
  };
  return {
    post(bytes) {
      if (held) held.push(bytes);
      else publish(bytes);
    },
    listen(onMessage, onClose) {
      sub = nc.subscribe(inbound, {
        callback: (err, msg) => {
          if (err || closed) return; // err: the subscription ended, as onClose below reports
          if (msg.data.length > 0) onMessage(msg.data);
          else if (held) {
            const waiting = held;
            held = undefined;
            publish(new Uint8Array(0));
            for (const bytes of waiting) publish(bytes);
          }
        },
      });
      publish(new Uint8Array(0));
      // The connection ended under the link: its peer is unreachable now.
      watching = nc.closed().then(() => {
        if (!closed) onClose();
      });
    },
    close() {
      closed = true;
      held = undefined;
      sub?.unsubscribe();
      void watching;
    },
    ref() {}, // the connection keeps the event loop alive while it is open
    unref() {},
  };
}
