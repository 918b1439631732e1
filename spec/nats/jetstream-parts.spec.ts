import type { NatsConnection } from '@nats-io/transport-node';
import { consumerConfig, resolveOptions, streamConfig } from '../../transports/nats/jetstream/options';
import { TakenSeqs } from '../../transports/nats/jetstream/taken';

describe('TakenSeqs', () => {
  it('keeps a stream read in order as one range and answers membership', () => {
    const t = new TakenSeqs();
    for (let s = 1; s <= 1000; s++) t.add(s);
    expect(t.ranges).toBe(1);
    expect(t.has(1) && t.has(500) && t.has(1000)).toBe(true);
    expect(t.has(0) || t.has(1001)).toBe(false);
  });

  it('merges ranges out of order, ignores repeats, and forgets the oldest range past its limit', () => {
    const t = new TakenSeqs(3);
    for (const s of [10, 12, 11, 11, 20, 5, 6, 30]) t.add(s);
    // ranges: [5,6] [10,12] [20] [30] -> the oldest ([5,6]) forgotten at the limit of 3
    expect(t.ranges).toBe(3);
    expect([5, 6].map((s) => t.has(s))).toEqual([false, false]);
    expect([10, 11, 12, 20, 30].every((s) => t.has(s))).toBe(true);
    expect([9, 13, 19, 21, 29, 31].some((s) => t.has(s))).toBe(false);
    t.add(13);
    t.add(19);
    for (let s = 14; s <= 18; s++) t.add(s);
    expect(t.ranges).toBe(2); // [10,20] [30]
  });
});

describe('durable() options', () => {
  const conn = { nc: {} as NatsConnection };

  it('fills in the defaults and gives the stream and consumer configurations of docs/PROTOCOL.md', () => {
    const o = resolveOptions(conn, 'orders', { durable: 'billing', deliver: { seq: 7 } });
    expect(o).toMatchObject({ subject: 'rxwire.js.orders', window: 256, batch: 256, maxAckPending: 1024, ackWait: 30_000, firstSequence: 1, resumeAfter: 0 });
    expect(o.producerId).toMatch(/^[0-9a-z]{16}$/);
    expect(streamConfig(o)).toEqual({ name: 'orders', subjects: ['rxwire.js.orders'], retention: 'limits', storage: 'file', duplicate_window: 120_000_000_000 });
    expect(consumerConfig(o)).toEqual({
      durable_name: 'billing',
      deliver_policy: 'by_start_sequence',
      opt_start_seq: 7,
      ack_policy: 'explicit',
      replay_policy: 'instant',
      ack_wait: 30_000_000_000,
      max_ack_pending: 1024,
      filter_subject: 'rxwire.js.orders',
    });
    const time = new Date('2026-01-02T03:04:05.678Z');
    const eph = consumerConfig(resolveOptions({ ...conn, prefix: 'x.' }, 's', { deliver: { time } }));
    expect(eph).toMatchObject({ inactive_threshold: 60_000_000_000, deliver_policy: 'by_start_time', opt_start_time: '2026-01-02T03:04:05.678Z', filter_subject: 'x.js.s' });
    expect(eph.durable_name).toBeUndefined();
  });

  it('refuses bad options at the door, naming the option', () => {
    expect(() => resolveOptions(conn, 'a.b', {})).toThrow(/stream must be/);
    expect(() => resolveOptions(conn, 's', { durable: 'a b' })).toThrow(/options.durable/);
    expect(() => resolveOptions(conn, 's', { subject: 'a.*' })).toThrow(/options.subject/);
    expect(() => resolveOptions(conn, 's', { deliver: { seq: 0 } })).toThrow(/options.deliver/);
    expect(() => resolveOptions(conn, 's', { window: 0 })).toThrow(/options.window/);
    expect(() => resolveOptions(conn, 's', { batch: 10, maxAckPending: 5 })).toThrow(/options.batch/);
    expect(() => resolveOptions(conn, 's', { resumeAfter: -1 })).toThrow(/options.resumeAfter/);
    // A careless user's values that the server refused only later (RemoteError at the first send or read):
    for (const maxQueue of ['5' as never, 1.5, -1, Number.NaN]) expect(() => resolveOptions(conn, 's', { maxQueue })).toThrow(/options.maxQueue/);
    expect(resolveOptions(conn, 's', { maxQueue: Infinity }).maxQueue).toBe(Infinity);
    expect(() => resolveOptions(conn, 's', { producerId: 'p\r\nX-Evil: 1' })).toThrow(/options.producerId/);
    expect(() => resolveOptions(conn, 's', { deliver: { seq: 0, time: new Date() } as never })).toThrow(/options.deliver/);
    for (const subject of ['a..b', 'a.', '.a']) expect(() => resolveOptions(conn, 's', { subject })).toThrow(/options.subject/);
    expect(() => resolveOptions(conn, 's', { duplicateWindow: 1e15 })).toThrow(/options.duplicateWindow/);
    expect(() => resolveOptions(conn, 's', { ackWait: 1e15 })).toThrow(/options.ackWait/);
    expect(() => resolveOptions(conn, 's', { retention: 'x' as never })).toThrow(/options.retention/);
    // A misspelt key, `durble` above all, would give an ephemeral consumer without a word.
    expect(() => resolveOptions(conn, 's', { durble: 'x' } as never)).toThrow(TypeError);
    expect(() => resolveOptions(conn, 's', { durble: 'x' } as never)).toThrow(
      /^durable: options\.durble is not an option \(it takes durable, subject, deliver, retention, storage, duplicateWindow, maxAckPending, batch, ackWait, window, maxQueue, producerId, firstSequence, publishTimeout, resumeAfter\)$/,
    );
    expect(() => resolveOptions(conn, 's', null as never)).toThrow(/^durable: options must be an object/);
    expect(() => resolveOptions(conn, 's', { durable: 'x', extra: undefined } as never)).not.toThrow();
  });
});
