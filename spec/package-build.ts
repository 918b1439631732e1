/**
 * Builds the package as `npm run build` does, but into a temporary directory
 * (never into the checkout): dist/ with the ESM entries, package.json,
 * README.md and docs/, and a link to the checkout's node_modules so the
 * built code finds its dependencies. Used by entry-points.spec.ts and
 * packaging.spec.ts.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The checkout's root. */
export const root = join(__dirname, '..');

export interface BuiltPackage {
  /** The package directory: package.json, dist/, README.md, docs/. */
  dir: string;
  /** Removes the directory. */
  remove(): void;
}

export function buildPackage(prefix = 'rxwire-build-'): BuiltPackage {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    const dist = join(dir, 'dist');
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', dist], { cwd: root, stdio: 'pipe' });
    for (const name of ['package.json', 'README.md', 'docs']) cpSync(join(root, name), join(dir, name), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
    execFileSync(process.execPath, ['scripts/esm-entries.js', dist], { cwd: root, stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
