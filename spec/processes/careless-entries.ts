/** Entries of spec/processes/careless.spec.ts (loaded by every thread of a node, so they live in a module). */
import { Observable, finalize, interval, map, tap } from 'rxjs';
import { codec, type Codec } from '../../core/codec';
import { entry } from '../../processes/entry';
import { ProcessRefSchema } from '../../processes/ref';

const Long = codec('long');
const Str = codec('string');
const Unit = codec('null');

/** What a careless `receive` is given. */
export const BAD_RECEIVES: readonly unknown[] = [
  { tags: 5 },
  { tags: [1.5] },
  { tags: null },
  null,
  { timeout: null },
  { timeout: -1 },
  { timeout: 2 ** 31 },
  { timeout: '10' },
];

/**
 * On a request (tag 1), with a message (tag 0) waiting in its mailbox: calls
 * `receive` with each of BAD_RECEIVES, then `receive({ timeout: Infinity })`
 * (which takes the waiting message), and answers with what each did.
 */
export const careless = entry(__filename, 'careless', { capture: Unit, mailbox: Long, reply: Str }, async (_, mailbox) => {
  for (;;) {
    const letter = await mailbox.receiveLetter({ tags: [1] });
    const results: string[] = [];
    for (const options of [...BAD_RECEIVES, { timeout: Number.POSITIVE_INFINITY }]) {
      try {
        results.push(`ok ${await mailbox.receive(options as never)}`);
      } catch (err) {
        results.push((err as Error).constructor.name);
      }
    }
    letter.reply(results.join(','));
  }
});

/** Answers every request with the message plus one. */
export const echo = entry(__filename, 'echo', { capture: Unit, mailbox: Long, reply: Long }, (_, mailbox) =>
  mailbox.letters.pipe(tap((letter) => letter.reply(letter.message + 1))),
);

/** On a request: makes careless calls on its own handle and answers with the name of what each threw ('ok' if nothing). */
export const selfCareless = entry(__filename, 'selfCareless', { capture: Unit, mailbox: Long, reply: Str }, (_, mailbox, self) =>
  mailbox.letters.pipe(
    tap(async (letter) => {
      const names: string[] = [];
      const calls: (() => unknown)[] = [
        () => self.spawn(echo, null, null as never),
        () => self.trapExits('no' as never),
        () => self.lookup('x', echo, null as never),
        () => self.lookup('x', echo, { nod: 'x' } as never),
        () => self.tagSend(0.5, 1),
      ];
      for (const call of calls) {
        try {
          await call();
          names.push('ok');
        } catch (err) {
          names.push((err as Error).name);
        }
      }
      letter.reply(names.join(','));
    }),
  ),
);

/** Takes strings: a handle made with it to an `echo` sends bytes that do not decode there. */
export const stringly = entry(__filename, 'stringly', { capture: Unit, mailbox: Str, reply: Long }, () => undefined);

/** Sends its capture (the ref of an `echo`, a mailbox of longs) a string through a `stringly` handle, then answers requests with 1. */
export const misdialer = entry(__filename, 'misdialer', { capture: codec(ProcessRefSchema), mailbox: Long, reply: Long }, (target, mailbox, self) => {
  self.handle(target, stringly).send('not a long');
  return mailbox.letters.pipe(tap((letter) => letter.reply(1)));
});

/** On a request: spawns an `echo` where the request says (0: its own thread, 1: thread 0) and answers with its id. */
export const spawner = entry(__filename, 'spawner', { capture: Unit, mailbox: Long, reply: Long }, (_, mailbox, self) =>
  mailbox.letters.pipe(tap((letter) => letter.reply(self.spawn(echo, null, letter.message === 0 ? {} : { placement: { thread: 0 } }).id))),
);

/** Fails, on its first message, with an error whose message holds a lone surrogate (text the codec refuses). */
/** At a request (tag 1) for `ms`: waits `ms`, then takes every tag-0 message its mailbox holds and answers how many. */
export const hoarder = entry(__filename, 'hoarder', { capture: Unit, mailbox: Long, reply: Long }, async (_, mailbox) => {
  for (;;) {
    const letter = await mailbox.receiveLetter({ tags: [1] });
    await new Promise((resolve) => setTimeout(resolve, letter.message));
    let taken = 0;
    while (mailbox.size > 0) {
      await mailbox.receive({ tags: [0] });
      taken++;
    }
    letter.reply(taken);
  }
});

/** Fails, at its first message, with an Error whose message is `size` characters (and its stack as long again). */
export const bigThrower = entry(__filename, 'bigThrower', { capture: Long, mailbox: Long, reply: Long }, async (size, mailbox) => {
  await mailbox.receive({ tags: [0] });
  throw new Error('m'.repeat(size));
});

export const surrogateThrower = entry(__filename, 'surrogateThrower', { capture: Unit, mailbox: Long, reply: Long }, async (_, mailbox) => {
  await mailbox.receive({ tags: [0] });
  throw new Error('bad input "x\uD800"');
});

/** An entry its module exports under another name only: spawn and supervisorSpec refuse it (EntryError). */
const hidden = entry(__filename, 'hidden', { capture: Unit, mailbox: Long }, () => undefined);
export const exportedElsewhere = hidden;

