/**
 * Type-level tests: compiled by `tsc --noEmit` (spec/typecheck.spec.ts), never
 * run. Each `@ts-expect-error` must meet an error, or tsc fails.
 */
import { codec, type Codec, type InputOf, type ValueOf } from '../../core/codec';
import type { WireSubject } from '../../core/wire-subject';
import { open, type End } from '../../transports/open';

type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_proof?: T): void {}


const Everything = codec({
  type: 'record',
  name: 'Everything',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'n', type: 'int' },
    { name: 'f', type: 'float' },
    { name: 'd', type: { type: 'double' } },
    { name: 'ok', type: 'boolean' },
    { name: 'sym', type: 'string' },
    { name: 'blob', type: 'bytes' },
    { name: 'hash', type: { type: 'fixed', name: 'Hash', size: 16 } },
    { name: 'side', type: { type: 'enum', name: 'Side', symbols: ['BUY', 'SELL'] } },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'attrs', type: { type: 'map', values: 'long' } },
    { name: 'note', type: ['null', 'string'] },
    {
      name: 'venue',
      type: { type: 'record', name: 'Venue', fields: [{ name: 'mic', type: 'string' }] },
    },
    { name: 'legs', type: { type: 'array', items: { type: 'record', name: 'Leg', fields: [{ name: 'qty', type: 'int' }] } } },
  ],
} as const);

type Everything = ValueOf<typeof Everything>;
assertType<
  Equal<
    Everything,
    {
      id: number;
      n: number;
      f: number;
      d: number;
      ok: boolean;
      sym: string;
      blob: Buffer;
      hash: Buffer;
      side: 'BUY' | 'SELL';
      tags: string[];
      attrs: Record<string, number>;
      note: string | null;
      venue: { mic: string };
      legs: { qty: number }[];
    }
  >
>();

// Primitives and top-level unions.
assertType<Equal<ValueOf<ReturnType<typeof codec<'string'>>>, string>>();
const MaybeLong = codec(['null', 'long'] as const);
assertType<Equal<ValueOf<typeof MaybeLong>, number | null>>();

const good: Everything = {
  id: 1,
  n: 2,
  f: 1.5,
  d: 2.5,
  ok: true,
  sym: 'ACME',
  blob: Buffer.alloc(1),
  hash: Buffer.alloc(16),
  side: 'BUY',
  tags: ['a'],
  attrs: { a: 1 },
  note: null,
  venue: { mic: 'XNYS' },
  legs: [{ qty: 1 }],
};
Everything.encode(good);

// Wrong shapes are refused at compile time.
// @ts-expect-error a string where a long belongs
Everything.encode({ ...good, id: '1' });
// @ts-expect-error a symbol the enum does not have
Everything.encode({ ...good, side: 'HOLD' });
// @ts-expect-error a missing field
Everything.encode({ ...good, venue: {} });
// @ts-expect-error array items of the wrong type
Everything.encode({ ...good, tags: [1] });
// @ts-expect-error undefined is not null in a nullable union
Everything.encode({ ...good, note: undefined });
// @ts-expect-error a map of the wrong value type
Everything.encode({ ...good, attrs: { a: 'x' } });
// @ts-expect-error bytes must be a Buffer
Everything.encode({ ...good, blob: 'bytes' });

// A named type referred to by name later in the schema (issue 14.9): by its
// short name, by its full name, and inside arrays and unions.
const Segment = codec({
  type: 'record',
  name: 'Segment',
  namespace: 'geo',
  fields: [
    { name: 'from', type: { type: 'record', name: 'Point', fields: [{ name: 'x', type: 'double' }, { name: 'y', type: 'double' }] } },
    { name: 'to', type: 'Point' },
    { name: 'via', type: { type: 'array', items: 'geo.Point' } },
    { name: 'side', type: { type: 'enum', name: 'Side', symbols: ['L', 'R'] } },
    { name: 'turn', type: ['null', 'Side'] },
    { name: 'id', type: { type: 'fixed', name: 'other.Id', size: 4 } },
    { name: 'id2', type: 'other.Id' },
  ],
} as const);
type Point = { x: number; y: number };
assertType<
  Equal<
    ValueOf<typeof Segment>,
    { from: Point; to: Point; via: Point[]; side: 'L' | 'R'; turn: 'L' | 'R' | null; id: Buffer; id2: Buffer }
  >
>();
// @ts-expect-error a referenced record is checked like an inline one
Segment.encode({ from: { x: 0, y: 0 }, to: { x: 'far', y: 0 }, via: [], side: 'L', turn: null, id: Buffer.alloc(4), id2: Buffer.alloc(4) });

// A recursive schema: the type refers to itself.
const Node = codec({
  type: 'record',
  name: 'Node',
  fields: [
    { name: 'value', type: 'int' },
    { name: 'next', type: ['null', 'Node'] },
  ],
} as const);
type Node = ValueOf<typeof Node>;
const list: Node = { value: 1, next: { value: 2, next: null } };
assertType<Equal<Node['value'], number>>();
assertType<Equal<NonNullable<Node['next']>['value'], number>>();
Node.encode(list);
// @ts-expect-error a wrong value deep in the recursion
Node.encode({ value: 1, next: { value: 'two', next: null } });
// A name the schema does not define stays unknown.
assertType<Equal<ValueOf<ReturnType<typeof codec<{ type: 'array'; items: 'Nowhere' }>>>, unknown[]>>();

// Defaulted fields (issue 14.9): optional when sending, always present when received.
const Order = codec({
  type: 'record',
  name: 'Order',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'qty', type: 'int', default: 1 },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'leg', type: { type: 'record', name: 'OrderLeg', fields: [{ name: 'venue', type: 'string', default: 'XNYS' }] } },
  ],
} as const);
assertType<Equal<ValueOf<typeof Order>, { id: number; qty: number; note: string | null; leg: { venue: string } }>>();
assertType<Equal<InputOf<typeof Order>, { id: number; qty?: number; note?: string | null; leg: { venue?: string } }>>();
Order.encode({ id: 1, leg: {} });
Order.encode({ id: 1, qty: 3, note: 'x', leg: { venue: 'XLON' } });
// @ts-expect-error a field without a default is still required
Order.encode({ qty: 3, leg: {} });
// @ts-expect-error a defaulted field, when given, still has its type
Order.encode({ id: 1, qty: '3', leg: {} });
const received = Order.decode(Order.encode({ id: 1, leg: {} }));
const qty: number = received.qty;
void qty;

// A codec with defaulted fields opens a WireSubject that receives complete
// values and sends the codec's input type (defaulted fields optional).
declare const someEnd: End;
const orders = open(someEnd, Order);
assertType<Equal<typeof orders, WireSubject<ValueOf<typeof Order>, InputOf<typeof Order>>>>();
orders.next({ id: 1, leg: {} });
void orders.send({ id: 2, qty: 5, leg: { venue: 'XLON' } });
orders.trySend({ id: 3, leg: {} });
// @ts-expect-error a field without a default is still required when sending
orders.next({ qty: 3, leg: {} });
orders.subscribe((o) => {
  const q: number = o.qty; // received values are complete
  void q;
});
// ... and it goes wherever a WireSubject of the received type is taken.
const asReceived: WireSubject<ValueOf<typeof Order>> = orders;
void asReceived;
// ... and a Codec<T, In> goes wherever a Codec<T> or any codec is taken.
const anyCodec: Codec<unknown> = Order;
const sameT: Codec<ValueOf<typeof Order>> = Order;
void anyCodec;
void sameT;
// A codec without defaults encodes exactly its value type.
assertType<Equal<InputOf<typeof Everything>, Everything>>();
