import { lastValueFrom, toArray } from 'rxjs';
import { codec } from '../../core/codec';
import { RemoteError, SchemaMismatchError } from '../../core/errors';
import { toyPair } from './toy-transport';

/* The toy transport of docs/ARCHITECTURE.md: the whole session runs over thirty lines of transport. */

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('the toy in-memory transport', () => {
  it('carries values in order, then complete', async () => {
    const [a, b] = toyPair(codec('int'), codec('int'));
    const got = lastValueFrom(b.pipe(toArray()));
    for (let i = 0; i < 1000; i++) a.next(i);
    a.complete();
    expect(await got).toEqual([...Array(1000).keys()]);
    b.complete();
  });

  it('carries an error as RemoteError, after the values before it', async () => {
    const [a, b] = toyPair(codec('string'), codec('string'));
    const got: string[] = [];
    const end = new Promise((resolve) => b.subscribe({ next: (s) => got.push(s), error: resolve }));
    a.next('one');
    a.error(Object.assign(new RangeError('bad qty'), { code: 'E_QTY' }));
    const err = await end;
    expect(got).toEqual(['one']);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({ message: 'bad qty', remoteName: 'RangeError', remoteCode: 'E_QTY' });
    b.complete();
  });

  it('backpressure: a full window makes trySend false and send wait until the reader consumes', async () => {
    const [a, b] = toyPair(codec('string'), codec('string'), { window: 64 });
    let taken = 0;
    while (a.trySend('0123456789')) taken++;
    expect(taken).toBeGreaterThan(0);
    expect(taken).toBeLessThan(10);
    let sent = false;
    const waiting = a.send('later').then(() => (sent = true));
    for (let i = 0; i < 5; i++) await tick();
    expect(sent).toBe(false); // nobody reads: the window stays full
    const got: string[] = [];
    b.subscribe((s) => got.push(s));
    await waiting;
    a.complete();
    for (let i = 0; i < 5 && got.length < taken + 1; i++) await tick();
    expect(got).toEqual([...Array(taken).fill('0123456789'), 'later']);
    expect(a.stats().inFlightBytes).toBeLessThanOrEqual(64 + 11);
    b.complete();
  });

  it('a schema mismatch fails the reader and the writer, and nothing is counted as sent', async () => {
    const [a, b] = toyPair(codec('int'), codec('string'));
    a.next(1); // taken before the refusal is known: held, never sent
    const [ea, eb] = await Promise.all([lastValueFrom(a).catch((e) => e), lastValueFrom(b).catch((e) => e)]);
    expect(ea).toBeInstanceOf(SchemaMismatchError);
    expect(eb).toBeInstanceOf(SchemaMismatchError);
    await expect(a.send(2)).rejects.toBeInstanceOf(SchemaMismatchError);
    expect(a.stats().sent).toBe(0);
  });
});