/** A hand-written mailbox codec of longs that throws values that are no Error: `null` from decode for 13, `undefined` from check for 14. */
export const Nullish: Codec<number> = {
  schema: Long.schema,
  fingerprint: Long.fingerprint,
  encode: (value: number) => Long.encode(value),
  encodeInto: (value: number, buffer: Buffer, offset: number) => Long.encodeInto(value, buffer, offset),
  decode(buffer: Uint8Array, start?: number, end?: number): number {
    const value = Long.decode(buffer, start, end);
    if (value === 13) throw null; // eslint-disable-line no-throw-literal
    return value;
  },
  resolve() {
    return Nullish;
  },
  check(value: unknown): asserts value is number {
    if (value === 14) throw undefined; // eslint-disable-line no-throw-literal
    const long: Codec<number> = Long;
    long.check(value);
  },
};

/** Keeps every message; answers a request with what it kept, as JSON. */
export const keeper = entry(__filename, 'keeper', { capture: Unit, mailbox: Nullish, reply: Str }, (_, mailbox) => {
  const kept: number[] = [];
  return mailbox.letters.pipe(tap((letter) => (letter.isRequest ? letter.reply(JSON.stringify(kept)) : kept.push(letter.message))));
});

/** Sends 12, 13 and 15 to the keeper at its capture; answers a request once they went. */
export const keeperFeeder = entry(__filename, 'keeperFeeder', { capture: codec(ProcessRefSchema), mailbox: Long, reply: Long }, (target, mailbox, self) => {
  const them = self.handle(target, keeper);
  for (const n of [12, 13, 15]) them.send(n);
  return mailbox.letters.pipe(tap((letter) => letter.reply(1)));
});

/** Answers a request for 0 with 1, and no other; its teardown throws (a `finalize` written carelessly). */
export const badTeardown = entry(__filename, 'badTeardown', { capture: Unit, mailbox: Long, reply: Long }, (_, mailbox) =>
  mailbox.letters.pipe(
    // `map`, not `tap`: tap turns an error out of the teardown into an error of its output, which the
    // process's end then drops; through `map` it is thrown out of the mailbox's close.
    map((letter) => {
      if (letter.message === 0) letter.reply(1);
      return letter;
    }),
    finalize(() => {
      throw new Error('teardown failed');
    }),
  ),
);

/** How far selfKiller's synchronous source ran (read on the node's own thread, where the spec spawns it). */
export const selfKillerPulled = { count: 0 };

/** Returns a synchronous source that kills its own process on its third value: the kill must stop it there. */
export const selfKiller = entry(__filename, 'selfKiller', { capture: Unit, mailbox: Long }, (_, _mailbox, self) =>
  new Observable<never>((subscriber) => {
    while (!subscriber.closed && selfKillerPulled.count < 1_000_000) if (++selfKillerPulled.count === 3) self.kill();
  }),
);

/** What killedThenTicks's timer did: ticks after its own kill, and whether its teardown ran (read on the node's own thread). */
export const killedThenTicksSeen = { ticks: 0, finalized: false };

/** Kills itself in its entry, then returns a timer: a dead process's Observable must be let go at once. */
export const killedThenTicks = entry(__filename, 'killedThenTicks', { capture: Unit, mailbox: Long }, (_, _mailbox, self) => {
  self.kill();
  return interval(5).pipe(
    tap(() => killedThenTicksSeen.ticks++),
    finalize(() => (killedThenTicksSeen.finalized = true)),
  );
});

/** Returns a thenable whose `then` throws (`getter`: whose `then` getter throws). */
export const badThenable = entry(__filename, 'badThenable', { capture: codec('boolean'), mailbox: Long }, (getter) =>
  (getter
    ? {
        get then(): never {
          throw new Error('the then getter throws');
        },
      }
    : {
        then(): never {
          throw new Error('then() throws');
        },
      }) as unknown as Promise<void>,
);

/** Returns an Observable look-alike (`lift` and `subscribe`, as RxJS's isObservable asks) whose subscribe throws; `later`: after an await. */
export const badObservable = entry(__filename, 'badObservable', { capture: codec('boolean'), mailbox: Long }, (later) => {
  const fake = {
    lift: () => fake,
    subscribe(): never {
      throw new Error('subscribe throws');
    },
  } as unknown as Observable<never>;
  return later ? Promise.resolve().then(() => fake) : fake;
});

/** Takes every letter and answers none (a `letters` consumer that ignores requests). */
export const ignorer = entry(__filename, 'ignorer', { capture: Unit, mailbox: Long, reply: Long }, (_, mailbox) => mailbox.letters.pipe(map(() => undefined)));

/**
 * White box: answers a request n with how many askers process n keeps (its
 * `asked` set) — n on this process's own thread, which a spec cannot reach
 * when it is a worker's or another node's (ids.spec, remote.spec).
 */
export const askersOf = entry(__filename, 'askersOf', { capture: Unit, mailbox: Long, reply: Long }, (_, mailbox, self) =>
  mailbox.letters.pipe(
    tap((letter) => {
      const { procs } = (self as unknown as { scheduler: { procs: { get(id: number): { asked: Set<unknown> | null } | undefined } } }).scheduler;
      letter.reply(procs.get(letter.message)?.asked?.size ?? 0);
    }),
  ),
);
