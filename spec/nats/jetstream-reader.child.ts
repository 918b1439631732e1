/**
 * A reader in its own process for spec/nats/jetstream-crash.spec.ts: reads
 * stream `stream` through durable consumer `durable` and writes one line per
 * value it takes, `<seq> <value> <redelivered 0|1> <values it holds undelivered>`, to stdout with a
 * synchronous write (the line is out before `next` returns, so before the
 * ack). Spins `spinMs` per value (a slow reader). Exits 0 once it has taken
 * `count` values. Arguments: JSON of { url, stream, durable, resumeAfter,
 * count, spinMs, ackWait, batch, maxAckPending }.
 */
import { connect } from '@nats-io/transport-node';
import { writeSync } from 'node:fs';
import { take } from 'rxjs';
import { codec } from '../../core/codec';
import { durable } from '../../transports/nats/jetstream';

async function main(): Promise<void> {
  const a = JSON.parse(process.argv[2]) as { url: string; stream: string; durable: string; resumeAfter: number; count: number; spinMs: number; ackWait: number; batch: number; maxAckPending: number };
  const nc = await connect({ servers: a.url });
  const d = durable({ nc }, a.stream, codec('long'), { durable: a.durable, resumeAfter: a.resumeAfter, ackWait: a.ackWait, batch: a.batch, maxAckPending: a.maxAckPending });
  d.messages$.pipe(take(a.count)).subscribe({
    next: (m) => {
      const end = Date.now() + a.spinMs;
      while (Date.now() < end); // a slow, synchronous reader
      writeSync(1, `${m.seq} ${m.value} ${m.redelivered ? 1 : 0} ${d.stats().buffered}\n`);
    },
    complete: async () => {
      await d.close();
      await nc.close();
    },
    error: (err: unknown) => {
      writeSync(2, `reader error: ${String(err)}\n`);
      process.exit(3);
    },
  });
}

void main();
