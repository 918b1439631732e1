/**
 * The careless user of processes: options of the wrong type or out of
 * range, names that cannot travel, refs that name no process, messages too
 * large for the rings, calls after the node closed. Each gets a typed error
 * at the call, and the threads (and every other process) go on.
 */
import { config } from 'rxjs';
import { codec } from '../../core/codec';
import { EntryError, FrameError, MailboxFullError, NodeClosedError, RemoteError } from '../../core/errors';
import { startNode, supervisorSpec } from '../../processes';
import { Held, HELD_LIMIT, SWEEP_MS } from '../../processes/held';
import type { Envelope } from '../../processes/envelope';
import { BAD_RECEIVES, badObservable, badTeardown, badThenable, bigThrower, careless, exportedElsewhere, hoarder, keeper, keeperFeeder, misdialer, selfCareless, selfKiller, selfKillerPulled, killedThenTicks, killedThenTicksSeen, echo, spawner, stringly, surrogateThrower } from './careless-entries';
import { HERE, LONG, nodeForFile, T0, T1 } from './places';
import { until } from '../helpers';

jest.setTimeout(120_000);

const get = nodeForFile(async (node) => {
  for (const where of [T0, T1]) expect(await node.spawn(echo, null, where).request(1, LONG)).toBe(2);
});

describe('receive with bad options', () => {
  it.each([
    ['a worker', T0],
    ['the node’s own thread', HERE],
  ])('on %s: each is refused with a typed error, the process goes on, and so does its thread', async (_, where) => {
    const p = get().spawn(careless, null, where);
    const neighbour = get().spawn(echo, null, where);
    p.tagSend(0, 41); // waiting in the mailbox while the bad receives look for tags
    const answer = await p.request(0, { ...LONG, tag: 1 });
    expect(answer.split(',')).toEqual([
      ...BAD_RECEIVES.map((_, i) => (i === 5 || i === 6 ? 'RangeError' : 'TypeError')),
      'ok 41', // timeout Infinity: no limit, and the waiting message is taken
    ]);
    expect(await neighbour.request(1, LONG)).toBe(2);
    p.tagSend(0, 42);
    expect(await p.request(0, { ...LONG, tag: 1 })).toContain('ok 42'); // the process itself still runs
    p.kill();
    neighbour.kill();
  });
});

describe('failures whose text cannot travel', () => {
  it.each([
    ['a worker', T0],
    ['the node’s own thread', HERE],
  ])('on %s: a process failing with a lone surrogate in its message fails alone (U+FFFD in what its monitor and asker hear)', async (_, where) => {
    const p = get().spawn(surrogateThrower, null, where);
    const neighbour = get().spawn(echo, null, where);
    const died = p.monitor().died;
    // Handled from the start: the refused request may arrive a turn before the monitor's news.
    const asking = expect(p.request(0, { ...LONG, tag: 1 })).rejects.toMatchObject({ name: 'ProcessExitedError', reason: 'failed' });
    p.send(0);
    expect(await died).toMatchObject({ reason: 'failed', error: { message: 'bad input "x\uFFFD"' } });
    await asking;
    expect(await neighbour.request(1, LONG)).toBe(2); // its thread runs on
  });
});

describe('codecs that are not codecs', () => {
  it('handle() and lookup() given no mailbox codec: TypeError at the call, not at the first send', async () => {
    const p = get().spawn(echo, null, T0);
    await p.register('codec-check');
    expect(() => get().handle(p.ref, {} as never)).toThrow(new TypeError('handle: codecs.mailbox must be a codec (an entry, or { mailbox, reply })'));
    expect(() => get().handle(p.ref, { mailbox: echo.mailbox, reply: 42 } as never)).toThrow(TypeError);
    await expect(get().lookup('codec-check', { mailbox: 42 } as never)).rejects.toThrow(TypeError);
    expect(await get().handle(p.ref, echo).request(1, LONG)).toBe(2); // with its entry's codecs, it answers
    p.kill();
  });
});

