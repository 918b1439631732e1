/**
 * Type-level tests: `tsc --noEmit` over the whole project (sources, examples,
 * benchmarks and spec/types/*, whose `@ts-expect-error` lines must each meet
 * an error), and a canary that must fail, so the check is known to bite.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..');
const tsc = require.resolve('typescript/bin/tsc');

function runTsc(project: string) {
  return spawnSync(process.execPath, [tsc, '--noEmit', '-p', project], { cwd: root, encoding: 'utf8' });
}

describe('types', () => {
  it('the project, the type-level tests included, type-checks', () => {
    const result = runTsc('tsconfig.json');
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('a value of the wrong shape for an inferred schema type does not compile', () => {
    // The canary's tsconfig goes to a temporary directory: a test run writes
    // nothing into the checkout.
    const dir = mkdtempSync(join(tmpdir(), 'rxwire-canary-'));
    const project = join(dir, 'tsconfig.json');
    writeFileSync(
      project,
      JSON.stringify({
        extends: join(root, 'tsconfig.json'),
        compilerOptions: { typeRoots: [join(root, 'node_modules', '@types')] },
        files: [join(root, 'spec', 'type-canary', 'wrong-shape.ts')],
        include: [],
        exclude: [],
      }),
    );
    try {
      const result = runTsc(project);
      expect(result.status).not.toBe(0);
      expect(result.stdout).toMatch(/wrong-shape\.ts\(5,\d+\): error TS2322/);
      // ... and for that reason only (not a configuration error).
      expect(result.stdout.match(/error TS\d+/g)).toEqual(['error TS2322']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
