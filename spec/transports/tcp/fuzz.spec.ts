import type { Worker } from 'node:worker_threads';
import { Subject, filter, firstValueFrom } from 'rxjs';
import { FrameFuzzer, Msg, Nums, type FuzzStats } from '../../fixtures/tcp-fuzz';
import { rng } from '../../fixtures/records';
import { RawPeer } from '../../fixtures/tcp-raw';
import { closeAll, connect, rawSocket, socketClosed } from '../../fixtures/tcp';
import { exited, reapWorkers, report, spawn, tick } from '../../helpers';

/*
 * A fuzzer against a real server, in a thread of its own: 100k seeded
 * random and mutated frames over many connections, most after a real
 * handshake, while a well-behaved client on another connection keeps asking
 * and checking every answer. The server must report only typed errors,
 * close every fuzzing connection, keep serving the good one, and hold no
 * more memory at the end than at the start.
 */

const FRAMES = 100_000;
const SEED = 0x7cf00d;
/** Fuzzing connections at once. */
const PARALLEL = 4;
const MiB = 1 << 20;
/** How long a fuzzing socket may stay open after its last byte before the fuzzer drops it. */
const LINGER_MS = 2000;

afterEach(async () => {
  await closeAll();
  await reapWorkers();
});

/** Asks the server thread for its stats (after a full GC there). */
function stats(server: Worker): Promise<FuzzStats> {
  const answer = report<FuzzStats>(server);
  server.postMessage({ cmd: 'stats' });
  return answer;
}

/** Connects (after a handshake, or straight to the socket), writes the chunks, ends, and waits for the close. */
async function attack(port: number, handshake: boolean, chunks: Buffer[]): Promise<void> {
  const socket = handshake ? (await RawPeer.connect(port)).socket : await rawSocket(port);
  for (const chunk of chunks) socket.write(chunk);
  socket.end();
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([socketClosed(socket), new Promise((resolve) => (timer = setTimeout(resolve, LINGER_MS)))]);
  clearTimeout(timer);
  socket.destroy();
  await socketClosed(socket);
}

describe('tcp fuzzing', () => {
  it(`${FRAMES} random and mutated frames: typed errors only, a good client answered throughout, memory bounded`, async () => {
    const server = spawn('tcp-fuzz-server', {}, [], { resourceLimits: { maxOldGenerationSizeMb: 128 } });
    const { port } = await report<{ port: number }>(server);

    // The well-behaved client: a Msg and a Nums at a time, every answer checked.
    const good = await connect({ port });
    const echo = good.open('echo', Msg);
    const sum = good.open('sum', Nums);
    const echoes = new Subject<{ id: number; text: string }>();
    const sums = new Subject<{ id: number; xs: number[] }>();
    echo.subscribe(echoes);
    sum.subscribe(sums);
    const wrong: string[] = [];
    let fuzzing = true;
    const asking = (async () => {
      let answered = 0;
      for (let i = 0; fuzzing; i++) {
        const text = `good é ${i}`;
        const [e, s] = await Promise.all([
          firstValueFrom(echoes.pipe(filter((m) => m.id === i))),
          firstValueFrom(sums.pipe(filter((n) => n.id === i))),
          echo.send({ id: i, text }),
          sum.send({ id: i, xs: [i, 2, -1] }),
        ]);
        if (e.text !== text.toUpperCase()) wrong.push(`echo ${i}: ${e.text}`);
        if (s.xs.length !== 1 || s.xs[0] !== i + 1) wrong.push(`sum ${i}: ${s.xs}`);
        answered++;
        await tick(1);
      }
      return answered;
    })();
    asking.catch(() => {}); // awaited below; this only keeps an early failure from going unhandled

    const base = await stats(server);
    const fuzzer = new FrameFuzzer(rng(SEED));
    let fuzzed = 0;
    let sent = 0;
    let connections = 0;
    let peak = base.heapUsed;
    while (fuzzed < FRAMES) {
      // Scripts and their splits are drawn before any await: the same seed, the same bytes.
      const batch = Array.from({ length: PARALLEL }, () => {
        const script = fuzzer.script(20 + fuzzer.int(280));
        sent += script.frames.length;
        fuzzed += script.fuzzed;
        return { handshake: script.handshake, chunks: fuzzer.splits(Buffer.concat(script.frames)) };
      });
      await Promise.all(batch.map((s) => attack(port, s.handshake, s.chunks)));
      connections += PARALLEL;
      if (connections % 200 === 0) peak = Math.max(peak, (await stats(server)).heapUsed);
    }
    fuzzing = false;
    const answered = await asking;

    // The server closes its side of every fuzzing connection; only the good one stays.
    let end = await stats(server);
    for (let i = 0; i < 100 && end.live !== 1; i++) {
      await tick(20);
      end = await stats(server);
    }
    expect(fuzzed).toBeGreaterThanOrEqual(FRAMES);
    expect(wrong).toEqual([]);
    expect(answered).toBeGreaterThan(50);
    expect(end.untyped).toEqual([]);
    expect(end.live).toBe(1);
    // Most fuzzing connections completed the handshake and were refused for a bad frame.
    expect(end.accepted).toBeGreaterThan(connections / 2);
    expect(end.errors.FrameError).toBeGreaterThan(connections / 4);
    // Fuzzed data reached the readers too: values decoded and echoed, bad ones refused.
    expect(end.echoed).toBeGreaterThan(answered);
    expect(end.errors.DecodeError ?? 0).toBeGreaterThan(0);
    expect(peak - base.heapUsed).toBeLessThan(32 * MiB);
    // A leak of one small object graph per connection (~3 KiB: a session never forgotten) shows as ~4 MiB here.
    expect(end.heapUsed - base.heapUsed).toBeLessThan(2 * MiB);

    await good.close();
    const closed = report<{ closed: boolean }>(server);
    server.postMessage({ cmd: 'close' });
    expect(await closed).toEqual({ closed: true });
    expect(await exited(server)).toBe(0);
  }, 240_000); // 100k frames take 40 to 80 s on 2 shared cores; the default 60 s was not enough under load
});
