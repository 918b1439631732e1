/**
 * A WireSubject's callbacks run user code synchronously (subscribers,
 * `stats$`, `bursts$`), and that code may call back into the same wire: send,
 * complete, close. Each case here is one way such a call landed inside a
 * loop of the wire's own and lost, duplicated or reordered values; every one
 * failed before its fix (core/outbox.ts, core/session-out.ts, core/inbox.ts).
 */
import { lastValueFrom, toArray } from 'rxjs';
import { codec } from '../../core/codec';
import { port } from '../../transports';
import { open } from '../../transports/open';
import { TRANSPORTS, pairOf, until } from '../helpers';

const Text = codec('string');
const label = (i: number) => `v${String(i).padStart(18, '0')}`;
const labels = (n: number) => Array.from({ length: n }, (_, i) => label(i));

describe('a wire called back into from its own callbacks', () => {
  it('an echo on one wire (a.subscribe(a)) sends every value before the ending it echoes', async () => {
    // The echo's way out holds 100 bytes: it queues, and stops reading, until the client reads. When room
    // comes, the drain resumes reading; the client's COMPLETE, held meanwhile, is delivered inside that
    // drain and completes the echo's way out while values still waited: before, they were never sent.
    const [ea, eb] = port.pair();
    const echo = open(ea, Text, { windowBytes: 100 });
    const client = open(eb, Text, { windowBytes: 1 << 20, batchBytes: 64 });
    echo.subscribe(echo);
    const n = 200;
    for (const value of labels(n)) client.next(value);
    client.complete();
    await until(() => echo.stats().queued > 0);
    const got = await lastValueFrom(client.pipe(toArray()));
    expect(got).toEqual(labels(n));
    expect(echo.stats()).toMatchObject({ sent: n, queued: 0, dropped: 0 });
    echo.close();
    client.close();
  });

  it('a stats$ subscriber that completes the wire while held values go out sends each value once', async () => {
    // 300 values taken before the reader accepted (held); writing them flushes, and the flush's stats
    // reach a subscriber that completes the wire: before, the nested write sent the head value twice.
    const [ea, eb] = port.pair();
    const writer = open(ea, Text, { batchBytes: 64 * 1024 });
    const n = 300;
    const big = (i: number) => label(i) + 'x'.repeat(1000);
    for (let i = 0; i < n; i++) writer.next(big(i));
    let completed = false;
    const stats = writer.stats$.subscribe((s) => {
      if (completed || s.sent === 0) return;
      completed = true;
      writer.complete();
    });
    const reader = open(eb, Text);
    const got = await lastValueFrom(reader.pipe(toArray()));
    expect(completed).toBe(true);
    expect(got.map((v) => v.slice(0, 19))).toEqual(labels(n));
    expect(writer.stats()).toMatchObject({ sent: n, queued: 0, dropped: 0 });
    stats.unsubscribe();
    writer.close();
    reader.close();
  });

  it.each(TRANSPORTS)('over %s, a bursts$ subscriber that closes the wire leaves the batch to the value subscribers first', async (transport) => {
    const [ea, eb] = pairOf(transport);
    const reader = open(ea, Text);
    const writer = open(eb, Text);
    const values = lastValueFrom(reader.pipe(toArray()));
    const bursts: string[][] = [];
    reader.bursts$.subscribe((burst) => {
      bursts.push(burst);
      reader.close();
    });
    for (const value of labels(5)) writer.next(value);
    // Before, the value subscriber got `complete` and none of the batch the burst subscriber closed on.
    expect(await values).toEqual(bursts[0]);
    expect(bursts[0].length).toBeGreaterThan(0);
    expect(bursts[0]).toEqual(labels(bursts[0].length));
    writer.close();
  });
});
