/**
 * Processes that speak typed protocols, for spec/processes/protocol.spec.ts:
 * each reports what it did (or the error it met, by name and code) to the
 * probe, so the test sees both sides.
 */
import { codec } from '../../core/codec';
import {
  accept,
  choose,
  connect,
  end,
  entry,
  loop,
  offer,
  protocol,
  ProcessRefSchema,
  ProtocolMail,
  recv,
  send,
  type Choose,
  type Offer,
  type Recv,
  type Send,
  type End,
} from '../../processes/index';
import { PROBE } from './protocol-probe';

const Num = codec('double');

/** The client sends a number and receives its double. */
export const Doubling = protocol('doubling', send(Num, recv(Num, end)));
/** The same shape with a string: a different protocol. */
export const Naming = protocol('naming', send(codec('string'), recv(Num, end)));

/** The client sends a text and receives its length. */
export const Texting = protocol('texting', send(codec('string'), recv(Num, end)));

/** The client chooses `add` (a number) as often as it likes, then `total` and receives the sum. */
interface Adder extends Choose<{ add: Send<number, Adder>; total: Recv<number, End> }> {}
export const Adder = protocol('adder', loop<Adder>((again) => choose({ add: send(Num, again), total: recv(Num, end) })));
/** The server side of Adder, declared on its own (not as a dual), to check that both agree. */
interface Summing extends Offer<{ add: Recv<number, Summing>; total: Send<number, End> }> {}
export const Summing = protocol('adder', loop<Summing>((again) => offer({ add: recv(Num, again), total: send(Num, end) })));

const Capture = codec({
  type: 'record',
  name: 'ProtocolCapture',
  fields: [
    { name: 'probe', type: ProcessRefSchema },
    { name: 'peer', type: ['null', 'rxwire.ProcessRef'] }, // defined once, above, then named
    { name: 'mode', type: 'string' },
    { name: 'numbers', type: { type: 'array', items: 'double' } },
  ],
} as const);

const CODECS = { capture: Capture, mailbox: ProtocolMail };

/** What an error is, for the probe: `name code [reason]` (`null`: a thrown null). */
function describeError(err: unknown): string {
  const e = err as { name?: string; code?: string; reason?: string };
  return [e.name, e.code, e.reason].filter(Boolean).join(' ');
}

/**
 * The server. Modes: `double` answers Doubling; `vanish` takes the number
 * and ends without answering; `crash` takes it and throws; `sum` serves
 * Adder; `wait-close` answers Doubling, then closes (and reports how the
 * close went); `bad-accept` reports how `accept` with a misspelt option
 * fails, then answers Doubling; `again` answers a first Doubling session
 * (reporting how its close fails), then a second; `drop-queued` drops an
 * Adder session while the client's messages are queued and reports how
 * many stay.
 */
export const server = entry(__filename, 'server', CODECS, async ({ probe, mode }, mailbox, self) => {
  const report = self.handle(probe, PROBE);
  try {
    if (mode === 'length') {
      const [text, answering] = await (await accept(Texting.dual(), { self, mailbox })).receive();
      report.send(`server: got ${text}`);
      await answering.send(text.length).close();
      return report.send('server: closed');
    }
    if (mode === 'sum') {
      let state = await accept(Summing, { self, mailbox });
      let sum = 0;
      for (;;) {
        const chosen = await state.offer();
        if (chosen.label === 'total') {
          await chosen.next.send(sum).close();
          return report.send(`server: total ${sum}, closed`);
        }
        const [n, next] = await chosen.next.receive();
        sum += n;
        state = next;
      }
    }
    if (mode === 'drop-queued') {
      // Waits until the client's whole run of choices and values is queued, takes the first, then drops the
      // session (its receive called off): the rest, still queued, goes with it.
      const state = await accept(Summing, { self, mailbox });
      while (mailbox.size < 7) await new Promise((resolve) => setTimeout(resolve, 5));
      const chosen = await state.offer();
      if (chosen.label !== 'add') return report.send(`server: chose ${chosen.label}`);
      const calledOff = new AbortController();
      calledOff.abort(new Error('called off'));
      const why = await chosen.next.receive({ signal: calledOff.signal }).then(() => 'received', (err: Error) => err.message);
      return report.send(`server: ${why}, ${mailbox.size} left in the mailbox`);
    }
    if (mode === 'bad-accept') {
      // A misspelt option is refused at once (it once meant "no limit"); the next accept takes the session.
      await accept(Doubling.dual(), { self, mailbox }, { timout: 5 } as never).catch((err: unknown) => report.send(`server: ${describeError(err)}`));
    }
    if (mode === 'again') {
      // The first session: answered, then dropped by the client at close; the second completes.
      const [n, answering] = await (await accept(Doubling.dual(), { self, mailbox })).receive();
      await answering
        .send(n * 2)
        .close()
        .catch((err: unknown) => report.send(`server: first ${describeError(err)}`));
    }
    const [n, answering] = await (await accept(Doubling.dual(), { self, mailbox })).receive();
    report.send(`server: got ${n}`);
    if (mode === 'vanish') return;
    if (mode === 'crash') throw new Error('the server crashed');
    await answering.send(n * 2).close();
    report.send('server: closed');
  } catch (err) {
    if (mode === 'crash') throw err;
    report.send(`server: ${describeError(err)}`);
  }
});