describe('time limits', () => {
  it('request: above 2^31 - 1 ms, zero, a string or null options are refused (rejected); Infinity is no limit', async () => {
    const p = get().spawn(echo, null, T0);
    await expect(p.request(1, { timeout: 2 ** 31 })).rejects.toBeInstanceOf(RangeError);
    await expect(p.request(1, { timeout: 0 })).rejects.toBeInstanceOf(RangeError);
    await expect(p.request(1, { timeout: '5' as never })).rejects.toBeInstanceOf(TypeError);
    await expect(p.request(1, null as never)).rejects.toBeInstanceOf(TypeError);
    expect(await p.request(1, { timeout: Number.POSITIVE_INFINITY })).toBe(2);
    p.kill();
  });

  it('sendAfter: a delay a timer cannot keep (Infinity, 2^31) is a RangeError, nothing is sent', () => {
    const p = get().spawn(echo, null, T0);
    expect(() => p.sendAfter(1, Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => p.sendAfter(1, 2 ** 31)).toThrow(RangeError);
    expect(() => p.sendAfter(1, '5' as never)).toThrow(RangeError);
    p.kill();
  });
});

describe('names', () => {
  it('a lone surrogate, or a name over 1024 UTF-8 bytes, is refused at register, spawn and lookup', async () => {
    const p = get().spawn(echo, null, T0);
    await expect(p.register('a\uD800')).rejects.toBeInstanceOf(TypeError);
    await expect(p.register('é'.repeat(513))).rejects.toBeInstanceOf(RangeError);
    expect(() => get().spawn(echo, null, { ...T1, name: 'b\uDC00' })).toThrow(TypeError);
    await expect(get().lookup('c\uD800', echo)).rejects.toBeInstanceOf(TypeError);
    await expect(get().lookup(123 as never, echo)).rejects.toBeInstanceOf(TypeError);
    // A well-formed pair of surrogates is a character like any other.
    await p.register('emoji 😀');
    expect((await get().lookup('emoji 😀', echo))?.id).toBe(p.id);
    p.kill();
  });

  it('null or misspelt lookup options, a trapExits that is not a boolean, a tag that is not an integer: TypeError, from a process too', async () => {
    await expect(get().lookup('x', echo, null as never)).rejects.toThrow(TypeError);
    await expect(get().lookup('x', echo, { nod: 'x' } as never)).rejects.toThrow(/nod/);
    expect(() => get().spawn(echo, null, T0).tagSend(1.5, 1)).toThrow(/tagSend: tag/);
    const p = get().spawn(selfCareless, null, T0);
    expect(await p.request(0, LONG)).toBe('TypeError,TypeError,TypeError,TypeError,TypeError');
    p.kill();
  });

  it.each([
    ['a worker', T0],
    ['the node’s own thread', HERE],
  ])('a tag on %s is an integer an Avro long carries: ±(2^53 − 2) travels, ±(2^53 − 1) and larger integers are a RangeError at the call wherever the process is', async (_, where) => {
    const p = get().spawn(echo, null, where);
    for (const tag of [2 ** 53 - 2, -(2 ** 53 - 2)]) expect(await p.request(1, { ...LONG, tag })).toBe(2);
    for (const tag of [2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, -(2 ** 53), 2 ** 60]) {
      expect(() => p.tagSend(tag, 1)).toThrow(RangeError);
      await expect(p.request(1, { ...LONG, tag })).rejects.toThrow(RangeError);
      expect(() => p.sendAfter(1, 10, tag)).toThrow(RangeError);
      expect(() => get().spawn(echo, null, { ...where, linkTag: tag })).toThrow(RangeError);
    }
    expect(await p.request(5, LONG)).toBe(6); // and the process goes on
    p.kill();
  });

  it('a supervisor child without an entry is a TypeError naming the child', () => {
    expect(() => supervisorSpec([{ name: 'x', capture: 1 } as never])).toThrow(/child x: entry must be/);
    expect(() => supervisorSpec([{ name: 'y', entry: { module: 'm', name: 'n' }, capture: 1 } as never])).toThrow(/child y: entry must be/);
  });

  it('a supervisor child whose module does not export its entry under its name, or does not load: EntryError at supervisorSpec, as at spawn', () => {
    expect(() => get().spawn(exportedElsewhere, null, T0)).toThrow(EntryError);
    expect(() => supervisorSpec([{ name: 'h', entry: exportedElsewhere, capture: null }])).toThrow(EntryError);
    const missing = { module: '/no/such/module.js', name: 'x', capture: exportedElsewhere.capture };
    expect(() => supervisorSpec([{ name: 'm', entry: missing, capture: null }])).toThrow(EntryError);
  });

  it('spawn options of the wrong type are refused, nothing is spawned', () => {
    expect(() => get().spawn(echo, null, null as never)).toThrow(TypeError);
    expect(() => get().spawn(echo, null, { trapExits: 'yes' as never })).toThrow(TypeError);
    expect(() => startNode(null as never)).toThrow(TypeError);
    expect(() => startNode({ ringBytes: 2 ** 31 })).toThrow(RangeError); // before any worker starts
  });
});

describe('refs that name no process', () => {
  it('an id no thread of the node made, a fractional one or NaN: RangeError at handle()', () => {
    const node = get();
    const { incarnation } = node.spawn(echo, null).ref;
    for (const id of [2 ** 40 + 1, 1.5, Number.NaN, -1]) {
      expect(() => node.handle({ node: node.id, thread: 0, id, incarnation }, echo)).toThrow(RangeError);
    }
  });

  it('a ref naming the wrong thread: what is held for it is answered noproc once its maker spawns a later id there', async () => {
    const node = get();
    const maker = node.spawn(spawner, null, T1);
    const onOwnThread = await maker.request(0, LONG); // an echo on thread 1, made by thread 1
    const wrong = node.handle({ ...maker.ref, thread: 0, id: onOwnThread }, echo); // ...said to be on thread 0
    const alive = wrong.isAlive(); // held on thread 0: the SPAWN of an id of thread 1 could still be on its way
    // Caught at once: thread 0's answer may come before thread 1's reply below (two links, no order between them).
    const asked = wrong.request(1, LONG).then(
      () => 'answered',
      (err: unknown) => err,
    );
    await maker.request(1, LONG); // thread 1 spawns a later id on thread 0: the earlier one will never come there
    expect(await alive).toBe(false);
    expect(await asked).toMatchObject({ reason: 'noproc' });
    maker.kill();
  });

  it('the held envelopes are bounded in number and in time', () => {
    jest.useFakeTimers();
    try {
      const dropped: number[] = [];
      const held = new Held((_, e) => dropped.push(e.to));
      const e = (to: number) => ({ to }) as Envelope;
      let taken = 0;
      for (let i = 0; i < HELD_LIMIT; i++) if (held.hold(7, 0, e(7))) taken++;
      expect(taken).toBe(HELD_LIMIT);
      expect(held.hold(8, 0, e(8))).toBe(false); // past the limit: the caller answers it at once
      expect(held.take(7)).toHaveLength(HELD_LIMIT);
      held.hold(9, 0, e(9));
      jest.advanceTimersByTime(2 * SWEEP_MS);
      expect(dropped).toEqual([]);
      jest.advanceTimersByTime(SWEEP_MS); // its third sweep
      expect(dropped).toEqual([9]);
      expect(jest.getTimerCount()).toBe(0); // nothing held: the sweep stopped
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('a teardown that throws', () => {
  it('killed: its end still reaches its monitor and its open request; the error is reported as RxJS reports one', async () => {
    // Before, the UnsubscriptionError was thrown out of the scheduler's finish: kill() threw it, and the
    // monitor and the open request never heard (the request timed out; without a timeout, a hang).
    const reported: unknown[] = [];
    const before = config.onUnhandledError;
    config.onUnhandledError = (err) => reported.push(err);
    try {
      const p = get().spawn(badTeardown, null, HERE);
      expect(await p.request(0, LONG)).toBe(1); // running: its teardown is in place
      const died = p.monitor().died;
      const asked = p.request(1, LONG);
      asked.catch(() => {}); // awaited below
      expect(() => p.kill()).not.toThrow();
      expect((await died).reason).toBe('killed');
      await expect(asked).rejects.toThrow(/killed|ended/);
      await until(() => reported.length > 0);
      expect(String((reported[0] as { errors?: unknown[] }).errors?.[0])).toMatch(/teardown failed/);
      expect(await p.isAlive()).toBe(false);
    } finally {
      config.onUnhandledError = before;
    }
  });
});

describe('a process killed during its own Observable’s subscribe call', () => {
  it('killed in its entry, before it returned an Observable: that Observable is let go at once (its timer ran on for ever)', async () => {
    const p = get().spawn(killedThenTicks, null, HERE);
    await until(() => killedThenTicksSeen.finalized);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(killedThenTicksSeen.ticks).toBe(0);
    expect(await p.isAlive()).toBe(false);
  });

  it('stops a synchronous source there: it is not run to its end', async () => {
    const p = get().spawn(selfKiller, null, HERE);
    await until(() => selfKillerPulled.count > 0);
    expect(selfKillerPulled.count).toBe(3);
    expect(await p.isAlive()).toBe(false);
  });
});

describe('an entry returning a thenable whose then throws, or an Observable look-alike whose subscribe throws', () => {
  // A `then` (or its getter) that throws: it killed the worker, or stalled the own thread for good. A subscribe that
  // throws, returned at once or after an await: the same.
  const cases = [
    ['a thenable whose then throws', badThenable, false, 'then() throws'],
    ['a thenable whose then getter throws', badThenable, true, 'the then getter throws'],
    ['a look-alike whose subscribe throws', badObservable, false, 'subscribe throws'],
    ['the same after an await', badObservable, true, 'subscribe throws'],
  ] as const;
  it.each([
    ['a worker thread', T0],
    ['the node’s own thread', HERE],
  ])('on %s: that process fails with the throw, its neighbours answer', async (_where, where) => {
    const node = get();
    for (const [, bad, flag, message] of cases) {
      const neighbour = node.spawn(echo, null, where);
      const died = await node.spawn(bad, flag, where).monitor().died;
      expect(died).toMatchObject({ reason: 'failed', error: { message } });
      expect(await neighbour.request(1, LONG)).toBe(2);
      expect(await node.spawn(echo, null, where).request(5, LONG)).toBe(6);
    }
  });
});

describe('codecs that throw values that are no Error', () => {
  // Before 'messages': this thread says an undecodable message at most once a second.
  it('a decode that throws null: the message is lost and said (RXWIRE_MESSAGE_UNDECODABLE), the thread and the target live on', async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      // Into a process on this thread, from a worker: the warning is this thread's (before: an uncaught TypeError ended it).
      const here = get().spawn(keeper, null, HERE);
      const feeder = get().spawn(keeperFeeder, here.ref, T0);
      expect(await feeder.request(0, LONG)).toBe(1);
      expect(JSON.parse(await here.request(0, LONG))).toEqual([12, 15]);
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/did not decode .*: null$/), { code: 'RXWIRE_MESSAGE_UNDECODABLE' });
      // Into a worker's process, from here: the worker lives on (before: it died, and every process on it).
      const there = get().spawn(keeper, null, T0);
      for (const n of [12, 13, 15]) there.send(n);
      expect(JSON.parse(await there.request(0, LONG))).toEqual([12, 15]);
      expect(await get().spawn(echo, null, T0).request(1, LONG)).toBe(2);
      for (const p of [here, feeder, there]) p.kill();
    } finally {
      warn.mockRestore();
    }
  });

  it("a sendAfter whose target's own codec check throws undefined when it fires: dropped and said (RXWIRE_ENVELOPE_LOST), not thrown from the timer", async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const p = get().spawn(keeper, null, HERE);
      const plain = get().handle(p.ref, { capture: codec('null'), mailbox: codec('long') }); // checked at the call with another codec
      plain.sendAfter(14, 1);
      plain.sendAfter(12, 2);
      await until(() => warn.mock.calls.some(([, options]) => (options as { code?: string })?.code === 'RXWIRE_ENVELOPE_LOST'));
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/refused and lost: undefined$/), { code: 'RXWIRE_ENVELOPE_LOST' });
      let kept: number[] = [];
      for (let tries = 0; kept.length === 0 && tries < 500; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 5)); // until the second timer fired
        kept = JSON.parse(await p.request(0, LONG)) as number[];
      }
      expect(kept).toEqual([12]);
      p.kill();
    } finally {
      warn.mockRestore();
    }
  });
});

