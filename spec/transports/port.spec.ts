import { lastValueFrom, take, toArray } from 'rxjs';
import { codec } from '../../core/codec';
import { DecodeError, FrameError, RemoteError, TransportClosedError } from '../../core/errors';
import { FrameKind, FrameWriter, HelloRecord } from '../../core/frame';
import { open } from '../../transports/open';
import { port, shm } from '../../transports';
import { Trade } from '../fixtures/trade';
import { exited, reapWorkers, spawn } from '../helpers';

/* What only the port transport has: Worker and parentPort ends, frames on a MessagePort. */

afterEach(async () => {
  expect(await reapWorkers()).toBe(0);
});

describe('port transport', () => {
  it('opens a Worker and its parentPort directly as ends', async () => {
    const worker = spawn('trade', { mode: 'parent' });
    const wire = open(worker, codec('string'), { worker });
    const out = lastValueFrom(wire.pipe(take(3), toArray()));
    wire.next('a');
    wire.next('b');
    wire.next('c');
    expect(await out).toEqual(['A', 'B', 'C']);
    wire.complete();
    expect(await exited(worker)).toBe(0);
  });

  /** A string reader on a fresh pair, and a writer whose first frames are the peer's HELLO and the value 'good'. */
  function stringReader() {
    const [a, b] = port.pair();
    const rx = open(b, codec('string'));
    const got: string[] = [];
    const err = new Promise<Error>((resolve) => rx.subscribe({ next: (s) => got.push(s), error: resolve }));
    const w = new FrameWriter();
    w.write(FrameKind.HELLO, HelloRecord, { version: 1, fingerprint: codec('string').fingerprint, schema: '"string"', window: 1 << 20 });
    w.write(FrameKind.NEXT, codec('string'), 'good');
    return { peer: a.port, got, err, w };
  }

  it('garbage on the port: FrameError; values before it are delivered', async () => {
    const { peer, got, err, w } = stringReader();
    const frames = w.take();
    const garbage = new Uint8Array(frames.length + 3);
    garbage.set(frames);
    garbage.set([0xff, 0xff, 0xff], frames.length); // a truncated header
    peer.postMessage(garbage);
    expect(await err).toBeInstanceOf(FrameError);
    expect(got).toEqual(['good']);
    peer.close();
  });

  it('a frame split across two posted batches is a FrameError, not reassembled (a batch holds whole frames)', async () => {
    const { peer, got, err, w } = stringReader();
    peer.postMessage(w.take());
    w.write(FrameKind.NEXT, codec('string'), 'split');
    const split = w.take();
    peer.postMessage(split.slice(0, 7)); // the header and a byte of the body
    peer.postMessage(split.slice(7));
    const error = await err;
    expect(error).toBeInstanceOf(FrameError);
    expect(error.message).toBe('frame at offset 0 declares 7 bytes but only 3 follow');
    expect(got).toEqual(['good']);
    peer.close();
  });

  it('bytes that do not decode: DecodeError', async () => {
    const [a, b] = port.pair();
    const rx = open(b, Trade);
    const err = new Promise((resolve) => rx.subscribe({ error: resolve }));
    const w = new FrameWriter();
    w.write(FrameKind.HELLO, HelloRecord, {
      version: 1,
      fingerprint: Trade.fingerprint,
      schema: JSON.stringify(Trade.schema),
      window: 1 << 20,
    });
    w.write(FrameKind.NEXT, codec('bytes'), Buffer.from([1, 2, 3])); // not a Trade
    a.port.postMessage(w.take());
    expect(await err).toBeInstanceOf(DecodeError);
    a.port.close();
  });

  it('the peer closing its port mid-stream ends this end with TransportClosedError', async () => {
    const [a, b] = port.pair();
    const rx = open(b, codec('int'));
    const err = new Promise((resolve) => rx.subscribe({ error: resolve }));
    a.port.close();
    expect(await err).toBeInstanceOf(TransportClosedError);
    await expect(rx.send(1)).rejects.toBeInstanceOf(TransportClosedError);
  });

  it.each([['port'], ['shm']])('an error too large for one frame (%s) still ends the stream: stack dropped, message cut; error() does not throw', async (kind) => {
    const [a, b] = kind === 'port' ? port.pair() : shm.pair({ bytes: 4096 });
    const options = kind === 'port' ? { maxFrameBytes: 4096 } : {};
    const writer = open(a, codec('int'), options);
    const reader = open(b, codec('int'), options);
    const ended = lastValueFrom(reader).catch((err: unknown) => err);
    const big = new Error('m'.repeat(10_000));
    big.stack = 's'.repeat(10_000);
    expect(() => writer.error(big)).not.toThrow();
    const err = (await ended) as RemoteError;
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.message).toMatch(/^m{3000,4096}$/);
    expect(err.remoteStack).toBeUndefined();
    expect(err.remoteName).toBe('Error');
  });

  it('error() with an Error whose name is a number ends the stream at the peer, and does not throw', async () => {
    const [a, b] = port.pair();
    const writer = open(a, codec('int'));
    const reader = open(b, codec('int'));
    const ended = lastValueFrom(reader).catch((err: unknown) => err);
    expect(() => writer.error(Object.assign(new Error('m'), { name: 42 as unknown as string }))).not.toThrow();
    expect(await ended).toMatchObject({ remoteName: '42', message: 'm' });
  });

  it('a batch posted as a string of bytes (one char each) is read as the same frames', async () => {
    const [a, b] = port.pair();
    const all = lastValueFrom(open(b, codec('string')).pipe(toArray()));
    const w = new FrameWriter();
    w.write(FrameKind.HELLO, HelloRecord, { version: 1, fingerprint: codec('string').fingerprint, schema: '"string"', window: 1 << 20 });
    w.write(FrameKind.NEXT, codec('string'), 'good');
    w.write(FrameKind.NEXT, codec('string'), 'naïve ☃');
    w.writeEmpty(FrameKind.COMPLETE);
    a.port.postMessage(w.takeLatin1());
    expect(await all).toEqual(['good', 'naïve ☃']);
    a.port.close();
  });

  it('a small batch goes as a string, a large one as its transferred buffer; both arrive whole and in order', async () => {
    const [a, b] = port.pair();
    const seen: string[] = [];
    // A second listener beside the reader's own: what kind of message each batch was.
    a.port.on('message', (data: unknown) => seen.push(typeof data === 'string' ? 'string' : data instanceof Uint8Array ? 'bytes' : typeof data));
    const reader = open(a, codec('string'));
    const all = lastValueFrom(reader.pipe(toArray()));
    const wire = open(b, codec('string'), { batchBytes: 1 << 20 });
    const large = 'x'.repeat(10_000);
    await wire.send('small');
    await wire.send(large);
    wire.complete();
    expect(await all).toEqual(['small', large]);
    expect(seen).toContain('string');
    expect(seen).toContain('bytes');
    // Each batch is one or the other, and the large value went as bytes.
    expect(seen.every((kind) => kind === 'string' || kind === 'bytes')).toBe(true);
    wire.close();
    reader.close();
  });
});
