/**
 * Type-level tests: `tsc --noEmit` over the whole project (sources, examples,
 * benchmarks and spec/types/*, whose `@ts-expect-error` lines must each meet
 * an error), and a canary that must fail, so the check is known to bite.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync, rmSync } from 'node:fs';
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
    const project = join(root, 'spec', 'type-canary', 'tsconfig.json');
    writeFileSync(
      project,
      JSON.stringify({ extends: '../../tsconfig.json', include: ['wrong-shape.ts'], exclude: [] }),
    );
    try {
      const result = runTsc(project);
      expect(result.status).not.toBe(0);
      expect(result.stdout).toMatch(/wrong-shape\.ts\(5,\d+\): error TS2322/);
    } finally {
      rmSync(project);
    }
  });
});
