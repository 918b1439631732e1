/** Process entries the process specs spawn (loaded by every thread of a node, so they live in a module). */
import { map, take, tap } from 'rxjs';
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

/** Throws when it receives a message. */
export const crasher = entry(__filename, 'crasher', { capture: Unit, mailbox: Long }, async (_, mailbox) => {
  const n = await mailbox.receive();
  throw new Error(`crash ${n}`);
});

/** Waits for messages forever (until killed). */
export const idle = entry(__filename, 'idle', { capture: Unit, mailbox: Long }, (_, mailbox) => mailbox.pipe(map(() => undefined)));

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

/** Spawns `crasher`/`idle` children linked to itself per command; reports through `watcher`-like JSON. */
const ParentCmd = codec({
  type: 'record',
  name: 'ParentCmd',
  fields: [
    { name: 'op', type: { type: 'enum', name: 'Op', symbols: ['spawnCrasher', 'spawnIdle', 'poke', 'seen', 'killChild', 'spawnOnOther'] } },
    { name: 'n', type: 'long', default: 0 },
  ],
} as const);
export const parent = entry(__filename, 'parent', { capture: Observer.capture, mailbox: ParentCmd, reply: Str }, (capture, mailbox, self) => {
  self.trapExits(capture.trap);
  const seen: unknown[] = [];
  const children: { send(n: number): void; kill(): void }[] = [];
  mailbox.signals.subscribe((signal) => seen.push({ type: signal.type, reason: signal.reason, tag: 'tag' in signal ? signal.tag : undefined, error: signal.error?.message }));
  return mailbox.letters.pipe(
    tap((letter) => {
      const { op, n } = letter.message;
      if (op === 'spawnCrasher') children.push(self.spawn(crasher, null, { link: true, linkTag: n }));
      if (op === 'spawnIdle') children.push(self.spawn(idle, null, { link: true, linkTag: n }));
      if (op === 'spawnOnOther') children.push(self.spawn(threadKiller, null, { link: true, linkTag: n, placement: { thread: 1 - self.ref.thread } }));
      if (op === 'poke') children[n].send(n);
      if (op === 'killChild') children[n].kill();
      letter.reply(JSON.stringify(seen));
    }),
  );
});

/** Forwards every number it receives to the process in its capture (a ProcessRef), then ends after `count`. */
const RelayCapture = codec({ type: 'record', name: 'Relay', fields: [{ name: 'to', type: ProcessRefSchema }, { name: 'count', type: 'long' }] } as const);
export const relay = entry(__filename, 'relay', { capture: RelayCapture, mailbox: Long }, async (capture, mailbox, self) => {
  const to = self.handle(capture.to, { capture: Unit, mailbox: Long });
  for (let i = 0; i < capture.count; i++) to.send(await mailbox.receive());
});

/** Sends 1..count to the process in its capture, then ends. */
export const counter = entry(__filename, 'counter', { capture: RelayCapture, mailbox: Long }, (capture, _mailbox, self) => {
  const to = self.handle(capture.to, { capture: Unit, mailbox: Long });
  for (let i = 1; i <= capture.count; i++) to.send(i);
});

/** Receives `count` numbers and answers a request with whether they came in order per sender (sender = n >> 32... simplified: n / 1e6). */
export const ordered = entry(__filename, 'ordered', { capture: Long, mailbox: Long, reply: Str }, async (count, mailbox) => {
  const last = new Map<number, number>();
  let bad = 0;
  for (let i = 0; i < count; i++) {
    const n = await mailbox.receive({ tags: [0] });
    const sender = Math.floor(n / 1e6);
    const seq = n % 1e6;
    if ((last.get(sender) ?? 0) + 1 !== seq) bad++;
    last.set(sender, seq);
  }
  const letter = await mailbox.receiveLetter({ tags: [1] });
  letter.reply(JSON.stringify({ bad, senders: last.size }));
});

/** Not exported under its name: spawning it is an EntryError. */
const hidden = entry(__filename, 'hidden', { capture: Unit, mailbox: Long }, () => undefined);
export const notExported = hidden;
