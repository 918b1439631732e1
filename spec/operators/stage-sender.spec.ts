/**
 * StageSender's order under re-entry (operators/stage-sender.ts). The real
 * path is pipeline.spec's 3-step chain through 4 KiB rings; here the one
 * interleaving that lost its tail is made to happen every time: reading again
 * (`holdReading(false)`) delivers the rest of the input at once — more
 * envelopes, then the ending — inside the pump that is about to end.
 */
import { FrameError } from '../../core/errors';
import type { WireSubject } from '../../core/wire-subject';
import type { Output } from '../../operators/stage-internals';
import { StageSender } from '../../operators/stage-sender';

const envelope = (seq: number): Output<unknown> => ({ seq, values: [seq], last: true });

it('the ending waits for the envelopes that reading again delivered while the pump was ending', async () => {
  const sent: number[] = [];
  const events: string[] = [];
  let room = false;
  let sender: StageSender;
  const up = {
    trySend: (e: Output<unknown>) => (room ? (sent.push(e.seq), true) : false),
    send: (e: Output<unknown>) => Promise.resolve().then(() => void sent.push(e.seq)),
    hasError: false,
  } as unknown as WireSubject<Output<unknown>>;
  let deliverOnResume = true;
  const down = {
    holdReading: (on: boolean) => {
      events.push(on ? 'hold' : 'read');
      if (on || !deliverOnResume) return;
      deliverOnResume = false;
      // What reading again delivers at once: the last inputs' envelopes (no room for them yet), and the end.
      sender.send(envelope(2));
      sender.send(envelope(3));
      sender.end(() => events.push(`ending after ${sent.join(',')}`));
    },
  } as unknown as WireSubject<unknown>;
  sender = new StageSender(up, down, (err) => events.push(`failed ${String(err)}`));
  sender.send(envelope(1)); // no room: it waits, and the way in is held
  room = false;
  await new Promise((resolve) => setTimeout(resolve, 10));
  room = true;
  await new Promise((resolve) => setTimeout(resolve, 10));
  expect(sent).toEqual([1, 2, 3]);
  expect(events.filter((e) => e.startsWith('ending'))).toEqual(['ending after 1,2,3']);
});

it('a value too large for the ring, found while the way in is held, fails the run before reading again can end it', async () => {
  // Before, reading again came first: the input's end, delivered at once, ran the ending (the run resolved,
  // the next step saw a clean end without the value), and the FrameError was swallowed.
  const events: string[] = [];
  let failed = false;
  let sender: StageSender;
  let room = false;
  const up = {
    trySend: (e: Output<unknown>) => {
      if (e.seq === 2) throw new FrameError('a record of 9999 bytes can never fit a ring of 4096 bytes');
      return room && (events.push(`sent ${e.seq}`), true);
    },
    send: (e: Output<unknown>) => Promise.resolve().then(() => void events.push(`sent ${e.seq}`)),
    hasError: false,
  } as unknown as WireSubject<Output<unknown>>;
  let endHeld = true;
  const down = {
    holdReading: (on: boolean) => {
      if (on || !endHeld) return;
      endHeld = false;
      if (!failed) sender.end(() => events.push('ending')); // the input's end, delivered at once (stage-worker: not after a failure)
    },
  } as unknown as WireSubject<unknown>;
  sender = new StageSender(up, down, (err) => {
    failed = true;
    events.push(`failed ${(err as Error).name}`);
  });
  sender.send(envelope(1)); // no room: it waits, the way in is held
  sender.send({ seq: 2, values: ['too large'], last: true });
  room = true;
  await new Promise((resolve) => setTimeout(resolve, 10));
  expect(events).toEqual(['sent 1', 'failed FrameError']);
});
