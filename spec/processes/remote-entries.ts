/** Process entries the remote-process specs spawn, on this node and on the child nodes (spec/processes/remote-child.ts). */
import { map, tap } from 'rxjs';
import { codec, raw } from '../../core/codec';
import { entry } from '../../processes/entry';
import { ProcessRefCodec, ProcessRefSchema } from '../../processes/ref';
import type { Letter } from '../../processes/types';

export const Long = codec('long');
export const Str = codec('string');
export const Unit = codec('null');

/** Raw bytes in, capture and messages: answers a request with the length of what it was asked, plus the capture's. */
export const sizer = entry(__filename, 'sizer', { capture: raw, mailbox: raw, reply: Long }, (capture, mailbox) =>
  mailbox.letters.pipe(tap((letter) => letter.isRequest && letter.reply(letter.message.length + capture.length))),
);

/** Ends at once: normally, or (capture true) failing. */
export const brief = entry(__filename, 'brief', { capture: codec('boolean'), mailbox: Long }, (fail) => {
  if (fail) throw new Error('failed at once');
});

/** Answers each request with the number plus its capture. */
export const adder = entry(__filename, 'adder', { capture: Long, mailbox: Long, reply: Long }, (plus, mailbox) =>
  mailbox.letters.pipe(tap((letter) => letter.reply(letter.message + plus))),
);

/** Waits for messages forever (until killed); never answers a request. */
export const idle = entry(__filename, 'idle', { capture: Unit, mailbox: Long, reply: Long }, (_, mailbox) => mailbox.pipe(map(() => undefined)));

/** Throws when it receives a message. */
export const crasher = entry(__filename, 'crasher', { capture: Unit, mailbox: Long }, async (_, mailbox) => {
  const n = await mailbox.receive();
  throw new Error(`crash ${n}`);
});

/** Adds up what it is sent; a request waits until something was sent, then answers with the sum. */
export const collector = entry(__filename, 'collector', { capture: Unit, mailbox: Long, reply: Long }, (_, mailbox) => {
  let sum = 0;
  const waiting: Letter<number, number>[] = [];
  return mailbox.letters.pipe(
    tap((letter) => {
      if (letter.isRequest) waiting.push(letter);
      else sum += letter.message;
      if (sum !== 0) for (const asked of waiting.splice(0)) asked.reply(sum);
    }),
  );
});

/** Sends twice `n` to the collector whose address came in the message. */
const Relayed = codec({ type: 'record', name: 'Relayed', fields: [{ name: 'n', type: 'long' }, { name: 'replyTo', type: ProcessRefSchema }] } as const);
export const relay = entry(__filename, 'relay', { capture: Unit, mailbox: Relayed }, (_, mailbox, self) =>
  mailbox.pipe(tap(({ n, replyTo }) => self.handle(replyTo, collector).send(2 * n))),
);

/**
 * Links itself to `target` (with `tag`) and monitors it, trapping exits or
 * not; answers a request for n with the signals it has seen, as JSON, once
 * it has seen n of them.
 */
const Watch = codec({
  type: 'record',
  name: 'RemoteWatch',
  fields: [{ name: 'target', type: ProcessRefSchema }, { name: 'trap', type: 'boolean' }, { name: 'tag', type: 'long' }],
} as const);
export const watcher = entry(__filename, 'watcher', { capture: Watch, mailbox: Long, reply: Str }, ({ target, trap, tag }, mailbox, self) => {
  self.trapExits(trap);
  const them = self.handle(target, idle);
  them.link(tag);
  them.monitor();
  const seen: { type: string; reason: string; tag?: number; node: string; error?: string }[] = [];
  const waiting: Letter<number, string>[] = [];
  const answer = () => {
    for (const letter of waiting.splice(0)) {
      if (seen.length >= letter.message) letter.reply(JSON.stringify(seen));
      else waiting.push(letter);
    }
  };
  mailbox.signals.subscribe((s) => {
    seen.push({ type: s.type, reason: s.reason, tag: s.type === 'LinkDied' ? s.tag : undefined, node: s.process.node, error: s.error?.message });
    answer();
  });
  return mailbox.letters.pipe(
    tap((letter) => {
      waiting.push(letter);
      answer();
    }),
  );
});

/** Spawns `idle` on node `capture`, linked to itself; a request answers with its ref, a message makes it throw. */
export const farParent = entry(__filename, 'farParent', { capture: Str, mailbox: Long, reply: ProcessRefCodec }, (node, mailbox, self) => {
  const child = self.spawn(idle, null, { node, link: true });
  return mailbox.letters.pipe(
    tap((letter) => {
      if (!letter.isRequest) throw new Error('parent fails');
      letter.reply(child.ref);
    }),
  );
});

/**
 * Monitors `target` (another node's process); when that monitor fires, sends
 * 1 to the collector `report`. Sends 10 there once the monitor is set, then
 * ends at once, or (`stay`) waits for messages until killed.
 */
const Orphan = codec({
  type: 'record',
  name: 'Orphan',
  fields: [{ name: 'target', type: ProcessRefSchema }, { name: 'report', type: ProcessRefSchema }, { name: 'stay', type: 'boolean' }],
} as const);
export const orphanWatcher = entry(__filename, 'orphanWatcher', { capture: Orphan, mailbox: Long }, ({ target, report, stay }, mailbox, self) => {
  const out = self.handle(report, collector);
  void self.handle(target, idle).monitor().died.then(() => out.send(1));
  out.send(10);
  return stay ? mailbox.pipe(map(() => undefined)) : undefined;
});

/** What {@link lateMonitor}'s timer saw, on the thread it ran on. */
export const lateMonitors: string[] = [];

/** Ends at once; 20 ms later, from a timer it left, calls `monitor()` on a handle it owned (itself): how that went goes in `lateMonitors`. */
export const lateMonitor = entry(__filename, 'lateMonitor', { capture: Unit, mailbox: Long }, (_, _mailbox, self) => {
  const mine = self.handle(self.ref, lateMonitor);
  setTimeout(() => {
    try {
      mine.monitor();
      lateMonitors.push('monitored');
    } catch (err) {
      lateMonitors.push((err as Error).name);
    }
  }, 20);
});
