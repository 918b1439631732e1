/**
 * Loading a user's module by path or URL, the same way in a worker and in the
 * calling thread (the `thread` config runs the worker module in place).
 */
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** A module given as a path (absolute, or relative to the working directory) or a `file:` URL. */
export type ModuleRef = string | URL;

/**
 * Checks a module argument at the door: a path, or a `file:` URL (as a URL
 * or a string); any other URL (`http:`) failed only when a worker tried it.
 * @throws TypeError naming `api`
 */
export function checkModuleRef(module: unknown, api: string): asserts module is ModuleRef {
  const url = module instanceof URL ? module.href : typeof module === 'string' && /^[a-z][a-z0-9+.-]+:\/\//i.test(module) ? module : undefined;
  if ((typeof module === 'string' || module instanceof URL) && (url === undefined || url.startsWith('file:'))) return;
  throw new TypeError(`${api} must be a path or a file: URL`);
}

/** The module's absolute path. */
export function modulePath(module: ModuleRef): string {
  if (module instanceof URL) return fileURLToPath(module);
  if (module.startsWith('file:')) return fileURLToPath(module);
  return resolve(module);
}

/** Whether loading `file` needs TypeScript support (ts-node in a worker). */
export function isTypeScript(file: string): boolean {
  return /\.[cm]?tsx?$/.test(file);
}

// TypeScript compiles `import()` to `require()` under CommonJS; an ES module
// (.mjs) needs the real dynamic import, which this keeps out of its reach.
const importEsm = new Function('url', 'return import(url)') as (url: string) => Promise<Record<string, unknown>>;

/**
 * `require(file)`, or, for an ES module that `require` cannot load (a `.js`
 * file of a `"type": "module"` package: before Node 20.19 any such file, and
 * after it one with a top-level `await`), `import()` — as Node loads it.
 */
async function requireOrImport(file: string): Promise<Record<string, unknown>> {
  try {
    return require(file);
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'ERR_REQUIRE_ESM' || code === 'ERR_REQUIRE_ASYNC_MODULE') return importEsm(pathToFileURL(file).href);
    throw err;
  }
}

/**
 * Loads `module` and returns its default export (or, for a CommonJS module
 * without one, `module.exports`).
 * @throws TypeError when the module has no function as its default export
 */
export async function loadDefault(module: ModuleRef, what: string): Promise<(...args: never[]) => unknown> {
  const file = modulePath(module);
  const loaded: Record<string, unknown> = file.endsWith('.mjs') ? await importEsm(pathToFileURL(file).href) : await requireOrImport(file);
  const fn = typeof loaded === 'function' ? loaded : loaded.default;
  if (typeof fn !== 'function') {
    throw new TypeError(`${what}: the module ${file} must export a function as its default export`);
  }
  return fn as (...args: never[]) => unknown;
}
