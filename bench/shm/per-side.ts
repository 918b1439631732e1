/**
 * A probe, not a suite: the per-value CPU cost of each side of the shm
 * Trade path, against the floor's, in one thread (no wake-ups, no second
 * core: the cost a pipeline pays per value when both ends keep running).
 *
 *   writer: `wire.trySend(t)` of 300k Trades into a 16 MiB shm ring
 *           (WireSubject → session → ring, validated), against the floor's
 *           `type.encode(t, buf, pos)` + a length;
 *   reader: a subscriber in the same thread receiving them (pump → ring →
 *           session → codec → inbox → subscriber), against the floor's
 *           `readUInt32LE` + `type.decode`.
 *
 * CPU time of the process (`process.cpuUsage`), ns per value, min and
 * median of `rounds` rounds. Run after a build: `node dist/bench/shm/per-side.js [rounds]`.
 * bench/README.md, "Notes: shm wake-ups and per-value cost", has figures.
 */
import * as avro from 'avsc';
import { open } from '../../transports/open';
import { shm } from '../../transports';
import { POOL_MASK, Trade, tradePool } from '../trade';

const VALUES = 300_000;
const pool = tradePool();
const type = avro.Type.forSchema(Trade.schema as avro.Schema);

/** CPU time of the process so far, in ns. */
function cpuNs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1000;
}

/** The floor's two loops over one buffer in shared memory: [writer, reader] ns per value. */
function floorSides(): [number, number] {
  const buf = Buffer.from(new SharedArrayBuffer(1 << 24));
  let t0 = cpuNs();
  let pos = 0;
  for (let i = 0; i < VALUES; i++) {
    const next = type.encode(pool[i & POOL_MASK], buf, pos + 4);
    buf.writeUInt32LE(next - pos - 4, pos);
    pos = (next + 7) & ~7;
  }
  const writer = (cpuNs() - t0) / VALUES;
  t0 = cpuNs();
  let at = 0;
  let wrong = 0;
  for (let i = 0; i < VALUES; i++) {
    const length = buf.readUInt32LE(at);
    if ((type.decode(buf, at + 4).value as { id: number }).id !== (i & POOL_MASK)) wrong++;
    at = (at + 4 + length + 7) & ~7;
  }
  if (wrong > 0) throw new Error(`floor: ${wrong} values out of order`);
  return [writer, (cpuNs() - t0) / VALUES];
}

/** rxwire's two sides over one shm pair in this thread: [writer, reader] ns per value. */
async function wireSides(): Promise<[number, number]> {
  const [a, b] = shm.pair({ bytes: 1 << 24 });
  const out = open(a, Trade);
  const into = open(b, Trade);
  try {
    await out.send(pool[0]); // resolves once the reader accepted
    const t0 = cpuNs();
    for (let i = 1; i <= VALUES; i++) if (!out.trySend(pool[i & POOL_MASK])) throw new Error(`the ring was full at ${i}`);
    const writer = (cpuNs() - t0) / VALUES;
    let received = 0;
    let wrong = 0;
    const t1 = cpuNs();
    await new Promise<void>((resolve) =>
      into.subscribe((t) => {
        if (t.id !== (received & POOL_MASK)) wrong++;
        if (++received === VALUES + 1) resolve();
      }),
    );
    if (wrong > 0) throw new Error(`rxwire: ${wrong} values out of order`);
    return [writer, (cpuNs() - t1) / (VALUES + 1)];
  } finally {
    out.close();
    into.close();
  }
}

async function main(rounds: number): Promise<void> {
  const ns: Record<'wireWriter' | 'wireReader' | 'floorWriter' | 'floorReader', number[]> = { wireWriter: [], wireReader: [], floorWriter: [], floorReader: [] };
  for (let r = 0; r < rounds; r++) {
    const [fw, fr] = floorSides();
    const [ww, wr] = await wireSides();
    ns.floorWriter.push(fw);
    ns.floorReader.push(fr);
    ns.wireWriter.push(ww);
    ns.wireReader.push(wr);
  }
  const min = (xs: number[]) => Math.min(...xs).toFixed(0);
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1].toFixed(0);
  const line = (side: string, wire: number[], floor: number[]) =>
    `${side} ns/value: rxwire min ${min(wire)} median ${median(wire)} | floor min ${min(floor)} median ${median(floor)}\n`;
  process.stdout.write(line('writer', ns.wireWriter, ns.floorWriter) + line('reader', ns.wireReader, ns.floorReader));
}

main(Number(process.argv[2] ?? 7)).catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
