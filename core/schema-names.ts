/**
 * One named type, defined twice: a schema may carry the same named type
 * (record, error, enum, fixed) in several places — typically a shared
 * definition such as `ProcessRefSchema` used by two fields — where Avro
 * allows a name to be defined once and referenced after. Before the schema
 * reaches avsc, every definition identical to one met earlier (same full
 * name, same JSON) is replaced by a reference to it by its full name, as a
 * user would have written it. A different definition under a taken name is
 * left as it is (avsc refuses it: "duplicate type name"). Full names
 * follow Avro: a dotted name is full (a leading dot, avsc's way to name a
 * type in no namespace, is dropped: `.X` is `X`), else the type's own
 * `namespace`, else the enclosing one's.
 *
 * A canonical form (`codec.schema`, a HELLO's `schema`) reads otherwise:
 * every name in it is full, so an undotted one is in no namespace, though
 * nested in a namespaced record, where the Avro rules read it as in that
 * namespace (`withFullNames`).
 *
 * Whichever reading, what reaches avsc names every type as it was read: a
 * definition whose namespace avsc would take from elsewhere carries it
 * (`"namespace": ""`), and a reference inside a namespace to a type in no
 * namespace is written `.X`.
 */

const NAMED = new Set(['record', 'error', 'enum', 'fixed']);
const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

/**
 * The most named types, record fields and types of any kind (every place a
 * type is written: a name, a reference, an array's items, a union's
 * branch…) one schema may hold. avsc builds code for every named type and
 * an object for every type: a peer's HELLO of 55 000 one-field records
 * (3.9 MB) held the reading thread for 26 s, one of 1.5 million fields for
 * 54 s, 100 000 nested arrays for 2–3 s. At these bounds a schema builds in
 * about a second at worst. `codec()` refuses a larger schema (TypeError);
 * from a peer, it is refused at HELLO (REJECT, docs/PROTOCOL.md).
 */
export const MAX_NAMED_TYPES = 1000;
export const MAX_FIELDS = 10_000;
export const MAX_TYPES = 20_000;

interface Walk {
  /** Full name → its first definition, and its JSON once a second one came. */
  seen: Map<string, { def: unknown; text?: string }>;
  named: number;
  fields: number;
  types: number;
  /** Every name is full (a canonical form), rather than read in the enclosing namespace (the Avro rules). */
  full: boolean;
  /** Undotted names met inside a namespace: the ones the two readings read differently. */
  ambiguous: number;
}

/**
 * `schema` with the repeated definitions of its named types written as
 * references (the input is not changed).
 * @throws TypeError for a name avsc would resolve wrongly (`inherited`), or a
 *   schema over MAX_NAMED_TYPES, MAX_FIELDS or MAX_TYPES
 */
export function referOnce(schema: unknown): unknown {
  return walk(schema, '', newWalk(false));
}

/**
 * `schema`, a canonical form, read with every name full, as `referOnce`
 * writes it for avsc; or undefined when it has no undotted name inside a
 * namespace (the Avro rules read it the same: `referOnce`). Whether the
 * schema is a canonical form is for the caller to tell (core/codec-avro.ts
 * `writerSchema`): in one written by hand, `{"name":"com.x.Outer",…
 * {"name":"Inner",…}}` may well mean `com.x.Inner`.
 * @throws TypeError as `referOnce`
 */
export function withFullNames(schema: unknown): unknown {
  const at = newWalk(true);
  const written = walk(schema, '', at);
  return at.ambiguous > 0 ? written : undefined;
}

function newWalk(full: boolean): Walk {
  return { seen: new Map(), named: 0, fields: 0, types: 0, full, ambiguous: 0 };
}

/** The full name of `name` read in `namespace` (the enclosing one, or the type's own). */
function fullName(name: string, namespace: string): string {
  if (name.startsWith('.')) return name.slice(1);
  return name.includes('.') || namespace === '' ? name : `${namespace}.${name}`;
}

/** A reference to the type named `full`, written inside `namespace`, that avsc reads as `full`. */
function referenceTo(full: string, namespace: string): string {
  return namespace !== '' && !full.includes('.') ? `.${full}` : full;
}

