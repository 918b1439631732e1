/**
 * Declaring a typed protocol: the steps are values that carry the codecs
 * (so the messages' codecs come from the declaration) and whose types are
 * the session types of processes/protocol-types.ts.
 *
 * ## Example
 * ```ts
 * import { codec } from 'rxwire';
 * import { protocol, send, recv, offer, loop, end, type Offer, type Recv, type Send, type End } from 'rxwire/processes';
 *
 * const Num = codec('double');
 * // the client sends a number, receives its double, and is done
 * const Doubling = protocol('doubling', send(Num, recv(Num, end)));
 *
 * // recursion: name the type, then declare it with `loop`
 * interface Adder extends Offer<{ add: Recv<number, Adder>; total: Send<number, End> }> {}
 * const Adder = protocol('adder', loop<Adder>((again) => offer({ add: recv(Num, again), total: send(Num, end) })));
 * ```
 */
import { createHash } from 'node:crypto';
import { isCodec, type Codec } from '../core/codec';
import type { Branches, Choose, Dual, End, Offer, Recv, Send, Step } from './protocol-types';

/** A declared protocol, seen from the side that speaks `S`; `dual()` is the other side. */
export interface Protocol<S extends Step> {
  /** A name, for error messages. */
  readonly name: string;
  /** The first step. */
  readonly start: S;
  /** Hex SHA-256 of the protocol's shape and its codecs' schemas: two sides agree when one's equals the other's dual's. */
  readonly fingerprint: string;
  /** The same protocol seen from the other side. */
  dual(): Protocol<Dual<S>>;
}

/** Marks a step as `loop`'s placeholder for the protocol itself (runtime only). */
export interface LoopStep {
  readonly op: 'loop';
  target?: Step;
}

/** A step as the runtime walks it: a `Step`, or `loop`'s placeholder standing for one. */
export type AnyStep = Step | LoopStep;

/** The step `node` stands for (a `loop` placeholder stands for the loop's body). */
export function resolveStep(node: AnyStep): Step {
  let step: AnyStep = node;
  for (let hops = 0; step.op === 'loop'; hops++) {
    if (!step.target || hops > 1000) throw new TypeError('loop(): the body must begin with a step, not with its own placeholder');
    step = step.target;
  }
  return step;
}

/** This side sends a value of `codec`, then goes on with `next`. */
export function send<A, N extends Step>(codec: Codec<A>, next: N): Send<A, N> {
  return { op: 'send', codec: checkCodec(codec, 'send'), next: checkStep(next, 'send: next') };
}

/** This side receives a value of `codec`, then goes on with `next`. */
export function recv<A, N extends Step>(codec: Codec<A>, next: N): Recv<A, N> {
  return { op: 'recv', codec: checkCodec(codec, 'recv'), next: checkStep(next, 'recv: next') };
}

/** This side picks one of `branches` by its label. */
export function choose<B extends Branches>(branches: B): Choose<B> {
  return { op: 'choose', branches: checkBranches(branches, 'choose') };
}

/** The other side picks one of `branches` by its label. */
export function offer<B extends Branches>(branches: B): Offer<B> {
  return { op: 'offer', branches: checkBranches(branches, 'offer') };
}

/** The end of the protocol. */
export const end: End = Object.freeze({ op: 'end' });

/**
 * A recursive protocol: `body` receives a placeholder that stands for the
 * protocol itself. TypeScript cannot infer a recursive type, so name it
 * with an interface and pass it: `loop<Adder>((again) => offer({ add: recv(Num, again), total: send(Num, end) }))`.
 */
export function loop<S extends Step>(body: (again: S) => S): S {
  const placeholder: LoopStep = { op: 'loop' };
  const step = body(placeholder as unknown as S);
  placeholder.target = step;
  resolveStep(placeholder); // a body that is only its own placeholder fails here
  return step;
}

/** Declares a protocol whose first step is `start`, seen from the side that speaks it. */
export function protocol<S extends Step>(name: string, start: S): Protocol<S> {
  if (typeof name !== 'string' || name === '') throw new TypeError('protocol: name must be a non-empty string');
  return makeProtocol(name, checkStep(start, 'protocol: start'));
}

