/**
 * Suite `nats`: rxwire over a real nats-server (examples/nats-server.ts),
 * each figure against the raw `@nats-io` client doing the same work in the
 * same run. Each part adds its cases here with one line.
 */
import type { Case, Suite } from '../harness';
import { natsChannelCases } from '../nats/channel';

export const natsSuite: Suite = {
  name: 'nats',
  title: 'rxwire over a local nats-server vs the raw @nats-io client: channel msgs/s',
  cases({ quick }): Case[] {
    return [
      ...natsChannelCases({ quick }),
    ];
  },
};
