/** Process entries the process specs spawn (loaded by every thread of a node, so they live in a module). */
import { finalize, interval, map, mergeMap, take, takeWhile, tap, throwError } from 'rxjs';
import { codec } from '../../core/codec';
import { entry } from '../../processes/entry';
import { ProcessRefSchema } from '../../processes/ref';

export const Long = codec('long');
export const Str = codec('string');
export const Unit = codec('null');

/** Answers each request with the number plus its capture. */
export const adder = entry(__filename, 'adder', { capture: Long, mailbox: Long, reply: Long }, (plus, mailbox) =>
  mailbox.letters.pipe(tap((letter) => letter.reply(letter.message + plus))),
);

/** Answers one request, then ends. */
export const once = entry(__filename, 'once', { capture: Long, mailbox: Long, reply: Long }, (plus, mailbox) =>
  mailbox.letters.pipe(
    take(1),
    tap((letter) => letter.reply(letter.message + plus)),
  ),
);

/** Ends at once, normally. */
export const quick = entry(__filename, 'quick', { capture: Unit, mailbox: Long }, () => undefined);

/** Throws at once, from its entry. */
export const failsAtOnce = entry(__filename, 'failsAtOnce', { capture: Unit, mailbox: Long }, () => {
  throw new Error('failed at once');
});

/** Throws when it receives a message. */
export const crasher = entry(__filename, 'crasher', { capture: Unit, mailbox: Long }, async (_, mailbox) => {
  const n = await mailbox.receive();
  throw new Error(`crash ${n}`);
});

/** Waits for messages forever (until killed). */
export const idle = entry(__filename, 'idle', { capture: Unit, mailbox: Long }, (_, mailbox) => mailbox.pipe(map(() => undefined)));

/** Takes nothing: waits for a tag no one sends, so its mailbox fills to its bound. */
export const deaf = entry(__filename, 'deaf', { capture: Unit, mailbox: Long }, (_, mailbox) => mailbox.receive({ tags: [-1] }).then(() => undefined));

/** Ends its thread (process.exit in a worker ends only that thread) when it receives a message. */
export const threadKiller = entry(__filename, 'threadKiller', { capture: Unit, mailbox: Long }, async (_, mailbox) => {
  await mailbox.receive();
  process.exit(3);
});

/** Records the signals and messages it gets; answers a request (any number) with what it recorded, as JSON. */
export const Observer = { capture: codec({ type: 'record', name: 'Watch', fields: [{ name: 'trap', type: 'boolean' }] } as const), mailbox: Long, reply: Str };
export const watcher = entry(__filename, 'watcher', Observer, (capture, mailbox, self) => {
  self.trapExits(capture.trap);
  const seen: unknown[] = [];
  mailbox.signals.subscribe((signal) => seen.push({ type: signal.type, reason: signal.reason, tag: 'tag' in signal ? signal.tag : undefined, error: signal.error?.message }));
  return mailbox.letters.pipe(tap((letter) => (letter.isRequest ? letter.reply(JSON.stringify(seen)) : seen.push(letter.message))));
});

/** Spawns children linked to itself, one per command (n = the link tag); `seen` answers with the signals it got, as JSON. */
const ParentCmd = codec({
  type: 'record',
  name: 'ParentCmd',
  fields: [
    { name: 'op', type: { type: 'enum', name: 'Op', symbols: ['crasher', 'crasherFar', 'idle', 'idleFar', 'quick', 'threadKiller', 'poke', 'kill', 'seen'] } },
    { name: 'n', type: 'long', default: 0 },
  ],
} as const);
export const parent = entry(__filename, 'parent', { capture: Observer.capture, mailbox: ParentCmd, reply: Str }, (capture, mailbox, self) => {
  self.trapExits(capture.trap);
  const seen: unknown[] = [];
  const children: { send(n: number): void; kill(): void }[] = [];
  const other = { thread: 1 - self.ref.thread };
  mailbox.signals.subscribe((signal) => seen.push({ type: signal.type, reason: signal.reason, tag: 'tag' in signal ? signal.tag : undefined, error: signal.error?.message }));
  return mailbox.letters.pipe(
    tap((letter) => {
      const { op, n } = letter.message;
      const spawn = (child: typeof crasher, placement?: { thread: number }) => children.push(self.spawn(child, null, { link: true, linkTag: n, placement }));
      if (op === 'crasher') spawn(crasher);
      if (op === 'crasherFar') spawn(crasher, other);
      if (op === 'idle') spawn(idle);
      if (op === 'idleFar') spawn(idle, other);
      if (op === 'quick') spawn(quick);
      if (op === 'threadKiller') spawn(threadKiller, other);
      if (op === 'poke') children[n].send(n);
      if (op === 'kill') children[n].kill();
      letter.reply(JSON.stringify(seen));
    }),
  );
});

const Target = codec({
  type: 'record',
  name: 'Target',
  fields: [{ name: 'to', type: ProcessRefSchema }, { name: 'base', type: 'long' }, { name: 'count', type: 'long' }],
} as const);

/** Sends base * 1e6 + i, for i = 1..count, to the process in its capture, then ends. */
export const sender = entry(__filename, 'sender', { capture: Target, mailbox: Long }, (capture, _mailbox, self) => {
  const to = self.handle(capture.to, { capture: Unit, mailbox: Long });
  for (let i = 1; i <= capture.count; i++) to.send(capture.base * 1e6 + i);
});

