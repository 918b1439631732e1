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

/** `schema` with the repeated definitions of its named types written as references (the input is not changed). */
export function referOnce(schema: unknown): unknown {
  const seen = new Map<string, string>();
  return walk(schema, '', seen);
}

function walk(node: unknown, namespace: string, seen: Map<string, string>): unknown {
  if (Array.isArray(node)) return node.map((branch) => walk(branch, namespace, seen));
  if (typeof node !== 'object' || node === null) return node;
  const def = node as Record<string, unknown>;
  const type = def.type;
  if (typeof type === 'string' && NAMED.has(type) && typeof def.name === 'string') {
    const space = def.name.includes('.') ? def.name.slice(0, def.name.lastIndexOf('.')) : typeof def.namespace === 'string' ? def.namespace : namespace;
    const full = def.name.includes('.') || space === '' ? def.name : `${space}.${def.name}`;
    const text = JSON.stringify(def);
    const before = seen.get(full);
    if (before === text) return full;
    if (before === undefined) seen.set(full, text);
    // A dotted name's namespace is its prefix, whatever `namespace` says (the Avro spec; avsc gave the types
    // nested in it the attribute's, so a reference to `a.b.Q` failed and the fingerprint was not the spec's).
    const named = def.name.includes('.') && 'namespace' in def ? { ...def, namespace: space } : def;
    if (!Array.isArray(def.fields)) return named;
    const fields = (def.fields as Record<string, unknown>[]).map((field) => {
      // avsc's records set `this.__proto__`: the field would be lost, its value made the record's prototype.
      if (field.name === '__proto__') throw new TypeError(`codec: ${full} has a field named __proto__, which a JavaScript object cannot hold as its own`);
      return { ...field, type: walk(field.type, space, seen) };
    });
    return { ...named, fields };
  }
  if (type === 'array') return { ...def, items: walk(def.items, namespace, seen) };
  if (type === 'map') return { ...def, values: walk(def.values, namespace, seen) };
  if (typeof type === 'object' && type !== null) return { ...def, type: walk(type, namespace, seen) };
  return def;
}
