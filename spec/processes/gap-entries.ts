/** Entries of spec/processes/gaps.spec.ts (loaded by every thread of a node, so they live in a module). */
import { tap } from 'rxjs';
import { codec } from '../../core/codec';
import { entry } from '../../processes/entry';
import { ProcessRefSchema } from '../../processes/ref';

const Long = codec('long');
const Str = codec('string');
const Unit = codec('null');

/** Holds its thread for `n` ms (a synchronous loop) on each message: what arrives meanwhile waits in the rings. */
export const hog = entry(__filename, 'hog', { capture: Unit, mailbox: Long }, (_, mailbox) =>
  mailbox.pipe(
    tap((ms) => {
      const end = Date.now() + ms;
      while (Date.now() < end);
    }),
  ),
);

/** Counts the messages it gets (tag 0); answers a tag-1 request with the count. */
export const counter = entry(__filename, 'counter', { capture: Unit, mailbox: Long, reply: Long }, (_, mailbox) => {
  let n = 0;
  return mailbox.letters.pipe(tap((letter) => (letter.tag === 1 ? letter.reply(n) : n++)));
});

const Pair = codec({
  type: 'record',
  name: 'Pair',
  fields: [
    { name: 'a', type: ProcessRefSchema },
    { name: 'b', type: ProcessRefSchema },
  ],
} as const);

/** Sends 7 to both processes of its capture (a record with two ProcessRef fields), then ends. */
export const poster = entry(__filename, 'poster', { capture: Pair, mailbox: Long }, (pair, _mailbox, self) => {
  self.handle(pair.a, counter).send(7);
  self.handle(pair.b, counter).send(7);
});

/** Takes one message (tag 0), then answers a tag-1 request with it. */
export const takeOne = entry(__filename, 'takeOne', { capture: Unit, mailbox: Long, reply: Long }, async (_, mailbox) => {
  const n = await mailbox.receive({ tags: [0] });
  const letter = await mailbox.receiveLetter({ tags: [1] });
  letter.reply(n);
});

/** Throws in a plain `subscribe` callback on a message of 0 (and answers requests with their number otherwise). */
export const throwsInSubscribe = entry(__filename, 'throwsInSubscribe', { capture: Unit, mailbox: Long, reply: Str }, (_, mailbox) => {
  return new Promise<void>(() => {
    mailbox.letters.subscribe((letter) => {
      if (letter.message === 0) throw new Error('thrown in subscribe');
      if (letter.isRequest) letter.reply(`got ${letter.message}`);
    });
  });
});

/** Settles a receive as a short report: what it resolved to, or its error's name and message. */
function outcome(receive: () => Promise<unknown>): Promise<string> {
  return receive().then(
    (value) => `resolved ${value}`,
    (err: Error) => `${err.name}: ${err.message}`,
  );
}

/**
 * Receives called off with an AbortSignal (already aborted; aborted while
 * waiting; not a signal; aborted after it resolved), then answers a tag-1
 * request with a report of each and of what the mailbox still holds: the
 * test sends a tag-5 message first, which no called-off receive may take.
 */
export const abortable = entry(__filename, 'abortable', { capture: Unit, mailbox: Long, reply: Str }, async (_, mailbox, self) => {
  const early = new AbortController();
  early.abort(new RangeError('called off early'));
  const waiting = new AbortController();
  const report: Record<string, unknown> = {
    early: await outcome(() => mailbox.receive({ signal: early.signal })),
    whileWaiting: await outcome(() => {
      const pending = mailbox.receive({ tags: [5], signal: waiting.signal });
      waiting.abort();
      return pending;
    }),
    notASignal: await outcome(() => mailbox.receive({ signal: {} as AbortSignal })),
    // receiveSignal takes no tags (signals are not tagged): refused, not ignored.
    signalTags: await outcome(() => mailbox.receiveSignal({ tags: [5] } as never)),
    // No signal comes: the timeout ends the wait, and the waiting tag-5 message is not taken for one.
    signalTimeout: await outcome(() => mailbox.receiveSignal({ timeout: 5 })),
    signalAborted: await outcome(() => {
      const calledOff = new AbortController();
      const pending = mailbox.receiveSignal({ signal: calledOff.signal });
      calledOff.abort(new RangeError('no signal wanted'));
      return pending;
    }),
  };
  const letter = await mailbox.receiveLetter({ tags: [1] });
  report.queued = mailbox.size;
  report.five = await mailbox.receive({ tags: [5], timeout: 10_000 });
  const late = new AbortController();
  self.tagSend(6, 6);
  report.six = await mailbox.receive({ tags: [6], signal: late.signal, timeout: 10_000 });
  late.abort(); // after it resolved: nothing happens
  self.tagSend(7, 7);
  report.seven = await mailbox.receive({ tags: [7], timeout: 10_000 });
  letter.reply(JSON.stringify(report));
});