describe('messages', () => {
  it('too large for the rings: FrameError at the call, every time, and the link goes on', async () => {
    const node = startNode({ threads: 1, ringBytes: 4096 });
    try {
      const p = node.spawn(echo, null, T0);
      const big = node.handle(p.ref, stringly);
      expect(await p.request(1, LONG)).toBe(2);
      for (let i = 0; i < 3; i++) expect(() => big.send('x'.repeat(5000))).toThrow(FrameError);
      await expect(big.request('x'.repeat(5000), LONG)).rejects.toBeInstanceOf(FrameError);
      expect(await p.request(2, LONG)).toBe(3); // the thread was not taken for dead
    } finally {
      await node.close();
    }
  });

  it('a long name already taken, on small rings: the second process ends noproc (NameTakenError), not a wait for ever', async () => {
    // The refusal carried the name and an error of up to the ring's size: too large for a 4 KiB ring, it threw
    // where it was posted, and the process waited for its name for good (an unhandled rejection from a worker).
    const node = startNode({ threads: 1, ringBytes: 4096 });
    try {
      const name = 'n'.repeat(1000);
      const first = node.spawn(echo, null, { ...T0, name });
      expect(await first.request(1, LONG)).toBe(2);
      const second = node.spawn(echo, null, { ...T0, name });
      const died = await second.monitor().died;
      expect(died.reason).toBe('noproc');
      expect(died.error?.name).toBe('NameTakenError');
    } finally {
      await node.close();
    }
  });

  it('sendAfter of a message too large for the rings: FrameError at the call, not from the timer', async () => {
    // It was checked for its type only, and the timer threw the FrameError as an uncaught exception.
    const node = startNode({ threads: 1, ringBytes: 4096 });
    try {
      const p = node.spawn(echo, null, T0);
      const big = node.handle(p.ref, stringly);
      expect(() => big.sendAfter('x'.repeat(5000), 1)).toThrow(FrameError);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await p.request(1, LONG)).toBe(2);
    } finally {
      await node.close();
    }
  });

  it('a handle with another mailbox codec, to a process on its own thread: EncodeError at the call, the target unharmed', async () => {
    // Across threads the target's decode refuses it; on one thread the value was handed over as it was, and the
    // target failed on a string in a mailbox of longs.
    const p = get().spawn(echo, null, HERE);
    const wrong = get().handle(p.ref, stringly);
    expect(() => wrong.send('not a long')).toThrow(expect.objectContaining({ name: 'EncodeError' }));
    await expect(wrong.request('not a long', LONG)).rejects.toMatchObject({ name: 'EncodeError' });
    expect(await p.request(1, LONG)).toBe(2);
    p.kill();
  });

  it('a request whose bytes do not decode at the other end: RemoteError carrying the DecodeError, not an ending', async () => {
    const p = get().spawn(echo, null, T0);
    const wrong = get().handle(p.ref, stringly);
    await expect(wrong.request('not a long at all', LONG)).rejects.toEqual(expect.any(RemoteError));
    await expect(wrong.request('not a long at all', LONG)).rejects.toMatchObject({ remoteName: 'DecodeError' });
    expect(await p.request(1, LONG)).toBe(2);
    p.kill();
  });
  it('a message whose bytes do not decode at the other thread is lost and said as a warning (RXWIRE_MESSAGE_UNDECODABLE), the target unharmed', async () => {
    // Before, it was dropped without a word: a session opened with a process of another mailbox waited for ever.
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const p = get().spawn(echo, null, HERE);
      const sender = get().spawn(misdialer, p.ref, T0); // sends `p` a string from thread 0
      expect(await sender.request(0, LONG)).toBe(1); // its send went out before this reply
      await until(() => warn.mock.calls.length > 0);
      expect(warn).toHaveBeenCalledWith(expect.stringContaining(`a message to process ${p.id} did not decode`), { code: 'RXWIRE_MESSAGE_UNDECODABLE' });
      expect(await p.request(1, LONG)).toBe(2);
      p.kill();
      sender.kill();
    } finally {
      warn.mockRestore();
    }
  });
});