/**
 * A name a plain JavaScript object already has (`toString`, `constructor`,
 * `valueOf`, `__proto__`, …): avsc keeps fields, their aliases and named
 * types by name in plain objects, where such a name is found though absent —
 * a writer's field `toString` that the reader lacks was read as the next
 * field's bytes, silently wrong values.
 */
function inherited(name: unknown): name is string {
  return typeof name === 'string' && name in Object.prototype;
}

/**
 * `node` as avsc should read it, `namespace` being the one avsc reads it in
 * (for `at.full`, every name's own: the enclosing record's prefix, or none).
 */
function walk(node: unknown, namespace: string, at: Walk): unknown {
  if (Array.isArray(node)) return node.map((branch) => walk(branch, namespace, at));
  if (++at.types > MAX_TYPES) throw new TypeError(`codec: the schema has more than ${MAX_TYPES} types, the most one schema may hold`);
  // The namespace an undotted name is read in.
  const readIn = at.full ? '' : namespace;
  if (typeof node === 'string' && !PRIMITIVES.has(node)) {
    if (namespace !== '' && !node.includes('.')) at.ambiguous++;
    const full = fullName(node, readIn);
    if (inherited(full)) throw new TypeError(`codec: a type named ${full} (a JavaScript object's own property name; avsc cannot keep it apart)`);
    return referenceTo(full, namespace);
  }
  if (typeof node !== 'object' || node === null) return node;
  const def = node as Record<string, unknown>;
  const type = def.type;
  if (typeof type === 'string' && NAMED.has(type) && typeof def.name === 'string') {
    const dotted = def.name.includes('.');
    if (namespace !== '' && !dotted && def.namespace === undefined) at.ambiguous++;
    const space = dotted ? def.name.slice(0, def.name.lastIndexOf('.')) : typeof def.namespace === 'string' ? def.namespace : readIn;
    const full = fullName(def.name, space);
    // Compared as JSON only when a name comes again: each definition's JSON holds every one nested in it, and
    // stringifying them all cost a peer's 999 nested records (within the bounds) 16 s. A name defined again
    // differently is refused at once (avsc would, after building the rest).
    const first = at.seen.get(full);
    if (first) {
      first.text ??= JSON.stringify(first.def);
      if (JSON.stringify(def) === first.text) return referenceTo(full, namespace);
      throw new TypeError(`codec: ${full} is defined twice, differently (duplicate type name)`);
    }
    at.seen.set(full, { def });
    if (inherited(full)) throw new TypeError(`codec: a type named ${full} (a JavaScript object's own property name; avsc cannot keep it apart)`);
    if (++at.named > MAX_NAMED_TYPES) throw new TypeError(`codec: the schema has more than ${MAX_NAMED_TYPES} named types, the most one schema may hold`);
    // The namespace as read, written wherever avsc would take another: a dotted name's is its prefix, whatever
    // `namespace` says (the Avro spec; avsc gave the types nested in it the attribute's, so a reference to `a.b.Q`
    // failed and the fingerprint was not the spec's); an undotted one's, `""` where avsc would take the
    // enclosing one (`at.full`) or a `namespace` that is not a string (avsc took `null` for none).
    const avscSpace = def.namespace !== undefined ? def.namespace : dotted ? space : namespace;
    const named = avscSpace === space ? def : { ...def, namespace: space };
    if (!Array.isArray(def.fields)) return named;
    const fields = (def.fields as Record<string, unknown>[]).map((field) => {
      if (++at.fields > MAX_FIELDS) throw new TypeError(`codec: the schema has more than ${MAX_FIELDS} record fields, the most one schema may hold`);
      const aliases = Array.isArray(field?.aliases) ? (field.aliases as unknown[]) : [];
      for (const name of [field?.name, ...aliases]) {
        // (avsc's records also set `this.__proto__`: the field would be lost, its value made the record's prototype.)
        if (inherited(name)) throw new TypeError(`codec: ${full} has a field named ${name}, a JavaScript object's own property name, which avsc cannot keep apart`);
      }
      return { ...field, type: walk(field.type, space, at) };
    });
    return { ...named, fields };
  }
  if (type === 'array') return { ...def, items: walk(def.items, namespace, at) };
  if (type === 'map') return { ...def, values: walk(def.values, namespace, at) };
  if (typeof type === 'object' && type !== null) return { ...def, type: walk(type, namespace, at) };
  return def;
}
