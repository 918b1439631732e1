/**
 * Options checked at the door: a key an API does not take — a misspelt name
 * (`upCapcity`), or an option of another API — is a TypeError naming it and
 * what the API takes, not ignored in silence. A key whose value is
 * `undefined` passes (spreading optional settings is common). Each caller
 * lists its keys as a record of every key of its options type
 * (`Record<keyof Options, true>`), so an option added to the type and not
 * to the list fails to compile.
 */

/** The first key of `options` that `known` does not list (and whose value is not undefined), if any. */
export function unknownOption(options: object, known: Readonly<Record<string, true>>): string | undefined {
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(known, key) && (options as Record<string, unknown>)[key] !== undefined) return key;
  }
  return undefined;
}

/**
 * Refuses options that are not an object, and a key that `known` does not
 * list; `what` names the options argument (`'stage: options'`).
 * @throws TypeError `<what> must be an object { a, b, c }`, or `<what>.<key> is not an option (it takes a, b, c)`
 */
export function checkKnown(options: unknown, known: Readonly<Record<string, true>>, what: string): asserts options is object {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${what} must be an object { ${Object.keys(known).join(', ')} }`);
  const key = unknownOption(options, known);
  if (key !== undefined) throw new TypeError(`${what}.${key} is not an option (it takes ${Object.keys(known).join(', ')})`);
}

/**
 * As {@link checkKnown}, for options that the config made from them may be
 * given back as, with a change (`Config.cluster({ ...config, process: 1 })`):
 * its `kind`, when it is `kind`, passes.
 */
export function checkKnownOrKind(options: object, known: Readonly<Record<string, true>>, what: string, kind: string): void {
  const { kind: given, ...rest } = options as { kind?: unknown };
  checkKnown(given === kind ? rest : options, known, what);
}

/**
 * Checks a WireSubject's `maxQueue` (core/wire-subject.ts): a non-negative integer or `Infinity`.
 * @throws RangeError naming `name`
 */
export function checkMaxQueue(maxQueue: unknown, name = 'options.maxQueue'): void {
  if (!(Number.isInteger(maxQueue) || maxQueue === Infinity) || (maxQueue as number) < 0) {
    throw new RangeError(`${name} must be a non-negative integer or Infinity`);
  }
}

/**
 * Checks that a numeric option is a number at all: a string or `null` is the wrong type (TypeError), before its
 * range is checked (RangeError), as the `@throws` of the APIs say.
 */
export function checkNumber(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, not ${value === null ? 'null' : typeof value}`);
}
