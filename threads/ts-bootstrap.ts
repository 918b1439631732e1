/**
 * The entry of a worker thread that loads TypeScript (threads/worker.ts runs
 * it with `eval: true`): a `require` hook for `.ts`, `.tsx` and `.cts` that
 * compiles through ts-node in transpile-only mode, as `ts-node/register`
 * would, and keeps each compiled file in a cache on disk.
 *
 * Why the cache: every worker is a fresh V8 isolate, and compiling the
 * library and the user's module again in each one cost about 3 s of CPU per
 * worker (loading `typescript`, then transpiling some fifty files); a test
 * suite or a pool of N workers paid it N times, and on a loaded 2-core
 * machine a worker took tens of seconds to start. With the cache, a worker
 * whose files are all compiled already never loads ts-node or `typescript`.
 *
 * The cache: `<os.tmpdir()>/rxwire-ts-<uid>/<sha256>.js`, a directory of this
 * user's only (mode 0700; a directory owned by anyone else, a symbolic link,
 * or a file in its place is not used, so no other user can plant code in it
 * or stop workers from starting). The key covers what ts-node's output
 * depends on: the file's path and text, the working directory, the text of
 * the nearest `tsconfig.json` above it (where ts-node finds its options) and
 * of the configs it `extends` (followed through files and packages), the
 * `TS_NODE_*` environment variables, and the versions of Node, ts-node and
 * TypeScript. An entry is written to a temporary name and renamed, so a
 * concurrent reader sees all of it or nothing. Where the directory cannot be
 * made or written, for any reason, files are compiled without caching.
 * Stack traces point into the `.ts` sources: the output carries ts-node's
 * inline source map, and source maps are enabled in the worker.
 */

/** The code a worker evaluates to load `file` (absolute path) with TypeScript support. */
export function typeScriptBootstrap(file: string): string {
  return `${HOOK}\nrequire(${JSON.stringify(file)});\n`;
}

// Plain JavaScript: it runs before anything can compile TypeScript.
const HOOK = String.raw`
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const crypto = require('node:crypto');
process.setSourceMapsEnabled(true);
const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
const dir = path.join(os.tmpdir(), 'rxwire-ts-' + (uid ?? os.userInfo().username));
const usable = (() => {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = fs.lstatSync(dir);
    return stat.isDirectory() && (uid === undefined || (stat.uid === uid && (stat.mode & 0o022) === 0));
  } catch {
    return false; // a file in its place (EEXIST), no right to make it, a read-only or full disk: no cache
  }
})();
// The text of a tsconfig and of every config it extends (a path, or a package's), depth first, each once.
function configTexts(file, seen) {
  if (seen.has(file) || seen.size > 16) return '';
  seen.add(file);
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return '\0(unreadable ' + file + ')';
  }
  let out = text;
  const found = /"extends"\s*:\s*("(?:[^"\\]|\\.)*"|\[[^\]]*\])/.exec(text);
  for (const quoted of found ? found[1].match(/"(?:[^"\\]|\\.)*"/g) ?? [] : []) {
    const name = JSON.parse(quoted);
    let next;
    try {
      next = name.startsWith('.') || path.isAbsolute(name)
        ? path.resolve(path.dirname(file), name.endsWith('.json') ? name : name + '.json')
        : require.resolve(name, { paths: [path.dirname(file)] });
    } catch {
      next = '(unresolved ' + name + ')';
    }
    out += '\0' + next + '\0' + configTexts(next, seen);
  }
  return out;
}
const context = (() => {
  let config = '';
  for (let d = process.cwd(); ; d = path.dirname(d)) {
    const candidate = path.join(d, 'tsconfig.json');
    if (fs.existsSync(candidate)) {
      config = configTexts(candidate, new Set());
      break;
    }
    if (path.dirname(d) === d) break;
  }
  const version = (name) => {
    try {
      return require(name + '/package.json').version;
    } catch {
      return '';
    }
  };
  const env = Object.keys(process.env).filter((k) => k.startsWith('TS_NODE_')).sort().map((k) => k + '=' + process.env[k]);
  return [process.version, version('ts-node'), version('typescript'), process.cwd(), config, ...env].join('\0');
})();
let service;
function compile(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const key = crypto.createHash('sha256').update(context).update('\0' + filename + '\0' + source).digest('hex');
  const cached = path.join(dir, key + '.js');
  if (usable && fs.existsSync(cached)) return module._compile(fs.readFileSync(cached, 'utf8'), filename);
  // CommonJS whatever the user's tsconfig says: module and moduleResolution are
  // overridden together (one without the other is TS5110/TS5095 under node16,
  // nodenext or bundler).
  service ??= require('ts-node').create({ transpileOnly: true, compilerOptions: { module: 'commonjs', moduleResolution: 'node' } });
  const code = service.compile(source, filename);
  if (usable) {
    const temporary = cached + '.' + process.pid + '.' + require('node:worker_threads').threadId + '.tmp';
    try {
      fs.writeFileSync(temporary, code, { mode: 0o600 });
      fs.renameSync(temporary, cached);
    } catch (err) {
      // A full or read-only disk only costs the next worker a compile.
      if (!['EACCES', 'EPERM', 'EROFS', 'ENOSPC'].includes(err.code)) throw err;
    }
  }
  module._compile(code, filename);
}
for (const extension of ['.ts', '.tsx', '.cts']) require.extensions[extension] = compile;
`;
