/**
 * Process entries of spec/processes/remote-threads.spec.ts: processes on a
 * worker thread that call other nodes' processes, and the processes of the
 * child nodes they call (loaded there too).
 */
import { concatMap, map, tap } from 'rxjs';
import { codec } from '../../core/codec';
import { entry } from '../../processes/entry';
import { ProcessRefCodec } from '../../processes/ref';
import type { Letter, ProcessRef } from '../../processes/types';
import { adder, idle, Long, Str } from './remote-entries';

/**
 * For a request n: spawns `adder` (capture n, named `far-n`) on node
 * `capture`, asks it, looks its name up there, monitors and kills it; the
 * answer says what each step gave, as JSON.
 */
export const farUser = entry(__filename, 'farUser', { capture: Str, mailbox: Long, reply: Str }, (node, mailbox, self) =>
  mailbox.letters.pipe(
    concatMap(async (letter) => {
      const p = self.spawn(adder, letter.message, { node, name: `far-${letter.message}` });
      const sum = await p.request(1, { timeout: 60_000 });
      const found = await self.lookup(`far-${letter.message}`, adder, { node });
      const died = p.monitor().died;
      p.kill();
      const { reason } = await died;
      const alive = await p.isAlive();
      letter.reply(JSON.stringify({ here: self.ref.thread, there: p.node, sum, same: found?.id === p.id, reason, alive }));
    }),
  ),
);

/** Asks node `capture`'s `w-adder` for n + 100, from wherever it runs: the answer, or the error's name. */
export const farAsker = entry(__filename, 'farAsker', { capture: Str, mailbox: Long, reply: Str }, (node, mailbox, self) =>
  mailbox.letters.pipe(
    concatMap(async (letter) => {
      try {
        const w = await self.lookup('w-adder', adder, { node });
        letter.reply(w ? String(await w.request(letter.message, { timeout: 60_000 })) : 'none');
      } catch (err) {
        letter.reply((err as Error).name);
      }
    }),
  ),
);

/**
 * Receives a process ref (another node's `greeter`) and asks it, with the
 * handle it makes from that ref; a request answers with what it got, once
 * it has it.
 */
export const refTaker = entry(__filename, 'refTaker', { capture: codec('null'), mailbox: ProcessRefCodec, reply: Long }, (_, mailbox, self) => {
  let got: number | undefined;
  const waiting: Letter<ProcessRef, number>[] = [];
  const answer = () => {
    if (got !== undefined) for (const letter of waiting.splice(0)) letter.reply(got);
  };
  return mailbox.letters.pipe(
    concatMap(async (letter) => {
      if (letter.isRequest) waiting.push(letter);
      else got = await self.handle(letter.message, greeter).request(41, { timeout: 60_000 });
      answer();
    }),
  );
});

/** Sends its own ref to the process `capture` (a `refTaker`), and answers each request n with n + 1. */
export const greeter = entry(__filename, 'greeter', { capture: ProcessRefCodec, mailbox: Long, reply: Long }, (to, mailbox, self) => {
  self.handle(to, refTaker).send(self.ref);
  return mailbox.letters.pipe(tap((letter) => letter.reply(letter.message + 1)));
});

const Placed = codec({ type: 'record', name: 'PlacedParent', fields: [{ name: 'node', type: 'string' }, { name: 'thread', type: 'int' }] } as const);

/** Spawns `idle` on `node`, thread `thread` there, linked to itself; a request answers with its ref, a message makes it throw. */
export const placedParent = entry(__filename, 'placedParent', { capture: Placed, mailbox: Long, reply: ProcessRefCodec }, ({ node, thread }, mailbox, self) => {
  const child = self.spawn(idle, null, { node, link: true, placement: { thread } });
  return mailbox.letters.pipe(
    map((letter) => {
      if (!letter.isRequest) throw new Error('parent fails');
      letter.reply(child.ref);
    }),
  );
});

/** Links itself to process `capture` (on another node) and answers a first request once linked; a message then ends its thread (process.exit on a worker ends only that thread). */
export const linkedThreadKiller = entry(__filename, 'linkedThreadKiller', { capture: ProcessRefCodec, mailbox: Long, reply: Long }, async (target, mailbox, self) => {
  self.handle(target, idle).link();
  (await mailbox.receiveLetter()).reply(1);
  await mailbox.receive();
  process.exit(3);
});
