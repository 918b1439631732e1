import { lastValueFrom, take, toArray } from 'rxjs';
import { codec, raw } from '../../core/codec';
import { FrameError, TransportClosedError } from '../../core/errors';
import { open } from '../../transports/open';
import { shm } from '../../transports';
import { AFTER, CURSOR, CURSOR_WAITERS, LINE, MAX_CONSUMERS, READER_STATE, RecordKind, consumerBase, createRing, mapRing } from '../../transports/shm/layout';
import { RingReader, RingWriter } from '../../transports/shm/ring';
import type { WaitStrategy } from '../../transports/shm/wait';
import { RecordChecker, recordCodec, rng } from '../fixtures/records';
import { Trade, tradeAt } from '../fixtures/trade';
import { exited, reapWorkers, report, spawn, spawnWith, until } from '../helpers';

afterEach(async () => {
  expect(await reapWorkers()).toBe(0);
});

interface Received {
  received: number;
  wrong: number;
  checksum: number;
  overtaken: number;
}

/**
 * How many records each real-thread ring test moves. The default keeps every
 * test well inside jest's limit on a loaded 2-core machine while each still
 * laps its ring hundreds of times (a record is 16 to 72 bytes: about 1,500
 * records a lap of 64 KiB, 90 of 4 KiB), through every full and empty
 * transition its strategy has; wrap-around at every offset class is proven
 * record by record in one thread below. RXWIRE_SOAK_RECORDS=10000000 runs
 * the long soak (the unicast case alone needs minutes per strategy then).
 */
const RECORDS = Number(process.env.RXWIRE_SOAK_RECORDS ?? 1_000_000);

describe('shm ring on real threads', () => {
  // The producer and the consumer each run in a worker, so `block` is allowed.
  it.each<WaitStrategy>(['auto', 'spin', 'yield', 'block', 'async'])(
    `${RECORDS} seeded records through a unicast ring with the %s strategy: none lost, duplicated, reordered or torn`,
    async (wait) => {
      const sab = shm.ring({ bytes: 1 << 16 });
      const seed = 1234;
      const consumer = spawn('ring', { role: 'consume', sab, count: RECORDS, seed, wait });
      const producer = spawn('ring', { role: 'produce', sab, count: RECORDS, seed, wait });
      const [got, sent] = await Promise.all([report<Received>(consumer), report(producer)]);
      expect(sent).toEqual({ produced: RECORDS });
      expect(got).toMatchObject({ received: RECORDS, wrong: 0 });
      expect(await exited(consumer)).toBe(0);
      expect(await exited(producer)).toBe(0);
    },
    120_000,
  );

  it('multicast: 3 consumers each see every record', async () => {
    // Four threads on two cores: a quarter of the records, still about 500 laps of the 16 KiB ring.
    const sab = shm.ring({ bytes: 1 << 14, consumers: [{}, {}, {}] });
    const count = RECORDS / 4;
    const seed = 7;
    const consumers = [0, 1, 2].map((k) => spawn('ring', { role: 'consume', sab, count, seed, wait: 'auto', consumer: k }));
    const producer = spawn('ring', { role: 'produce', sab, count, seed, wait: 'auto' });
    const produced = report(producer);
    const results = await Promise.all(consumers.map((w) => report<Received>(w)));
    expect(await produced).toEqual({ produced: count });
    for (const r of results) expect(r).toMatchObject({ received: count, wrong: 0 });
    expect(new Set(results.map((r) => r.checksum)).size).toBe(1);
    for (const w of [...consumers, producer]) expect(await exited(w)).toBe(0);
  });

  it('a chained stage never overtakes its predecessor (it sees every record stamped)', async () => {
    // The later stage polls hard after each record it gets (`auto`), which is
    // when an overtake would show, but sleeps when it has caught up, so on
    // two cores it does not starve the stage it waits for (with `spin` among
    // three threads this test once took minutes). About 1,000 laps of the
    // 4 KiB ring, every one gated by the slower stage.
    const sab = shm.ring({ bytes: 1 << 12, consumers: [{}, { after: [0] }] });
    const count = RECORDS / 10;
    const seed = 99;
    const first = spawn('ring', { role: 'consume', sab, count, seed, wait: 'yield', consumer: 0, stamp: true });
    const second = spawn('ring', { role: 'consume', sab, count, seed, wait: 'auto', consumer: 1, verifyAfter: 0 });
    const producer = spawn('ring', { role: 'produce', sab, count, seed, wait: 'auto' });
    const [a, b] = await Promise.all([report<Received>(first), report<Received>(second), report(producer)]);
    expect(a).toMatchObject({ received: count, wrong: 0 });
    expect(b).toMatchObject({ received: count, wrong: 0, overtaken: 0 });
    for (const w of [first, second, producer]) expect(await exited(w)).toBe(0);
  });
});