describe('mailbox bounds across threads', () => {
  it('a sender on another thread is refused once the mailbox is full, nothing sent is lost, and it may send again once the mailbox drained', async () => {
    // The ring drained into the mailbox as fast as it filled: 2M messages into a mailbox bound to 1,000.
    const p = get().spawn(hoarder, null, { ...T0, mailboxBound: 1000 });
    const taking = p.request(300, { ...LONG, tag: 1 }); // it takes nothing for 300 ms
    let sent = 0;
    let refused: unknown;
    for (let round = 0; round < 200 && refused === undefined; round++) {
      for (let i = 0; i < 1000; i++) {
        try {
          p.send(i);
          sent++;
        } catch (err) {
          refused = err;
          break;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(refused).toBeInstanceOf(MailboxFullError);
    expect(() => p.send(0)).toThrow(MailboxFullError); // until it has room
    await expect(p.request(0, { ...LONG, tag: 1 })).rejects.toBeInstanceOf(MailboxFullError);
    expect(sent).toBeGreaterThanOrEqual(1000);
    expect(await taking).toBe(sent); // every one sent is there, none twice
    p.send(7); // it has room again (ROOM came before the reply)
    expect(await p.request(0, { ...LONG, tag: 1 })).toBe(1);
    p.kill();
  });

  it('a full mailbox whose process ends says ROOM: sends to it are then dropped as to any ended process, not refused', async () => {
    const p = get().spawn(hoarder, null, { ...T0, mailboxBound: 100 });
    let refused: unknown;
    for (let round = 0; round < 200 && refused === undefined; round++) {
      for (let i = 0; i < 100 && refused === undefined; i++) {
        try {
          p.send(i);
        } catch (err) {
          refused = err;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(refused).toBeInstanceOf(MailboxFullError);
    p.kill();
    expect(await p.isAlive()).toBe(false); // answered after its ROOM, on the same link
    expect(() => p.send(1)).not.toThrow();
  });
});

describe('failures too large for the rings', () => {
  it.each([
    ['a worker', T0],
    ['the node’s own thread', HERE],
  ])('on %s: an error of 2 MB is cut (stack, then message) on its way to monitors and askers; its thread goes on', async (_, where) => {
    // It threw FrameError from the exit notice: the worker thread died with every process on it, or the program.
    const p = get().spawn(bigThrower, 2_000_000, where);
    const neighbour = get().spawn(echo, null, where);
    const watcher = get().spawn(echo, null, where === T0 ? T1 : T0);
    const died = p.monitor().died;
    // Handled from the start: the refused request may arrive a turn before the monitor's news.
    const asking = expect(p.request(0, { ...LONG, tag: 1 })).rejects.toMatchObject({ name: 'ProcessExitedError', reason: 'failed' });
    p.send(0);
    const down = await died;
    expect(down.reason).toBe('failed');
    expect(down.error?.message.startsWith('mmm')).toBe(true);
    await asking;
    expect(await neighbour.request(1, LONG)).toBe(2);
    expect(await watcher.request(1, LONG)).toBe(2);
    neighbour.kill();
    watcher.kill();
  });

  it('on rings of 4 KiB an error of 2,000 characters reaches a monitor on another thread, cut to fit', async () => {
    const node = startNode({ threads: 1, ringBytes: 4096 });
    try {
      const p = node.spawn(bigThrower, 2000, T0);
      const neighbour = node.spawn(echo, null, T0);
      const died = p.monitor().died; // on the node's own thread: the DOWN crosses a 4 KiB ring
      p.send(0);
      const down = await died;
      expect(down.error?.message).toBe('m'.repeat(2000)); // the message whole, the stack cut
      expect(down.error?.stack ?? null).toBeNull();
      expect(await neighbour.request(1, LONG)).toBe(2);
    } finally {
      await node.close();
    }
  });
});

describe('after the node closed', () => {
  it('send and tagSend to a process of the node’s own thread are NodeClosedError, as to a worker’s', async () => {
    const node = startNode({ threads: 1 });
    const here = node.spawn(echo, null, { placement: { thread: 1 } });
    const there = node.spawn(echo, null, T0);
    expect(await here.request(1, LONG)).toBe(2);
    await node.close();
    for (const p of [here, there]) {
      expect(() => p.send(1)).toThrow(NodeClosedError);
      expect(() => p.tagSend(3, 1)).toThrow(NodeClosedError);
    }
  });

  it('sendAfter, isAlive and monitor are NodeClosedError, nothing is left running', async () => {
    const node = startNode({ threads: 1 });
    const p = node.spawn(echo, null, T0);
    expect(await p.request(1, LONG)).toBe(2);
    await node.close();
    expect(() => p.sendAfter(1, 10)).toThrow(NodeClosedError);
    await expect(p.isAlive()).rejects.toBeInstanceOf(NodeClosedError);
    expect(() => p.monitor()).toThrow(NodeClosedError);
  });
});
