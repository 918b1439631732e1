/**
 * A writer of `workerData.writer`'s schema (spec/fixtures/names.ts): sends
 * `workerData.value` on its end, then completes. The reader, on the main
 * thread, reads it with its own (evolved) schema.
 */
import { workerData } from 'node:worker_threads';
import { codec } from '../../core/codec';
import { open } from '../../transports/open';

const { end, writer, value } = workerData as { end: never; writer: never; value: never };
const wire = open(end, codec(writer));
wire.next(value);
wire.complete();