function makeProtocol<S extends Step>(name: string, start: S): Protocol<S> {
  let dualOf: Protocol<Dual<S>> | undefined;
  const self: Protocol<S> = {
    name,
    start,
    fingerprint: fingerprintOf(start),
    dual() {
      dualOf ??= makeProtocol(name, dualStep(start, new Map()) as Dual<S>);
      return dualOf;
    },
  };
  return self;
}

function checkBranches<B extends Branches>(branches: B, what: string): B {
  if (typeof branches !== 'object' || branches === null) throw new TypeError(`${what}: branches must be an object of steps by label`);
  if (Object.keys(branches).length === 0) throw new TypeError('a choice needs at least one branch');
  for (const [label, step] of Object.entries(branches)) checkStep(step, `${what}: branch ${JSON.stringify(label)}`);
  return branches;
}

const OPS = ['send', 'recv', 'choose', 'offer', 'end', 'loop'];

/** A step made by send, recv, choose, offer, end or a loop's placeholder; anything else is a TypeError naming `what`. */
function checkStep<S>(step: S, what: string): S {
  if (typeof step !== 'object' || step === null || !OPS.includes((step as { op?: string }).op!)) {
    throw new TypeError(`${what} must be a protocol step (send, recv, choose, offer, end, or a loop's placeholder)`);
  }
  return step;
}

function checkCodec<A>(codec: Codec<A>, what: string): Codec<A> {
  if (!isCodec(codec)) throw new TypeError(`${what}: codec must be a codec (codec(schema), raw, ...)`);
  return codec;
}

/** The dual of `node`, sharing structure as `node` does (so loops stay loops). */
function dualStep(node: AnyStep, seen: Map<AnyStep, AnyStep>): AnyStep {
  const known = seen.get(node);
  if (known) return known;
  switch (node.op) {
    case 'loop': {
      const placeholder: LoopStep = { op: 'loop' };
      seen.set(node, placeholder);
      placeholder.target = dualStep(resolveStep(node), seen) as Step;
      return placeholder;
    }
    case 'end':
      return node;
    case 'send':
    case 'recv': {
      const flipped = { op: node.op === 'send' ? 'recv' : 'send', codec: node.codec, next: undefined as unknown as Step };
      seen.set(node, flipped as Step);
      flipped.next = dualStep(node.next, seen) as Step;
      return flipped as Step;
    }
    case 'choose':
    case 'offer': {
      const flipped = { op: node.op === 'choose' ? 'offer' : 'choose', branches: {} as Record<string, Step> };
      seen.set(node, flipped as Step);
      for (const [label, next] of Object.entries(node.branches as Branches)) flipped.branches[label] = dualStep(next, seen) as Step;
      return flipped as Step;
    }
  }
}

/**
 * The protocol's shape as text, hashed: each step's op, codec fingerprint
 * and branch labels in order of declaration; a loop is written once and
 * each return to it as a back reference to its number.
 */
function fingerprintOf(start: Step): string {
  const loops = new Map<LoopStep, number>();
  const parts: string[] = [];
  const walk = (node: AnyStep): void => {
    if (node.op === 'loop') {
      const seen = loops.get(node);
      if (seen !== undefined) return void parts.push(`@${seen}`);
      loops.set(node, loops.size);
      parts.push(`loop${loops.size - 1}`);
      return walk(resolveStep(node));
    }
    switch (node.op) {
      case 'end':
        return void parts.push('end');
      case 'send':
      case 'recv':
        parts.push(`${node.op}(${node.codec.fingerprint})`);
        return walk(node.next);
      case 'choose':
      case 'offer':
        parts.push(`${node.op}{`);
        for (const [label, next] of Object.entries(node.branches as Branches)) {
          parts.push(JSON.stringify(label));
          walk(next);
        }
        return void parts.push('}');
    }
  };
  walk(start);
  return createHash('sha256').update(parts.join(' ')).digest('hex');
}
