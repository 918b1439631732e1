/**
 * A probe process for the protocol and supervisor tests: other processes
 * send it lines of text; a request `wait N` is answered with every line
 * once it holds N of them, so a test waits for what it expects without
 * sleeping.
 */
import { codec } from '../../core/codec';
import { entry } from '../../processes/index';

const Line = codec('string');
const Lines = codec({ type: 'array', items: 'string' } as const);
const Nothing = codec('null');

/** The probe's codecs (for `node.handle` / `self.handle` on its ref). */
export const PROBE = { capture: Nothing, mailbox: Line, reply: Lines };

/** The probe: keeps every line; answers `wait N` with all lines once it has N. */
export const probe = entry(__filename, 'probe', PROBE, (_, mailbox) => {
  const lines: string[] = [];
  const waiting: { n: number; answer: (lines: string[]) => void }[] = [];
  const settle = () => {
    for (const w of waiting.filter((w) => lines.length >= w.n)) {
      waiting.splice(waiting.indexOf(w), 1);
      w.answer([...lines]);
    }
  };
  mailbox.letters.subscribe((letter) => {
    const wait = /^wait (\d+)$/.exec(letter.message);
    if (letter.isRequest && wait) waiting.push({ n: Number(wait[1]), answer: (l) => letter.reply(l) });
    else lines.push(letter.message);
    settle();
  });
  return new Promise<void>(() => {}); // until killed or the node closes
});
