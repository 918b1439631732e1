/**
 * The layer rule of docs/ARCHITECTURE.md, checked by dependency-cruiser with
 * the project's own .dependency-cruiser.js: every library folder imports only
 * the layers below it, and no import runs in a circle. The second and third
 * cases run the same rules over spec/fixtures/layers, a small tree with one
 * planted upward import and one planted cycle, so the check is shown to fail
 * when it should (nothing is written into the tree).
 */
import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
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

describe('source files', () => {
  it('no library source file is over 300 lines', () => {
    const long: string[] = [];
    const visit = (path: string): void => {
      if (statSync(path).isDirectory()) {
        for (const name of readdirSync(path)) visit(join(path, name));
      } else if (path.endsWith('.ts')) {
        const lines = require('node:fs').readFileSync(path, 'utf8').split('\n').length - 1;
        if (lines > 300) long.push(`${path.slice(root.length + 1)}: ${lines}`);
      }
    };
    for (const entry of LIBRARY) visit(join(root, entry));
    expect(long).toEqual([]);
  });
});
