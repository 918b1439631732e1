/**
 * Small shapes shared across the core and the layers above: how a stream
 * ends, and the function that does nothing. Defined once here.
 */

/** How a stream ended: completed, or failed with `error`. */
export type Ending = { kind: 'complete' } | { kind: 'error'; error: unknown };

/** Does nothing: a teardown with nothing to tear down, a listener that only keeps a handle. */
export function noop(): void {}
