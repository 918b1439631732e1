/**
 * Type-level tests of typed protocols (session types): compiled by
 * `tsc --noEmit` (spec/typecheck.spec.ts), never run. Each
 * `@ts-expect-error` must meet an error, or tsc fails: sending out of
 * turn, a value of the wrong type, an unknown label or closing early does
 * not compile.
 */
import { codec } from '../../core/codec';
import { choose, end, loop, offer, protocol, recv, send, type Protocol } from '../../processes/protocol';
import type { Choose, Dual, End, Endpoint, EndState, Offer, Recv, Send } from '../../processes/protocol-types';

type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_proof?: T): void {}

const Num = codec('double');
const Str = codec('string');

// The declaration gives the session type, codecs included.
const Ask = protocol('ask', send(Num, recv(Str, end)));
assertType<Equal<typeof Ask, Protocol<Send<number, Recv<string, End>>>>>();
assertType<Equal<Dual<Send<number, Recv<string, End>>>, Recv<number, Send<string, End>>>>();
assertType<Equal<ReturnType<typeof Ask.dual>, Protocol<Recv<number, Send<string, End>>>>>();

declare const client: Endpoint<Send<number, Recv<string, End>>>;
declare const server: Endpoint<Recv<number, Send<string, End>>>;

async function inTurn() {
  const waiting = client.send(1);
  const [answer, done] = await waiting.receive();
  assertType<Equal<typeof answer, string>>();
  assertType<Equal<typeof done, EndState>>();
  await done.close();

  const [question, replying] = await server.receive();
  assertType<Equal<typeof question, number>>();
  await replying.send(`${question}`).close();
}

async function outOfTurn() {
  // @ts-expect-error a value of the wrong type
  client.send('one');
  // @ts-expect-error receiving before sending
  await client.receive();
  // @ts-expect-error closing before the end
  await client.close();
  // @ts-expect-error sending twice where the protocol sends once
  client.send(1).send(2);
  const [, replying] = await server.receive();
  // @ts-expect-error the server answers with a string
  replying.send(42);
  // @ts-expect-error after the answer comes the end, not another receive
  await replying.send('42').receive();
}

// Choice: the chooser picks a declared label; the offering side narrows on it.
type Menu = Choose<{ tea: Send<string, End>; coffee: Send<number, Recv<string, End>> }>;
declare const guest: Endpoint<Menu>;
declare const host: Endpoint<Dual<Menu>>;

async function choosing() {
  guest.choose('tea').send('earl grey');
  const [bill] = await guest.choose('coffee').send(2).receive();
  assertType<Equal<typeof bill, string>>();
  // @ts-expect-error not on the menu
  guest.choose('juice');
  // @ts-expect-error tea takes a string
  guest.choose('tea').send(2);

  const chosen = await host.offer();
  if (chosen.label === 'tea') {
    const [kind, done] = await chosen.next.receive();
    assertType<Equal<typeof kind, string>>();
    await done.close();
  } else {
    assertType<Equal<typeof chosen.label, 'coffee'>>();
    const [cups, answering] = await chosen.next.receive();
    assertType<Equal<typeof cups, number>>();
    await answering.send('3.50').close();
    // @ts-expect-error the coffee branch receives a number first, it does not send
    chosen.next.send(1);
  }
}

// Recursion: a named interface, declared with loop().
interface Adder extends Offer<{ add: Recv<number, Adder>; total: Send<number, End> }> {}
const Adder = protocol('adder', loop<Adder>((again) => offer({ add: recv(Num, again), total: send(Num, end) })));
assertType<Equal<typeof Adder, Protocol<Adder>>>();

declare const summing: Endpoint<Dual<Adder>>;
async function recursing() {
  const more = summing.choose('add').send(1).choose('add').send(2);
  const [sum, done] = await more.choose('total').receive();
  assertType<Equal<typeof sum, number>>();
  await done.close();
  // @ts-expect-error the adder takes numbers
  summing.choose('add').send('1');
}

// A protocol and its codecs must agree.
// @ts-expect-error Ask's first step sends a number: a Recv is not a Send
const wrong: Protocol<Recv<number, End>> = Ask;

export { inTurn, outOfTurn, choosing, recursing, wrong };
