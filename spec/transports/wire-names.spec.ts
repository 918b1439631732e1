import { lastValueFrom, toArray } from 'rxjs';
import { codec } from '../../core/codec';
import { open } from '../../transports/open';
import { NAMES_CASES } from '../fixtures/names';
import { TRANSPORTS, exited, reapWorkers, spawnWith } from '../helpers';

/*
 * A writer in a worker thread whose schema has a type in no namespace nested
 * in a namespaced record, read on the main thread with an evolved schema:
 * the reader parses the HELLO's canonical form, where the Avro rules read
 * that type as in the namespace (refused: a mismatch, or avsc's duplicate
 * type name), and must read it as the writer meant it.
 */

afterEach(async () => {
  expect(await reapWorkers()).toBe(0);
});

describe.each(TRANSPORTS)('over %s', (transport) => {
  it.each(NAMES_CASES)('$name: an evolved reader reads the writer', async ({ writer, reader, value, read }) => {
    const { here, worker } = spawnWith(transport, 'names-writer', { writer, value });
    const rx = open(here, codec(reader as never));
    expect(await lastValueFrom(rx.pipe(toArray()))).toEqual([read]);
    expect(await exited(worker)).toBe(0);
  });
});