describe('shm ring in one thread', () => {
  it('is laid out as docs/PROTOCOL.md says: each reader\'s READER_STATE on a line apart from its CURSOR, data at byte 1408 for one reader, magic "RXW2"', () => {
    const lineOf = (slot: number) => Math.floor(slot / LINE);
    const slots = new Set<number>();
    for (let k = 0; k < MAX_CONSUMERS; k++) {
      const base = consumerBase(k);
      expect(base).toBe(64 + 32 * k);
      expect(lineOf(base + READER_STATE)).not.toBe(lineOf(base + CURSOR));
      for (const slot of [CURSOR, CURSOR_WAITERS, AFTER, READER_STATE]) slots.add(base + slot);
    }
    expect(slots.size).toBe(4 * MAX_CONSUMERS); // no two readers share a slot
    const sab = createRing({ bytes: 256 });
    expect(sab.byteLength).toBe(1408 + 256);
    expect([...new Uint8Array(sab, 48 * 4, 4)]).toEqual([0x32, 0x57, 0x58, 0x52]);
    expect(mapRing(sab).data.byteOffset).toBe(1408);
    // A ring of the first layout ("RXW1") is refused, not misread.
    new Int32Array(sab)[48] = 0x52585731;
    expect(() => mapRing(sab)).toThrow('not an rxwire ring');
  });

  it('wraps around at every offset class: each size mod 8 lands at every distance from the end', () => {
    const sab = shm.ring({ bytes: 256 });
    const writer = new RingWriter(mapRing(sab));
    const reader = new RingReader(mapRing(sab));
    const seed = 5;
    const sizes = rng(seed);
    const codec = recordCodec(sizes);
    const checker = new RecordChecker(seed);
    const padsSeen = new Set<number>();
    let seq = 0;
    let sized = false;
    while (seq < 20_000) {
      // Fill until refused, publish, then read it all: positions sweep the ring.
      for (;;) {
        if (!sized) codec.nextSize();
        sized = true;
        const before = writer.position & 255;
        const from = writer.position;
        if (!writer.tryWrite(RecordKind.NEXT, codec, seq)) {
          if (writer.position !== from) padsSeen.add(256 - before); // refused, but padded to the end (a wrap)
          break;
        }
        if ((writer.position & 255) < before && (writer.position & 255) !== 0) padsSeen.add(256 - before);
        sized = false;
        seq++;
      }
      writer.publish();
      reader.read((_kind, data, start, end) => checker.check(data, start, end));
      reader.release();
    }
    expect(checker.next).toBe(seq);
    expect(checker.wrong).toBe(0);
    // Records are 16 to 72 bytes: a wrap was needed at every 8-byte distance
    // from the end that a record can fail to fit, 8 to 64.
    expect([...padsSeen].sort((x, y) => x - y)).toEqual([8, 16, 24, 32, 40, 48, 56, 64]);
  });

  it('a full ring refuses a record and writes nothing visible; released space takes it', () => {
    const sab = shm.ring({ bytes: 256 });
    const writer = new RingWriter(mapRing(sab));
    const reader = new RingReader(mapRing(sab));
    const bytes = codec('bytes');
    let n = 0;
    // 8 header + 1 length + 23 bytes = 32 a record.
    while (writer.tryWrite(RecordKind.NEXT, bytes, Buffer.alloc(23, n))) n++;
    expect(n).toBe(256 / 32);
    writer.publish();
    const seen: number[] = [];
    reader.read((_k, data, start, end) => seen.push(bytes.decode(data, start, end)[0]), 1);
    reader.release();
    expect(writer.tryWrite(RecordKind.NEXT, bytes, Buffer.alloc(23, 9))).toBe(true);
    writer.publish();
    reader.read((_k, data, start, end) => seen.push(bytes.decode(data, start, end)[0]));
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 9]);
  });

  it('a record over half the ring, written with the position mid-ring, wraps once the reader passes the pad (it used to wait for ever)', async () => {
    const [a, b] = shm.pair({ bytes: 4096 });
    const writer = open(a, raw);
    const reader = open(b, raw);
    const got = lastValueFrom(reader.pipe(take(4), toArray()));
    for (const [size, fill] of [[100, 1], [2500, 2], [3000, 3], [3500, 4]]) await writer.send(Buffer.alloc(size, fill));
    expect((await got).map((v) => [v.length, v[0]])).toEqual([[100, 1], [2500, 2], [3000, 3], [3500, 4]]);
    writer.complete();
  });

  it('a writer asleep for room is woken once a quarter of the ring is free, once, and not at each release before', async () => {
    const sab = shm.ring({ bytes: 1024 });
    const memory = mapRing(sab);
    const writer = new RingWriter(memory);
    const reader = new RingReader(mapRing(sab));
    const bytes = codec('bytes');
    // 8 header + 1 length + 23 bytes = 32 a record: 32 of them fill the ring.
    let n = 0;
    while (writer.tryWrite(RecordKind.NEXT, bytes, Buffer.alloc(23, n))) n++;
    expect(n).toBe(32);
    writer.publish();
    // The writer's way to sleep (as the pump does it): where, count in, re-check, wait.
    const sleep = () => {
      const { index, waiters } = writer.spaceCell();
      Atomics.add(memory.header, waiters, 1);
      const waited = Atomics.waitAsync(memory.header, index, Atomics.load(memory.header, index), 10_000);
      let outcome: string | undefined;
      if (waited.async) void waited.value.then((o) => (outcome = o));
      return { async: waited.async, outcome: () => outcome, done: () => Atomics.sub(memory.header, waiters, 1) };
    };
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    const releaseOne = () => {
      expect(reader.read(() => undefined, 1)).toBe(1);
      reader.release();
    };
    const first = sleep();
    expect(first.async).toBe(true);
    // 7 records (224 bytes) released one at a time: short of a quarter (256 bytes), no wake-up.
    for (let i = 0; i < 7; i++) releaseOne();
    await tick();
    expect(first.outcome()).toBeUndefined();
    // The eighth reaches it.
    releaseOne();
    await until(() => first.outcome() !== undefined);
    expect(first.outcome()).toBe('ok');
    first.done();
    // Room for 8 records now; the writer fills it and sleeps again: the next quarter wakes it again.
    let more = 0;
    while (writer.tryWrite(RecordKind.NEXT, bytes, Buffer.alloc(23, 0))) more++;
    expect(more).toBe(8);
    writer.publish();
    const second = sleep();
    for (let i = 0; i < 7; i++) releaseOne();
    await tick();
    expect(second.outcome()).toBeUndefined();
    releaseOne();
    await until(() => second.outcome() !== undefined);
    expect(second.outcome()).toBe('ok');
    second.done();
  });

  it('a writer asleep for a record larger than a quarter of the ring is woken once that record fits', async () => {
    const sab = shm.ring({ bytes: 1024 });
    const memory = mapRing(sab);
    const writer = new RingWriter(memory);
    const reader = new RingReader(mapRing(sab));
    const bytes = codec('bytes');
    // Seven records of 128 bytes (8 header + 2 length + 118); one of 512 bytes then cannot go in the 128
    // left before the end: the writer pads them (published at once) and wants 512 at the start, more than
    // a quarter (256).
    for (let n = 0; n < 7; n++) expect(writer.tryWrite(RecordKind.NEXT, bytes, Buffer.alloc(118, n))).toBe(true);
    writer.publish();
    expect(writer.tryWrite(RecordKind.NEXT, bytes, Buffer.alloc(502, 9))).toBe(false);
    const { index, waiters } = writer.spaceCell();
    Atomics.add(memory.header, waiters, 1);
    const waited = Atomics.waitAsync(memory.header, index, Atomics.load(memory.header, index), 10_000);
    expect(waited.async).toBe(true);
    let outcome: string | undefined;
    if (waited.async) void waited.value.then((o) => (outcome = o));
    for (let i = 0; i < 3; i++) {
      reader.read(() => undefined, 1);
      reader.release();
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(outcome).toBeUndefined(); // 512 bytes free: not yet
    reader.read(() => undefined, 1);
    reader.release();
    await until(() => outcome !== undefined);
    expect(outcome).toBe('ok');
    Atomics.sub(memory.header, waiters, 1);
    expect(writer.hasRoom()).toBe(true);
    expect(writer.tryWrite(RecordKind.NEXT, bytes, Buffer.alloc(502, 9))).toBe(true);
  });

  describe('waking a reader asleep for data (DATA_SEEN)', () => {
    const bytes = codec('bytes');
    /** A ring of 1 KiB with its writer and one reader, in this thread. */
    function ring() {
      const sab = shm.ring({ bytes: 1024 });
      const memory = mapRing(sab);
      const writer = new RingWriter(memory);
      const reader = new RingReader(mapRing(sab));
      const publishOne = () => {
        expect(writer.tryWrite(RecordKind.NEXT, bytes, Buffer.alloc(23, 1))).toBe(true);
        writer.publish();
      };
      const consume = () => {
        expect(reader.read(() => undefined)).toBe(1);
        reader.release();
      };
      return { header: memory.header, reader, publishOne, consume };
    }
    /** The steps of a pump's sleep (wait.ts `enter`, then the wait), never counted out; `store` false skips the DATA_SEEN store. */
    function sleeper(header: Int32Array, reader: RingReader) {
      const cell = reader.dataCell();
      return {
        count: () => Atomics.add(header, cell.waiters, 1),
        wait: (store = true): Promise<string> => {
          const seen = Atomics.load(header, cell.index);
          if (store) Atomics.store(header, cell.seenAt!, seen);
          const waited = Atomics.waitAsync(header, cell.index, seen, 300);
          return waited.async ? waited.value : Promise.resolve(waited.value);
        },
      };
    }

    it('a publish notifies a reader once per position it slept at, however long it takes to count itself out', async () => {
      const { header, reader, publishOne, consume } = ring();
      const s = sleeper(header, reader);
      s.count();
      let outcome = s.wait();
      publishOne();
      expect(await outcome).toBe('ok');
      consume();
      // DATA_WAITERS still counts the first sleep; a sleep at a new position is woken all the same.
      s.count();
      outcome = s.wait();
      publishOne();
      expect(await outcome).toBe('ok');
      // A sleep that did not store what it saw gets no notify: the writer has woken that position already.
      outcome = s.wait(false);
      publishOne();
      expect(await outcome).toBe('timed-out');
    });

    it('a reader that consumed a publish between counting itself and waiting is woken by the next one (the lost wake-up of the DATA_SLEEPS rule)', async () => {
      // The interleaving that hung a bench round trip: the writer's notify for a publish goes out while the
      // reader is counted but not yet waiting, and the reader then waits having seen that very publish. Keyed on a
      // count of sleeps, the writer took that sleep as woken and skipped the next publish's notify.
      const { header, reader, publishOne, consume } = ring();
      const s = sleeper(header, reader);
      s.count();
      publishOne(); // notifies: DATA_WAITERS > 0, nobody waiting yet
      consume();
      const outcome = s.wait(); // sees the publish it consumed, finds nothing more, waits
      publishOne();
      expect(await outcome).toBe('ok');
    });
  });

  it('a record that can never fit fails with FrameError naming both sizes', async () => {
    const [a, b] = shm.pair({ bytes: 256 });
    const tx = open(a, raw);
    const rx = open(b, raw);
    expect(() => new RingWriter(mapRing(a.tx)).tryWrite(RecordKind.NEXT, raw, new Uint8Array(300))).toThrow(
      /300 bytes can never fit a ring of 256 bytes/,
    );
    await expect(tx.send(new Uint8Array(1000))).rejects.toBeInstanceOf(FrameError);
    await expect(tx.send(new Uint8Array(1000))).rejects.toThrow(/1000 bytes.*256 bytes/);
    tx.complete();
    rx.complete();
  });

  it('refuses the block strategy on the main thread, and unknown strategies, with a clear error', () => {
    const [a] = shm.pair();
    expect(() => open(a, raw, { wait: 'block' })).toThrow(/'block' would freeze the main thread/);
    expect(() => open(a, raw, { wait: 'nap' as WaitStrategy })).toThrow(/options.wait must be one of/);
    a.live.close();
  });

  it('refuses bad ring options', () => {
    expect(() => shm.ring({ bytes: 1000 })).toThrow(RangeError);
    expect(() => shm.ring({ consumers: [{ after: [0] }] })).toThrow(/earlier consumers/);
    expect(() => mapRing(new SharedArrayBuffer(1024))).toThrow(/not an rxwire ring/);
  });
});

