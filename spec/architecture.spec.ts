/**
 * The layer rule of docs/ARCHITECTURE.md, checked by dependency-cruiser with
 * the project's own .dependency-cruiser.js: every library folder imports only
 * the layers below it, and no import runs in a circle. The second and third
 * cases run the same rules over spec/fixtures/layers, a small tree with one
 * planted upward import and one planted cycle, so the check is shown to fail
 * when it should (nothing is written into the tree).
 */
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');
const depcruise = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const config = join(root, '.dependency-cruiser.js');
const LIBRARY = ['index.ts', 'core', 'transports', 'threads', 'runtime', 'pool', 'operators', 'nats', 'processes'];

interface Run {
  code: number;
  out: string;
}

function cruise(cwd: string, targets: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [depcruise, '--config', config, '--output-type', 'err-long', ...targets],
      { cwd, timeout: 50_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

describe('layers', () => {
  it('every library folder imports only the layers below it, with no cycle', async () => {
    const run = await cruise(root, LIBRARY);
    expect(run.out).toContain('no dependency violations found');
    expect(run.code).toBe(0);
  });

  it('refuses a planted upward import (core → operators)', async () => {
    const run = await cruise(join(__dirname, 'fixtures', 'layers'), ['core', 'operators']);
    expect(run.code).not.toBe(0);
    expect(run.out).toContain('no-upward-from-core');
    expect(run.out).toContain('core/planted.ts');
  });

  it('refuses a planted cycle', async () => {
    const run = await cruise(join(__dirname, 'fixtures', 'layers'), ['transports']);
    expect(run.code).not.toBe(0);
    expect(run.out).toContain('no-circular');
  });
});

/** Every .ts file of the library folders. */
function libraryFiles(): string[] {
  const files: string[] = [];
  const visit = (path: string): void => {
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path)) visit(join(path, name));
    } else if (path.endsWith('.ts')) files.push(path);
  };
  for (const entry of LIBRARY) visit(join(root, entry));
  return files;
}

/**
 * The globals `Buffer` and `performance` that `source` reads without importing them. In Node both are
 * accessors on `globalThis`: each read is a getter call (~15 ns measured, where an imported binding costs
 * ~1), and a decode that asked `instanceof Buffer` per value paid it on every value (issue 15, session 33).
 */
function globalGetterReads(source: string): string[] {
  const code = source
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '')
    .replace(/'(?:[^'\\\n]|\\.)*'/g, "''")
    .replace(/`(?:[^`\\]|\\.)*`/g, '``');
  const reads: string[] = [];
  if (/\bBuffer\s*\.|instanceof\s+Buffer\b/.test(code) && !/import\s*\{[^}]*\bBuffer\b[^}]*\}\s*from\s*'node:buffer'/.test(source)) reads.push('Buffer');
  if (/(^|[^.\w])performance\s*\./.test(code) && !/import\s*\{[^}]*\bperformance\b[^}]*\}\s*from\s*'node:perf_hooks'/.test(source)) reads.push('performance');
  return reads;
}

describe('source files', () => {
  it('no library source file is over 300 lines', () => {
    const long: string[] = [];
    for (const path of libraryFiles()) {
      const lines = readFileSync(path, 'utf8').split('\n').length - 1;
      if (lines > 300) long.push(`${path.slice(root.length + 1)}: ${lines}`);
    }
    expect(long).toEqual([]);
  });

  it('library code imports Buffer and performance instead of reading the globals (getters)', () => {
    const found = libraryFiles()
      .map((path) => ({ path: path.slice(root.length + 1), reads: globalGetterReads(readFileSync(path, 'utf8')) }))
      .filter(({ reads }) => reads.length > 0);
    expect(found).toEqual([]);
    // The check sees a read, and an import, where they are; not in a comment or a string.
    expect(globalGetterReads('const t = performance.now();\nconst b = x instanceof Buffer;')).toEqual(['Buffer', 'performance']);
    expect(globalGetterReads("import { Buffer } from 'node:buffer';\nimport { performance } from 'node:perf_hooks';\nBuffer.alloc(performance.now());")).toEqual([]);
    expect(globalGetterReads("// Buffer.alloc\nconst s = 'performance.now()';")).toEqual([]);
  });
});
