/**
 * TypeScript workers (threads/ts-bootstrap.ts): compiled once into the cache,
 * recompiled when their text changes, with stacks that point into the `.ts`
 * source. The modules are written outside the tree, in a temporary directory.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { WorkerError } from '../../core/errors';
import { HostedWorker } from '../../threads/worker';

const runner = `${__dirname}/../workers/crew-runner.worker.ts`;
let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rxwire-spec-ts-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function resultOf(module: string, env?: NodeJS.ProcessEnv): Promise<unknown> {
  const host = new HostedWorker({ runner, module, index: 0, setup: {}, worker: env ? { env } : {} });
  try {
    return await host.result;
  } finally {
    await host.close();
  }
}

/** The cache entries whose compiled code contains `marker` (comments survive the compile), with their mtimes. */
function cached(marker: string): number[] {
  const cache = join(tmpdir(), `rxwire-ts-${process.getuid?.() ?? userInfo().username}`);
  return readdirSync(cache)
    .filter((name) => name.endsWith('.js') && readFileSync(join(cache, name), 'utf8').includes(marker))
    .map((name) => statSync(join(cache, name)).mtimeMs);
}

test('a module is compiled once into the cache, and again when its text changes', async () => {
  const module = join(dir, 'answer.ts');
  const marker = `marker ${process.pid} ${Date.now()}`;
  writeFileSync(module, `const answer: number = 1; // ${marker} one\nexport default () => answer;\n`);
  expect(await resultOf(module)).toBe(1);
  const first = cached(`${marker} one`);
  expect(first).toHaveLength(1);
  expect(await resultOf(module)).toBe(1);
  expect(cached(`${marker} one`)).toEqual(first); // read, not written again
  writeFileSync(module, `const answer: number = 2; // ${marker} two\nexport default () => answer;\n`);
  expect(await resultOf(module)).toBe(2);
  expect(cached(`${marker} two`)).toHaveLength(1);
});

test("a throw in a compiled module names the .ts file and the line it was on", async () => {
  const module = join(dir, 'throws.ts');
  // Types and blank lines that the compiler removes: the line numbers only survive through the source map.
  writeFileSync(module, ['interface Unused {', '  a: number;', '}', '', 'type Also = string;', '', 'export default (): never => {', "  throw new RangeError('from line 8');", '};', ''].join('\n'));
  for (let round = 0; round < 2; round++) {
    // Once compiled, once from the cache.
    const err = await resultOf(module).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerError);
    expect((err as WorkerError).workerStack).toContain(`${module}:8`);
  }
});

test('the TS_NODE_ variables ts-node reads are part of the key: a module is compiled again under other ones', async () => {
  const module = join(dir, 'env.ts');
  const marker = `marker ${process.pid} ${Date.now()} env`;
  writeFileSync(module, `// ${marker}\nexport default (): number => 3;\n`);
  expect(await resultOf(module)).toBe(3);
  expect(cached(marker)).toHaveLength(1);
  expect(await resultOf(module, { ...process.env, TS_NODE_COMPILER_OPTIONS: '{"removeComments":false}' })).toBe(3);
  expect(cached(marker)).toHaveLength(2);
});

test('a file where the cache directory should be does not stop TypeScript workers: they compile without a cache', async () => {
  const other = mkdtempSync(join(tmpdir(), 'rxwire-spec-tmp-'));
  try {
    writeFileSync(join(other, `rxwire-ts-${process.getuid?.() ?? userInfo().username}`), 'not a directory');
    const module = join(dir, 'blocked.ts');
    writeFileSync(module, 'export default (): number => 4;\n');
    expect(await resultOf(module, { ...process.env, TMPDIR: other, TEMP: other, TMP: other })).toBe(4);
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
}, 60_000);
