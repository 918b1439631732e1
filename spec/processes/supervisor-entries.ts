/**
 * Children for spec/processes/supervisor.spec.ts: each reports `start NAME`
 * to the probe when it starts, and obeys `crash` (throws) and `exit` (ends
 * normally).
 */
import { ignoreElements, map } from 'rxjs';
import { codec, raw } from '../../core/codec';
import { entry, ProcessRefSchema } from '../../processes/index';
import { PROBE } from './protocol-probe';

/** A child's capture: its name and the probe's address. */
export const ChildCapture = codec({
  type: 'record',
  name: 'SupervisedCapture',
  fields: [
    { name: 'name', type: 'string' },
    { name: 'probe', type: ProcessRefSchema },
  ],
} as const);

/** What a child obeys. */
export const Order = codec({ type: 'enum', name: 'Order', symbols: ['crash', 'exit'] } as const);

/** The child's codecs (for `node.handle` on a child's ref). */
export const CHILD = { capture: ChildCapture, mailbox: Order };

/** A supervised child. */
export const child = entry(__filename, 'child', CHILD, async ({ name, probe }, mailbox, self) => {
  self.handle(probe, PROBE).send(`start ${name}`);
  const order = await mailbox.receive();
  if (order === 'crash') throw new Error(`${name} crashed on purpose`);
});

/** A child that fails as it starts, every time. */
export const failsAtStart = entry(__filename, 'failsAtStart', CHILD, () => {
  throw new Error('fails at start, on purpose');
});

/** A child that fails on the message 1 (and takes every other). */
export const failsOnOne = entry(__filename, 'failsOnOne', { capture: codec('null'), mailbox: codec('long') }, (_, mailbox) =>
  mailbox.pipe(
    map((n) => {
      if (n === 1) throw new Error('failed on 1, on purpose');
      return n;
    }),
  ),
);

/** Takes every message and does nothing with it: keeps a thread's run queue busy. */
export const sink = entry(__filename, 'sink', { capture: codec('null'), mailbox: codec('long') }, (_, mailbox) => mailbox.pipe(ignoreElements()));

/** Links to the process its capture names, waits a little and returns: a normal end of a process linked to it. */
export const linksThenReturns = entry(__filename, 'linksThenReturns', { capture: codec(ProcessRefSchema), mailbox: codec('null') }, async (target, _, self) => {
  self.handle(target, { capture: raw, mailbox: raw }).link();
  await new Promise((resolve) => setTimeout(resolve, 50));
});

/** Spawns the next of a chain of `n` as it starts, on its own thread, and returns: a chain of starts. */
export const respawns = entry(__filename, 'respawns', { capture: codec('long'), mailbox: codec('null') }, (n, _, self) => {
  (globalThis as { chainLeft?: number }).chainLeft = n; // read by the spec when the chain runs on its own thread
  if (n > 0) self.spawn(respawns, n - 1);
});
