/**
 * Malformed bytes reaching an end that has no subscriber yet: what it held
 * before them is kept for its first subscriber, then the error
 * (PROTOCOL.md "Limits and malformed input"). Before, the end's own failure
 * of its way out stopped its reading and dropped what it held: the first
 * subscriber got the error alone.
 */
import { codec } from '../../core/codec';
import { FrameError } from '../../core/errors';
import { FrameKind, FrameWriter, HelloRecord, helloOf } from '../../core/frame';
import { open } from '../../transports/open';
import { port } from '../../transports';
import { tick } from '../helpers';

const Long = codec('long');

it('over a port: three values, then a frame of an unknown kind, while nobody subscribes: the first subscriber gets the three, then FrameError', async () => {
  const [a, b] = port.pair();
  const wire = open(b, Long);
  try {
    const w = new FrameWriter();
    w.write(FrameKind.HELLO, HelloRecord, helloOf(Long, 1 << 20));
    for (const n of [1, 2, 3]) w.write(FrameKind.NEXT, Long, n);
    a.port.postMessage(w.take());
    a.port.postMessage(Uint8Array.of(1, 0, 0, 0, 0x05)); // a frame of kind 0x05, which no version knows
    await tick(50); // both messages have been read, and the bad one refused, before anyone subscribes
    const values: number[] = [];
    const end = await new Promise<unknown>((resolve) => wire.subscribe({ next: (v) => values.push(v), error: resolve, complete: () => resolve('complete') }));
    expect(values).toEqual([1, 2, 3]);
    expect(end).toBeInstanceOf(FrameError);
  } finally {
    wire.close();
    a.port.close();
  }
});
