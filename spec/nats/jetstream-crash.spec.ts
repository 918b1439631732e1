import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { codec } from '../../core/codec';
import { startNatsServer, type NatsServer } from '../../examples/nats-server';
import { durable, type DurableMessage } from '../../transports/nats/jetstream';
import { until } from '../helpers';

const Long = codec('long');
const root = join(__dirname, '..', '..');
const CHILD = join(__dirname, 'jetstream-reader.child.ts');

interface Taken {
  seq: number;
  value: number;
  redelivered: boolean;
  /** Values the reader held undelivered when it took this one. */
  held: number;
}

/** A reader process (jetstream-reader.child.ts) and the lines it wrote. */
class ReaderProcess {
  readonly taken: Taken[] = [];
  readonly exited: Promise<number | null>;
  private stderr = '';
  constructor(readonly child: ChildProcess) {
    let rest = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        const [seq, value, r, held] = line.split(' ').map(Number);
        this.taken.push({ seq, value, redelivered: r === 1, held });
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }
  get errors(): string {
    return this.stderr;
  }
}

describe('durable (JetStream) across processes and crashes', () => {
  let server: NatsServer;
  const conns: NatsConnection[] = [];
  const children: ChildProcess[] = [];
  const closers: { close(): Promise<void> }[] = [];

  function reader(args: Record<string, unknown>): ReaderProcess {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', CHILD, JSON.stringify({ url: server.url, ...args })], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    return new ReaderProcess(child);
  }
  async function conn(): Promise<NatsConnection> {
    const nc = await connect({ servers: server.url, reconnectTimeWait: 250, maxReconnectAttempts: -1 });
    conns.push(nc);
    return nc;
  }

  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(closers.splice(0).map((c) => c.close()));
    await Promise.all(conns.splice(0).map((nc) => nc.close()));
  });
  afterAll(() => server.stop());

  /** Publishes 1..n on `stream` from this process while the readers run; resolves when all are stored. */
  async function produce(stream: string, n: number): Promise<void> {
    const d = durable({ nc: await conn() }, stream, Long, { window: 64 });
    closers.push(d);
    for (let i = 1; i <= n; i++) await d.send(i);
  }

  const N = 1500;
  const common = { durable: 'crash', ackWait: 1500, batch: 32, maxAckPending: 64, spinMs: 1 };

  it('a reader process killed mid-stream and restarted from its checkpoint (resumeAfter): every value taken exactly once', async () => {
    const stream = 'crash1';
    const producing = produce(stream, N);
    const first = reader({ ...common, stream, resumeAfter: 0, count: N });
    await until(() => first.taken.length >= 400, 60_000);
    first.child.kill('SIGKILL'); // mid-stream, mid-pull: some taken values may not be acknowledged yet
    await first.exited;
    // The output (this process) is the checkpoint: the last value it holds from the killed reader.
    const checkpoint = first.taken.at(-1)!.seq;
    expect(first.taken.map((t) => t.seq)).toEqual(Array.from({ length: first.taken.length }, (_, i) => i + 1));
    const second = reader({ ...common, stream, resumeAfter: checkpoint, count: N - checkpoint });
    expect(await second.exited).toBe(0);
    await producing;
    const all = [...first.taken, ...second.taken];
    expect(all.map((t) => t.value).sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(all.every((t) => t.seq === t.value)).toBe(true);
    const jsm = await jetstreamManager(await conn());
    const info = await jsm.consumers.info(stream, 'crash');
    expect(info.num_ack_pending).toBe(0);
    expect(info.ack_floor.stream_seq).toBe(N);
  });

  it('without a checkpoint, a killed reader loses nothing: its unacknowledged values come back, marked redelivered, at most one pull of them', async () => {
    const stream = 'crash2';
    const producing = produce(stream, N);
    const first = reader({ ...common, stream, resumeAfter: 0, count: N });
    await until(() => first.taken.length >= 400, 60_000);
    first.child.kill('SIGKILL');
    await first.exited;
    const seen = new Set(first.taken.map((t) => t.seq));
    // The second reader runs until it has every value the first did not take.
    const second = reader({ ...common, stream, resumeAfter: 0, count: N });
    await until(() => second.taken.filter((t) => !seen.has(t.seq)).length === N - seen.size, 60_000);
    await producing;
    const again = second.taken.filter((t) => seen.has(t.seq));
    expect(again.every((t) => t.redelivered)).toBe(true); // a value taken twice is flagged the second time
    expect(again.length).toBeLessThanOrEqual(common.batch); // only what the dead reader had not acknowledged
    expect(new Set([...seen, ...second.taken.map((t) => t.seq)]).size).toBe(N);
    second.child.kill('SIGKILL');
  });

  it('a reader process 100× slower than its producer: the producer holds at most `window` publishes, the reader at most one pull, the backlog waits on the server', async () => {
    const stream = 'slow';
    const slow = reader({ stream, durable: 'slow', resumeAfter: 0, count: 1e9, spinMs: 10, ackWait: 30_000, batch: 8, maxAckPending: 8 });
    const producer = durable({ nc: await conn() }, stream, Long, { window: 16 });
    closers.push(producer);
    await producer.send(1);
    await until(() => slow.taken.length > 0, 60_000); // the reader is up
    let producerHeld = 0;
    const n = 5000;
    for (let i = 2; i <= n; i++) {
      const s = producer.stats();
      producerHeld = Math.max(producerHeld, s.inFlight + s.queued);
      if (!producer.trySend(i)) await producer.send(i); // full: wait for room
    }
    await until(() => producer.stats().inFlight === 0, 60_000);
    const info = await (await jetstreamManager(await conn())).consumers.info(stream, 'slow');
    const taken = slow.taken.length;
    expect(taken).toBeLessThan(n / 2); // 10 ms a value: the reader was far behind when the producer was done
    expect(producerHeld).toBeLessThanOrEqual(16);
    expect(Math.max(...slow.taken.map((t) => t.held))).toBeLessThanOrEqual(8);
    expect(slow.taken.map((t) => t.value)).toEqual(Array.from({ length: taken }, (_, i) => i + 1));
    expect(info.num_ack_pending).toBeLessThanOrEqual(8);
    expect(info.num_pending).toBeGreaterThanOrEqual(n - slow.taken.length - 8); // the backlog waits on the server, not in either process
  });

  it('the server killed and restarted mid-stream: nothing lost, nothing stored or delivered twice', async () => {
    const stream = 'restart';
    const nc = await conn();
    const d = durable({ nc }, stream, Long, { durable: 'r', window: 32 });
    closers.push(d);
    const got: DurableMessage<number>[] = [];
    let failed: unknown;
    const sub = d.messages$.subscribe({ next: (m) => got.push(m), error: (e: unknown) => (failed = e) });
    const n = 20_000;
    for (let i = 1; i <= n; i++) d.next(i); // the window stays full: `window` publishes in flight when the server dies
    const sending = until(() => d.stats().acked === n, 120_000);
    await until(() => d.stats().acked >= 3000 && got.length > 0, 60_000);
    await server.restart(); // SIGKILL, then the same port and store
    await sending;
    await until(() => got.length >= n || failed !== undefined, 120_000);
    sub.unsubscribe();
    expect(failed).toBeUndefined();
    expect(got.map((m) => m.value).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const jsm = await jetstreamManager(nc);
    expect((await jsm.streams.info(stream)).state.messages).toBe(n); // retried publishes were stored once
    expect(d.stats()).toMatchObject({ acked: n, received: n }); // every value taken once (a copy handed out again is counted in `skipped`)
    expect(d.stats().retries).toBeGreaterThan(0); // the kill caught publishes in flight, which were tried again
  });
});
