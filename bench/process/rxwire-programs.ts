/**
 * The process suite's rxwire programs: the same spawn and ring as nact's
 * and Erlang's, on a process node started in the measuring worker (a
 * fresh thread per repetition, bench/process/measure.worker.ts).
 *
 * - spawn: `node.spawn(idle, null)` `n` times onto the node's own thread
 *   (this one), each process waiting in `mailbox.receive()`; µs per spawn,
 *   and this thread's heap growth and the OS process's RSS growth per
 *   process with all of them alive.
 * - ring: `size` relays, each sending the token (a count down) on to the
 *   next; all on this thread (one thread), or alternating between worker
 *   threads 0 and 1 (two threads: every hop crosses). The first relay is
 *   asked with `request` and answers when the token comes back at 0.
 */
import { codec, type ValueOf } from '../../core/codec';
import { entry, ProcessRefSchema, startNode, type Letter, type NodeOptions, type Process, type ProcessNode } from '../../processes/index';
import { probe } from './clock';
import { perThing, readMemory } from './memory';
import type { RingSample, SpawnSample } from './protocol';

const Nothing = codec('null');

/** An idle process: it waits for one message, then ends. */
export const idle = entry(__filename, 'idle', { capture: Nothing, mailbox: Nothing }, (_, mailbox) => mailbox.receive());

const Token = codec({
  type: 'record',
  name: 'BenchToken',
  fields: [
    { name: 'k', type: 'long' },
    { name: 'next', type: ['null', ProcessRefSchema] },
  ],
} as const);
type Token = ValueOf<typeof Token>;
const Next = codec({ type: 'record', name: 'BenchRelay', fields: [{ name: 'next', type: ['null', ProcessRefSchema] }] } as const);
const Long = codec('long');
const RELAY = { capture: Next, mailbox: Token, reply: Long };

/**
 * A relay of the ring: sends each token on with its count less one. The
 * first relay learns its next from the request that starts the ring, and
 * answers it when the token reaches 0 (the ring's size divides the hops).
 * A negative count ends the relay after passing it on.
 */
export const relay = entry(__filename, 'relay', RELAY, (capture, mailbox, self) => {
  let next: Process<Token, number> | undefined = capture.next ? self.handle(capture.next, RELAY) : undefined;
  let starter: Letter<Token, number> | undefined;
  return new Promise<void>((resolve) => {
    const sub = mailbox.letters.subscribe((letter) => {
      const { k, next: given } = letter.message;
      if (given) {
        next = self.handle(given, RELAY);
        starter = letter;
      }
      if (k === 0 && starter && !given) return starter.reply(0);
      next!.send({ k: k < 0 ? k : k - 1, next: null });
      if (k < 0) {
        sub.unsubscribe();
        resolve();
      }
    });
  });
});

/**
 * Waits until every worker thread of `node` hosts processes. Until then a
 * worker is still starting (loading and compiling modules), on the same two
 * cores as what is timed: measured at load 7, it took half a core from a
 * one-thread ring that never talks to it (bench/process/probe.ts).
 */
async function workersUp(node: ProcessNode): Promise<void> {
  const probes = Array.from({ length: node.threads }, (_, thread) => node.spawn(idle, null, { placement: { thread } }));
  if (!(await Promise.all(probes.map((p) => p.isAlive()))).every(Boolean)) throw new Error('a worker thread did not start');
  for (const p of probes) p.send(null);
}

/** Spawns `n` idle processes on this thread and measures time and memory per process. */
export async function rxwireSpawn(n: number): Promise<SpawnSample> {
  const node = startNode({ threads: 1 });
  try {
    const here = { placement: { thread: node.threads } } as const;
    await workersUp(node);
    const handles: Process<null>[] = new Array(n);
    const before = readMemory();
    const probed = probe();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) handles[i] = node.spawn(idle, null, here);
    const t1 = performance.now();
    const loop = probed.stop(n);
    // each process has its first turn (it runs to its receive) once this task ends
    await new Promise<void>((resolve) => setImmediate(resolve));
    const t2 = performance.now();
    const after = readMemory();
    const counts = await node.counts();
    if (counts[node.threads] < n) throw new Error(`${counts[node.threads]} of ${n} processes alive`);
    // spawnCpuUs: the loop's CPU time per spawn (bench/process/clock.ts), robust to a loaded machine; read by the probe
    const cpu: Record<string, number> = loop && loop.cpuRate > 0 ? { spawnCpuUs: 1e6 / loop.cpuRate } : {};
    return { spawnUs: ((t1 - t0) * 1000) / n, startUs: ((t2 - t1) * 1000) / n, ...cpu, ...perThing(before, after, n) };
  } finally {
    await node.close();
  }
}

/** A ring of `size` relays passing a token `hops` times, on this thread or across worker threads 0 and 1 (the node's waits as `options` say: the suite uses the defaults, the probe may not). */
export async function rxwireRing(size: number, hops: number, threads: 'one' | 'two', options: Pick<NodeOptions, 'wait' | 'spinMicros'> = {}): Promise<RingSample> {
  if (hops % size !== 0) throw new RangeError('the ring size must divide the hops');
  const { wait, spinMicros } = options;
  const node = startNode({ threads: 2, ...(wait && { wait }), ...(spinMicros !== undefined && { spinMicros }) });
  try {
    await workersUp(node);
    const placeOf = (i: number) => ({ placement: { thread: threads === 'one' ? node.threads : i % 2 } });
    const relays = [node.spawn(relay, { next: null }, placeOf(0))];
    for (let i = 1; i < size; i++) relays.push(node.spawn(relay, { next: relays[i - 1].ref }, placeOf(i)));
    const [first, prev] = [relays[0], relays[size - 1]];
    // every relay runs before the token goes round (a spawn on another thread is a message there)
    if (!(await Promise.all(relays.map((r) => r.isAlive()))).every(Boolean)) throw new Error('a relay did not start');
    // Warm the ring up, untimed, so that the timed stretch runs optimized code (a fresh worker per repetition
    // starts cold; with one lap, a --quick run of 100k hops timed mostly V8 compiling the relay and the drain).
    // Across threads: as many hops as are timed, up to 100 laps. In one thread: 1,000 laps (1M hops, 0.1-0.3 s):
    // V8 compiles on background threads, and on the 2 shared cores those compiles (the run queue's drain took
    // 97 ms, --trace-opt) outlasted a warm-up of 100 laps and ran beside the timed stretch of a --quick run: its
    // thread had 0.4-0.5 of a core and the wall rate was 2.6M hops/s where its own CPU rate was 5-6M
    // (bench/process/probe.js ring-one 100000, load 4.5; bench/README.md, `process`).
    const warm = threads === 'one' ? 1000 * size : Math.min(hops, 100 * size);
    await first.request({ k: warm, next: prev.ref }, { timeout: 120_000 });
    const probed = probe();
    const t0 = performance.now();
    await first.request({ k: hops, next: prev.ref }, { timeout: 300_000 });
    const seconds = (performance.now() - t0) / 1000;
    // where the wall time went (bench/process/clock.ts): read by bench/process/probe.ts, not a row of the suite
    return { rate: hops / seconds, ...probed.stop(hops) };
  } finally {
    await node.close();
  }
}