/**
 * The client. Modes: `double` asks Doubling with numbers[0]; `naming` opens
 * Naming instead (another protocol); `sum` adds the numbers with Adder;
 * `twice` uses a state twice; `vanish` sends its number and ends; `abort`
 * calls its receive off with an AbortSignal (aborted already);
 * `abort-again` does that, then completes a second session and reports its
 * mailbox's size.
 */
export const client = entry(__filename, 'client', CODECS, async ({ probe, peer, mode, numbers }, mailbox, self) => {
  const report = self.handle(probe, PROBE);
  const them = self.handle(peer!, { capture: Capture, mailbox: ProtocolMail });
  try {
    if (mode === 'sum') {
      let state = connect(Adder, { self, mailbox }, them);
      for (const n of numbers) state = state.choose('add').send(n);
      const [total, done] = await state.choose('total').receive();
      await done.close();
      return report.send(`client: total ${total}, closed`);
    }
    if (mode === 'too-big') {
      // A value too large for the rings: FrameError, and the state is still usable (nothing went).
      const start = connect(Texting, { self, mailbox }, them);
      try {
        start.send('x'.repeat(2_000_000));
      } catch (err) {
        report.send(`client: ${describeError(err)}`);
      }
      const [length, done] = await start.send('hello').receive();
      await done.close();
      return report.send(`client: got ${length}, closed`);
    }
    if (mode === 'self') {
      connect(Doubling, { self, mailbox }, self.handle(self.ref, { capture: Capture, mailbox: ProtocolMail }));
      return report.send('client: opened a session with itself');
    }
    if (mode === 'abort-again') {
      // Drops its first session before the answer comes (its receive called off), then completes a second: the
      // server's answer and CLOSE of the first came before the second's (one sender, in order) and must not stay queued.
      const calledOff = new AbortController();
      calledOff.abort(new Error('called off'));
      await connect(Doubling, { self, mailbox }, them)
        .send(numbers[0])
        .receive({ signal: calledOff.signal })
        .catch(() => {});
      const [twice, done] = await connect(Doubling, { self, mailbox }, them).send(numbers[0]).receive();
      await done.close();
      return report.send(`client: got ${twice}, closed, ${mailbox.size} left in the mailbox`);
    }
    if (mode === 'naming') {
      await connect(Naming, { self, mailbox }, them).send('twenty-one').receive();
      return report.send('client: answered?');
    }
    const start = connect(Doubling, { self, mailbox }, them);
    const waiting = start.send(numbers[0]);
    if (mode === 'vanish') return;
    if (mode === 'twice') start.send(numbers[0]);
    const calledOff = new AbortController();
    if (mode === 'abort') calledOff.abort(Object.assign(new Error('called off'), { name: 'AbortError' }));
    if (mode === 'abort-null') calledOff.abort(null); // a reason that is no Error at all
    if (mode === 'bad-options') {
      // Refused at the door: the state, and the session, stay as they were.
      for (const options of [null, { timeout: -1 }, { timeuot: 5 }]) {
        try {
          await waiting.receive(options as never);
        } catch (err) {
          report.send(`client: ${describeError(err)}`);
        }
      }
    }
    const [twice, done] = await waiting.receive({ signal: calledOff.signal });
    report.send(`client: got ${twice}`);
    await done.close();
    report.send('client: closed');
  } catch (err) {
    report.send(`client: ${err === null ? 'null' : describeError(err)}`);
    if (mode === 'abort-null') await new Promise(() => {}); // alive: the server can learn only from the DROP
  }
});
