import { codec } from '../../core/codec';
import { ErrorCode, RemoteError } from '../../core/errors';
import { open } from '../../transports/open';
import { shm } from '../../transports';

/*
 * Issue 14.2: an ending written while the ring is full must still arrive.
 * Both ends in this thread, a 4 KiB ring: 511 ints fill it several times over,
 * so the ending is written when the writer has just been waiting for room.
 */

/** What the reader saw: its values and how the stream ended ('hung' if it did not within 5 s). */
function readAll(rx: ReturnType<typeof open<number>>): Promise<{ values: number; end: unknown }> {
  return new Promise((resolve) => {
    let values = 0;
    const timer = setTimeout(() => {
      sub.unsubscribe();
      resolve({ values, end: 'hung' });
    }, 5000);
    const done = (end: unknown) => {
      clearTimeout(timer);
      resolve({ values, end });
    };
    const sub = rx.subscribe({ next: () => values++, complete: () => done('complete'), error: done });
  });
}

const opened: { unsubscribe(): void }[] = [];
afterEach(() => {
  // A hung test must not leave its ends open.
  for (const wire of opened.splice(0)) wire.unsubscribe();
});

describe('shm: every ending arrives, however full the ring', () => {
  it('511 values then complete() on a 4 KiB pair', async () => {
    const [a, b] = shm.pair({ bytes: 4096 });
    const tx = open(a, codec('int'));
    const rx = open(b, codec('int'));
    opened.push(tx, rx);
    const seen = readAll(rx);
    for (let i = 0; i < 511; i++) tx.next(i);
    tx.complete();
    expect(await seen).toEqual({ values: 511, end: 'complete' });
  });

  it('511 values then an error with a long message', async () => {
    const [a, b] = shm.pair({ bytes: 4096 });
    const tx = open(a, codec('int'));
    const rx = open(b, codec('int'));
    opened.push(tx, rx);
    const seen = readAll(rx);
    for (let i = 0; i < 511; i++) tx.next(i);
    tx.error(new Error('x'.repeat(3000)));
    const { values, end } = await seen;
    expect(values).toBe(511);
    expect(end).toBeInstanceOf(RemoteError);
    expect((end as RemoteError).message).toContain('xxxx');
  });

  it('the QueueFullError ending of a next() past maxQueue', async () => {
    const [a, b] = shm.pair({ bytes: 4096 });
    const tx = open(a, codec('int'), { maxQueue: 10 });
    const rx = open(b, codec('int'));
    opened.push(tx, rx);
    tx.subscribe({ error: () => undefined }); // the writer's own subscribers get it too
    const seen = readAll(rx);
    let i = 0;
    // Fills the ring and the queue; the next one past maxQueue ends the stream.
    while (!tx.closed && i < 10_000) tx.next(i++);
    const { values, end } = await seen;
    expect(values).toBeGreaterThan(0);
    expect(end).toBeInstanceOf(RemoteError);
    expect((end as RemoteError).remoteCode).toBe(ErrorCode.QUEUE_FULL);
  });
});
