/**
 * Avro schemas as TypeScript types: a schema written as a literal (`as const`)
 * gives the type of the values it describes, so a user writes each type once.
 *
 * ## Example
 * ```ts
 * import { codec } from 'rxwire';
 * const Trade = codec({ type: 'record', name: 'Trade', fields: [
 *   { name: 'id', type: 'long' }, { name: 'sym', type: 'string' },
 *   { name: 'note', type: ['null', 'string'], default: null },
 * ] } as const);
 * // received: { id: number; sym: string; note: string | null }
 * // sent:     { id: number; sym: string; note?: string | null }
 * ```
 *
 * Mapping (avsc's defaults): `long` and the other numbers are `number`
 * (avsc refuses a long beyond 2^53 rather than round it), `bytes` and
 * `fixed` are `Buffer`, `map` is a plain object, `enum` is the union of its
 * symbols, a union is the union of its branches (unwrapped, as avsc reads
 * `['null', T]`; `codec()` refuses a union whose branches one kind of value
 * could belong to, which avsc would wrap). A reference to a named type by name (`'Point'`, or its full
 * name `'geo.Point'`) is the type defined under that name elsewhere in the
 * same schema, recursive references included. A record's fields are all
 * present in the values received ({@link Infer}); in the values sent
 * ({@link InferInput}) a field with a `default` may be left out, and avsc
 * writes its default.
 */

/** The primitive type names of Avro. */
export type AvroPrimitive = 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string';

/** Any Avro schema, in the JSON form avsc accepts. */
export type Schema = string | readonly Schema[] | { readonly type: unknown; readonly [key: string]: unknown };

/** The TypeScript type of the values a schema describes, as they are decoded (received). */
export type Infer<S> = InferWith<S, NamedIn<S, ''>, 'out'>;

/** The TypeScript type of the values a schema accepts for encoding (sent): fields with a `default` are optional. */
export type InferInput<S> = InferWith<S, NamedIn<S, ''>, 'in'>;

type Mode = 'in' | 'out';

type Field = { readonly name: string; readonly type: unknown };

/** A named type (record, error, enum, fixed) defined inside a schema, under one of the names it can be referred to by. */
type Named<Name, S> = { readonly ref: Name; readonly schema: S };

/** The full name of `N` declared with namespace `NS` (Avro: a dotted name is already full). */
type FullName<N extends string, NS extends string> = N extends `${string}.${string}` ? N : NS extends '' ? N : `${NS}.${N}`;

/** The last segment of a dotted name. */
type ShortName<N extends string> = N extends `${string}.${infer Rest}` ? ShortName<Rest> : N;

/** The namespace part of a dotted name (`a.b` of `a.b.C`). */
type DottedNamespace<N extends string> = N extends `${infer Head}.${infer Rest}`
  ? Rest extends `${string}.${string}`
    ? `${Head}.${DottedNamespace<Rest>}`
    : Head
  : never;

/** The namespace a named schema gives the types nested in it. */
type NamespaceOf<S, N extends string, NS extends string> = N extends `${string}.${string}`
  ? DottedNamespace<N>
  : S extends { readonly namespace: infer X extends string }
    ? X
    : NS;

/** Every named type defined in `S`, each under its full and its short name. */
type NamedIn<S, NS extends string> = S extends readonly unknown[]
  ? NamedIn<S[number], NS>
  : S extends { readonly type: 'record' | 'error' | 'enum' | 'fixed'; readonly name: infer N extends string }
    ?
        | Named<FullName<N, NamespaceOf<S, N, NS>>, S>
        | Named<ShortName<N>, S>
        | (S extends { readonly fields: infer F extends readonly Field[] } ? NamedIn<F[number]['type'], NamespaceOf<S, N, NS>> : never)
    : S extends { readonly type: 'array'; readonly items: infer I }
      ? NamedIn<I, NS>
      : S extends { readonly type: 'map'; readonly values: infer V }
        ? NamedIn<V, NS>
        : S extends { readonly type: infer T extends object }
          ? NamedIn<T, NS>
          : never;

type InferPrimitive<P, R, M extends Mode> = P extends 'null'
  ? null
  : P extends 'boolean'
    ? boolean
    : P extends 'int' | 'long' | 'float' | 'double'
      ? number
      : P extends 'bytes'
        ? Buffer
        : P extends 'string'
          ? string
          : [Extract<R, { readonly ref: P }>] extends [Named<unknown, infer D>]
            ? [D] extends [never]
              ? unknown
              : InferWith<D, R, M>
            : unknown;

/** Fields in the type of values sent: required unless they have a default. */
type Required_<F, M extends Mode> = M extends 'in' ? (F extends { readonly default: unknown } ? never : F) : F;
type Optional_<F, M extends Mode> = M extends 'in' ? (F extends { readonly default: unknown } ? F : never) : never;

type InferRecord<F extends readonly Field[], R, M extends Mode> = Simplify<
  { -readonly [K in F[number] as Required_<K, M> extends never ? never : K['name']]: InferWith<K['type'], R, M> } & {
    -readonly [K in F[number] as Optional_<K, M> extends never ? never : K['name']]?: InferWith<K['type'], R, M>;
  }
>;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type InferWith<S, R, M extends Mode> = S extends readonly unknown[]
  ? InferWith<S[number], R, M>
  : S extends string
    ? InferPrimitive<S, R, M>
    : S extends { readonly type: 'record' | 'error'; readonly fields: infer F extends readonly Field[] }
      ? InferRecord<F, R, M>
      : S extends { readonly type: 'enum'; readonly symbols: readonly (infer E)[] }
        ? E
        : S extends { readonly type: 'array'; readonly items: infer I }
          ? InferWith<I, R, M>[]
          : S extends { readonly type: 'map'; readonly values: infer V }
            ? Record<string, InferWith<V, R, M>>
            : S extends { readonly type: 'fixed' }
              ? Buffer
              : S extends { readonly type: infer P }
                ? InferWith<P, R, M>
                : unknown;
