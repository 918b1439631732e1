import { codec } from '../../core/codec';
import { SchemaMismatchError } from '../../core/errors';
import { open } from '../../transports/open';
import { shm } from '../../transports';

/*
 * Issue 14.3 on shm: a writer publishes no value before the reader has
 * accepted its schema (the reader's state word says ACCEPTED once it has read
 * the HELLO), so a refused schema fails the writer with nothing counted as
 * sent, as on port and tcp.
 */

const V1 = codec({ type: 'record', name: 'P', fields: [{ name: 'qty', type: 'int' }] } as const);
const V2 = codec({ type: 'record', name: 'P', fields: [{ name: 'qty', type: 'int' }, { name: 'venue', type: 'string' }] } as const);

const opened: { unsubscribe(): void }[] = [];
afterEach(() => {
  for (const wire of opened.splice(0)) wire.unsubscribe();
});

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setTimeout(resolve, 5));
};

describe('shm: a writer waits for its schema to be accepted', () => {
  it('only the writer → reader direction incompatible: the writer learns it, nothing counted as sent', async () => {
    const [a, b] = shm.pair({ bytes: 4096 });
    const writer = open(a, V1);
    const reader = open(b, V2);
    opened.push(writer, reader);
    for (let i = 0; i < 3; i++) writer.next({ qty: i });
    await settle(); // the values would have been published by now
    const refused = new Promise((resolve) => reader.subscribe({ error: resolve }));
    expect(await refused).toBeInstanceOf(SchemaMismatchError);
    await settle();
    const err = await writer.send({ qty: 3 }).catch((e) => e);
    expect(err).toBeInstanceOf(SchemaMismatchError);
    expect(err.path).toBe('P.venue');
    expect(writer.stats().sent).toBe(0);
  });

  it('values taken before the reader subscribes go out once it accepts, in order', async () => {
    const [a, b] = shm.pair({ bytes: 4096 });
    const writer = open(a, V1);
    const reader = open(b, V1);
    opened.push(writer, reader);
    for (let i = 0; i < 50; i++) writer.next({ qty: i });
    writer.complete();
    await settle();
    const got: number[] = [];
    await new Promise<void>((resolve, reject) => reader.subscribe({ next: (p) => got.push(p.qty), complete: resolve, error: reject }));
    expect(got).toEqual([...Array(50).keys()]);
    expect(writer.stats().sent).toBe(50);
  });
});
