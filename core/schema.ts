/**
 * Avro schemas as TypeScript types: a schema written as a literal (`as const`)
 * gives the type of the values it describes, so a user writes each type once.
 *
 * ## Example
 * ```ts
 * import { codec } from 'rxwire';
 * const Trade = codec({ type: 'record', name: 'Trade', fields: [
 *   { name: 'id', type: 'long' }, { name: 'sym', type: 'string' },
 *   { name: 'note', type: ['null', 'string'] },
 * ] } as const);
 * // Trade: Codec<{ id: number; sym: string; note: string | null }>
 * ```
 *
 * Mapping (avsc's defaults): `long` and the other numbers are `number`
 * (avsc refuses a long beyond 2^53 rather than round it), `bytes` and
 * `fixed` are `Buffer`, `map` is a plain object, `enum` is the union of its
 * symbols, a union is the union of its branches (unwrapped, as avsc reads
 * `['null', T]`). A record's fields are all present in the type, defaulted or
 * not. A reference to a named type by name (`'Trade'`) is `unknown`: write
 * the type inline where its static type matters.
 */

/** The primitive type names of Avro. */
export type AvroPrimitive = 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string';

/** Any Avro schema, in the JSON form avsc accepts. */
export type Schema = string | readonly Schema[] | { readonly type: unknown; readonly [key: string]: unknown };

type InferPrimitive<P> = P extends 'null'
  ? null
  : P extends 'boolean'
    ? boolean
    : P extends 'int' | 'long' | 'float' | 'double'
      ? number
      : P extends 'bytes'
        ? Buffer
        : P extends 'string'
          ? string
          : unknown;

type Field = { readonly name: string; readonly type: unknown };

type InferRecord<F extends readonly Field[]> = Simplify<{
  -readonly [K in F[number] as K['name']]: Infer<K['type']>;
}>;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The TypeScript type of the values a schema describes. */
export type Infer<S> = S extends readonly unknown[]
  ? Infer<S[number]>
  : S extends string
    ? InferPrimitive<S>
    : S extends { readonly type: 'record' | 'error'; readonly fields: infer F extends readonly Field[] }
      ? InferRecord<F>
      : S extends { readonly type: 'enum'; readonly symbols: readonly (infer E)[] }
        ? E
        : S extends { readonly type: 'array'; readonly items: infer I }
          ? Infer<I>[]
          : S extends { readonly type: 'map'; readonly values: infer V }
            ? Record<string, Infer<V>>
            : S extends { readonly type: 'fixed' }
              ? Buffer
              : S extends { readonly type: infer P }
                ? Infer<P>
                : unknown;