describe('shm WireSubject with a worker', () => {
  it('the peer thread terminated mid-stream ends the subscribers and a pending send with TransportClosedError', async () => {
    // No { worker } option: only the liveness port tells this side.
    const { here, worker } = spawnWith('shm', 'trade', { mode: 'forever' }, 4096);
    const wire = open(here, Trade);
    const failed = new Promise<Error>((resolve) => wire.subscribe({ error: resolve }));
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 500; i++) sends.push(wire.send(tradeAt(i)));
    const settled = Promise.allSettled(sends);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await worker.terminate();
    // Noticed through the liveness port alone (the test's timeout is the bound; no clock here).
    const err = await failed;
    expect(err).toBeInstanceOf(TransportClosedError);
    const last = (await settled).at(-1)!;
    expect(last.status).toBe('rejected');
    expect((last as PromiseRejectedResult).reason).toBeInstanceOf(TransportClosedError);
  });

  it('a slow consumer keeps the producer flat: queue at most one send, bytes in flight within the ring', async () => {
    const { here, worker } = spawnWith('shm', 'trade', { mode: 'slow' }, 1 << 14);
    const wire = open(here, Trade, { worker });
    let peakQueued = 0;
    let peakInFlight = 0;
    const heapBefore = process.memoryUsage().heapUsed;
    for (let i = 0; i < 50_000; i++) {
      await wire.send(tradeAt(i));
      const s = wire.stats();
      peakQueued = Math.max(peakQueued, s.queued);
      peakInFlight = Math.max(peakInFlight, s.inFlightBytes);
    }
    wire.complete();
    expect(await report(worker)).toMatchObject({ received: 50_000, wrong: 0 });
    expect(peakQueued).toBeLessThanOrEqual(1);
    expect(peakInFlight).toBeLessThanOrEqual(1 << 14);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 << 20);
    expect(await exited(worker)).toBe(0);
  });

  it('with the async strategy the main thread stays responsive while it receives a flood', async () => {
    // Counted in turns of the event loop, not in milliseconds: while 50,000
    // values arrive, timers and immediates keep running between drains.
    const { here, worker } = spawnWith('shm', 'trade', { mode: 'forever' });
    const wire = open(here, Trade, { worker, wait: 'async' });
    let turns = 0;
    let timers = 0;
    let spinning = true;
    const spin = () => {
      turns++;
      if (spinning) setImmediate(spin);
    };
    const timer = setInterval(() => timers++, 1);
    let received = 0;
    let turnsAtStart = -1;
    const sub = wire.subscribe(() => {
      if (received++ === 0) turnsAtStart = turns;
    });
    setImmediate(spin);
    await until(() => received >= 50_000, 30_000);
    const turnsDuring = turns - turnsAtStart;
    spinning = false;
    clearInterval(timer);
    sub.unsubscribe();
    wire.complete();
    expect(turnsDuring).toBeGreaterThan(10);
    expect(timers).toBeGreaterThan(0);
    expect(await report(worker)).toMatchObject({ stoppedWith: 'TransportClosedError' });
    expect(await exited(worker)).toBe(0);
  });

  it('bursts$ returns what one drain took, in order, nothing twice', async () => {
    const { here, worker } = spawnWith('shm', 'trade', { mode: 'produce', count: 100_000 });
    const wire = open(here, Trade, { worker });
    const bursts = await lastValueFrom(wire.bursts$.pipe(toArray()));
    expect(bursts.length).toBeGreaterThan(1);
    expect(bursts.flat().map((t) => t.id)).toEqual([...Array(100_000).keys()]);
    wire.complete();
    expect(await exited(worker)).toBe(0);
  });

  it('take(n) from a worker stream over shm stops the producer cleanly', async () => {
    const { here, worker } = spawnWith('shm', 'trade', { mode: 'forever' });
    const wire = open(here, Trade, { worker });
    expect((await lastValueFrom(wire.pipe(take(3), toArray()))).map((t) => t.id)).toEqual([0, 1, 2]);
    expect(await report(worker)).toMatchObject({ stoppedWith: 'TransportClosedError' });
    wire.complete();
    expect(await exited(worker)).toBe(0);
  });
});
