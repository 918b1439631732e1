/**
 * One named type, defined twice: a schema may carry the same named type
 * (record, error, enum, fixed) in several places — typically a shared
 * definition such as `ProcessRefSchema` used by two fields — where Avro
 * allows a name to be defined once and referenced after. Before the schema
 * reaches avsc, every definition identical to one met earlier (same full
 * name, same JSON) is replaced by a reference to it by its full name, as a
 * user would have written it. A different definition under a taken name is
 * left as it is (avsc refuses it: "duplicate type name"). Full names
 * follow Avro: a dotted name is full, else the type's own `namespace`, else
 * the enclosing one's.
 */

const NAMED = new Set(['record', 'error', 'enum', 'fixed']);

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
}

/**
 * `schema` with the repeated definitions of its named types written as
 * references (the input is not changed).
 * @throws TypeError for a name avsc would resolve wrongly (`inherited`), or a
 *   schema over MAX_NAMED_TYPES, MAX_FIELDS or MAX_TYPES
 */
export function referOnce(schema: unknown): unknown {
  return walk(schema, '', { seen: new Map(), named: 0, fields: 0, types: 0 });
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

function walk(node: unknown, namespace: string, at: Walk): unknown {
  if (Array.isArray(node)) return node.map((branch) => walk(branch, namespace, at));
  if (++at.types > MAX_TYPES) throw new TypeError(`codec: the schema has more than ${MAX_TYPES} types, the most one schema may hold`);
  // (A reference inside a namespace is to a dotted full name: nothing to refuse.)
  if (namespace === '' && inherited(node)) throw new TypeError(`codec: a type named ${node} (a JavaScript object's own property name; avsc cannot keep it apart)`);
  if (typeof node !== 'object' || node === null) return node;
  const def = node as Record<string, unknown>;
  const type = def.type;
  if (typeof type === 'string' && NAMED.has(type) && typeof def.name === 'string') {
    const space = def.name.includes('.') ? def.name.slice(0, def.name.lastIndexOf('.')) : typeof def.namespace === 'string' ? def.namespace : namespace;
    const full = def.name.includes('.') || space === '' ? def.name : `${space}.${def.name}`;
    // Compared as JSON only when a name comes again: each definition's JSON holds every one nested in it, and
    // stringifying them all cost a peer's 999 nested records (within the bounds) 16 s. A name defined again
    // differently is refused at once (avsc would, after building the rest).
    const first = at.seen.get(full);
    if (first) {
      first.text ??= JSON.stringify(first.def);
      if (JSON.stringify(def) === first.text) return full;
      throw new TypeError(`codec: ${full} is defined twice, differently (duplicate type name)`);
    }
    at.seen.set(full, { def });
    if (inherited(full)) throw new TypeError(`codec: a type named ${full} (a JavaScript object's own property name; avsc cannot keep it apart)`);
    if (++at.named > MAX_NAMED_TYPES) throw new TypeError(`codec: the schema has more than ${MAX_NAMED_TYPES} named types, the most one schema may hold`);
    // A dotted name's namespace is its prefix, whatever `namespace` says (the Avro spec; avsc gave the types
    // nested in it the attribute's, so a reference to `a.b.Q` failed and the fingerprint was not the spec's).
    const named = def.name.includes('.') && 'namespace' in def ? { ...def, namespace: space } : def;
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
