/**
 * Suite `codec`: encode + decode of one Trade, in messages per second, on
 * the main thread. rxwire's Avro codec (`codec()`, schema checked on every
 * encode, as WireSubject uses it) against JSON.stringify + JSON.parse and
 * v8.serialize + v8.deserialize, each a full round (object in, object out).
 * The `encodeInto` case writes into one preallocated buffer, as a transport
 * does, then decodes from it; its baselines are the same two.
 */
import * as avro from 'avsc';
import * as v8 from 'node:v8';
import type { Case, Runner, Sample, Suite } from '../harness';
import { POOL_MASK, Trade, tradePool } from '../trade';

/** Runs `op` on `n` pooled trades and returns msgs/s; `op` returns the decoded qty, summed as a check. */
function timed(name: string, n: number, op: (t: Trade) => number): Runner {
  const pool = tradePool();
  let expected = 0;
  for (let i = 0; i < n; i++) expected += pool[i & POOL_MASK].qty;
  return {
    name,
    async run(): Promise<Sample> {
      let check = 0;
      const start = process.hrtime.bigint();
      for (let i = 0; i < n; i++) check += op(pool[i & POOL_MASK]);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (check !== expected) throw new Error(`${name}: decoded values differ from those encoded`);
      return { rate: n / seconds };
    },
  };
}

const RATE = { key: 'rate', unit: 'msgs/s', better: 'higher' } as const;

export const codecSuite: Suite = {
  name: 'codec',
  title: 'Avro codec encode+decode of a Trade vs JSON and v8 serialization (msgs/s)',
  cases({ quick }): Case[] {
    const n = quick ? 100_000 : 500_000;
    const baselines = [
      timed('JSON.stringify+parse', n, (t) => (JSON.parse(JSON.stringify(t)) as Trade).qty),
      timed('v8.serialize+deserialize', n, (t) => (v8.deserialize(v8.serialize(t)) as Trade).qty),
    ];
    const buffer = Buffer.allocUnsafeSlow(64 * 1024);
    // The floor: plain avsc, no checks, into the same preallocated buffer.
    const type = avro.Type.forSchema(Trade.schema as avro.Schema);
    const floor: Runner = {
      ...timed('raw avsc encode(buf, 0)+decode', n, (t) => {
        type.encode(t, buffer, 0);
        return (type.decode(buffer, 0).value as Trade).qty;
      }),
      role: 'floor',
    };
    return [
      {
        name: 'avsc encode+decode',
        metrics: [{ ...RATE, label: 'avsc encode+decode' }],
        subject: timed('avsc encode+decode', n, (t) => Trade.decode(Trade.encode(t)).qty),
        baselines: [...baselines, floor],
      },
      {
        name: 'avsc encodeInto+decode',
        metrics: [{ ...RATE, label: 'avsc encodeInto+decode' }],
        subject: timed('avsc encodeInto+decode', n, (t) => Trade.decode(buffer, 0, Trade.encodeInto(t, buffer, 0)).qty),
        baselines: [...baselines, floor],
      },
    ];
  },
};
