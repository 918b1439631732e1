/**
 * Type-level tests: compiled by `tsc --noEmit` (spec/typecheck.spec.ts), never
 * run. Each `@ts-expect-error` must meet an error, or tsc fails.
 */
import { codec, type ValueOf } from '../../core/codec';

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