/** As `sender`, then ends its thread with `process.exit(3)` in that same turn. */
export const senderThenExit = entry(__filename, 'senderThenExit', { capture: Target, mailbox: Long }, (capture, _mailbox, self) => {
  const to = self.handle(capture.to, { capture: Unit, mailbox: Long });
  for (let i = 1; i <= capture.count; i++) to.send(capture.base * 1e6 + i);
  process.exit(3);
});

/** Receives `count` messages (tag 0), then answers a request (tag 1) with how many came out of order per sender. */
export const ordered = entry(__filename, 'ordered', { capture: Long, mailbox: Long, reply: Str }, async (count, mailbox) => {
  const last = new Map<number, number>();
  let bad = 0;
  for (let i = 0; i < count; i++) {
    const n = await mailbox.receive({ tags: [0] });
    const from = Math.floor(n / 1e6);
    if ((last.get(from) ?? 0) + 1 !== n % 1e6) bad++;
    last.set(from, n % 1e6);
  }
  const letter = await mailbox.receiveLetter({ tags: [1] });
  letter.reply(JSON.stringify({ bad, senders: last.size }));
});

/** Takes a tag-2 message first, then a tag-1 one, then answers a tag-3 request with both, in that order. */
export const selective = entry(__filename, 'selective', { capture: Unit, mailbox: Long, reply: Str }, async (_, mailbox) => {
  const two = await mailbox.receive({ tags: [2] });
  const one = await mailbox.receive({ tags: [1] });
  const letter = await mailbox.receiveLetter({ tags: [3] });
  letter.reply(JSON.stringify([two, one, mailbox.size]));
});

/** Keeps every message (tag 0); answers a tag-1 request with them, as JSON. */
export const recorder = entry(__filename, 'recorder', { capture: Unit, mailbox: Long, reply: Str }, (_, mailbox) => {
  const kept: number[] = [];
  return mailbox.letters.pipe(tap((letter) => (letter.tag === 1 ? letter.reply(JSON.stringify(kept)) : kept.push(letter.message))));
});

const Ping = codec({ type: 'record', name: 'Ping', fields: [{ name: 'to', type: ProcessRefSchema }, { name: 'n', type: 'long' }] } as const);

/** Answers {to, n} with what the adder at `to` answers for n: a handle that came in a message, used from this thread. */
export const pinger = entry(__filename, 'pinger', { capture: Unit, mailbox: Ping, reply: Long }, (_, mailbox, self) =>
  mailbox.letters.pipe(mergeMap(async (letter) => letter.reply(await self.handle(letter.message.to, adder).request(letter.message.n)))),
);

/** Answers n with what the adder registered as its capture's name answers (-1 when none is). */
export const finder = entry(__filename, 'finder', { capture: Str, mailbox: Long, reply: Long }, (name, mailbox, self) =>
  mailbox.letters.pipe(
    mergeMap(async (letter) => {
      const found = await self.lookup(name, adder);
      letter.reply(found ? await found.request(letter.message) : -1);
    }),
  ),
);

/** Answers a request by sending a value that does not fit `to`'s mailbox: with the error's name, and lives on. */
export const badSender = entry(__filename, 'badSender', { capture: Unit, mailbox: Ping, reply: Str }, (_, mailbox, self) =>
  mailbox.letters.pipe(
    tap((letter) => {
      try {
        self.handle(letter.message.to, adder).send('not a number' as unknown as number);
        letter.reply('sent');
      } catch (err) {
        letter.reply((err as Error).name);
      }
    }),
  ),
);

/** Not exported under its own name: spawning it is an EntryError. */
const hidden = entry(__filename, 'hidden', { capture: Unit, mailbox: Long }, () => undefined);
export const notExported = hidden;

/** Spawns `count` `once` processes on its own thread, all alive together, then asks each; answers how many answered right. */
export const swarm = entry(__filename, 'swarm', { capture: Long, mailbox: Long, reply: Long }, async (count, mailbox, self) => {
  const letter = await mailbox.receiveLetter();
  const procs = [];
  for (let i = 0; i < count; i++) procs.push(self.spawn(once, i));
  let right = 0;
  for (let at = 0; at < count; at += 5000) {
    const answers = await Promise.all(procs.slice(at, at + 5000).map((p) => p.request(1)));
    answers.forEach((n, k) => (right += n === at + k + 1 ? 1 : 0));
  }
  letter.reply(right);
});

/**
 * An async entry whose Observable comes after an `await`: waits for its
 * first message n, then answers each request m with n + m until a message
 * 0 (its Observable then completes); with capture 'error', errors with a
 * RangeError instead.
 */
export const later = entry(__filename, 'later', { capture: Str, mailbox: Long, reply: Long }, async (how, mailbox) => {
  const first = await mailbox.receive();
  if (how === 'error') return throwError(() => new RangeError(`late: ${first}`));
  return mailbox.letters.pipe(
    takeWhile((letter) => letter.message !== 0),
    tap((letter) => letter.reply(first + letter.message)),
  );
});

/** What laterTicks did (read on the node's own thread, where the spec spawns it), and the gate its `await` waits on. */
export const laterTicksSeen = { ticks: 0, finalized: false, open: undefined as (() => void) | undefined };

/** Awaits laterTicksSeen's gate, then returns a timer that ticks for ever. */
export const laterTicks = entry(__filename, 'laterTicks', { capture: Unit, mailbox: Long }, async () => {
  await new Promise<void>((open) => (laterTicksSeen.open = open));
  return interval(5).pipe(
    tap(() => laterTicksSeen.ticks++),
    finalize(() => (laterTicksSeen.finalized = true)),
  );
});
