/**
 * The package as a TypeScript user gets it (issue 14.8): `npm pack` of a
 * fresh build, installed from the tarball into a new project together with
 * typescript 5.9.3, rxjs, ts-node (to run a `.ts` worker) and the NEWEST
 * `@types/node`. For each common tsconfig, a small program importing from
 * `rxwire`, `rxwire/operators` and `rxwire/transports`, `rxwire/processes`
 * (and `rxwire/nats`, but for `node10`: see NATS below) must compile WITHOUT
 * `skipLibCheck` (so rxwire's published `.d.ts` files are checked too) and
 * then run a `.ts` worker through `stage`.
 *
 * Everything happens under os.tmpdir() and is removed afterwards; nothing is
 * written into the checkout. Needs the npm registry (it installs packages).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPackage, root } from './package-build';

const versions = {
  typescript: '5.9.3',
  rxjs: require(join(root, 'package.json')).dependencies.rxjs as string,
  tsNode: require(join(root, 'package.json')).devDependencies['ts-node'] as string,
};

/** The common setups: module, moduleResolution, and whether the user's package is ESM. */
const SETUPS = [
  { name: 'commonjs + node10', module: 'commonjs', moduleResolution: 'node10', esm: false },
  { name: 'node16', module: 'node16', moduleResolution: 'node16', esm: false },
  { name: 'nodenext, an ESM package', module: 'nodenext', moduleResolution: 'nodenext', esm: true },
  { name: 'esnext + bundler, an ESM package', module: 'esnext', moduleResolution: 'bundler', esm: true },
] as const;

/** The user's program: imports from the three entry points, types that must bite, a `.ts` worker under `stage`. */
const MAIN = `
import { join } from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { codec, EncodeError, type ValueOf } from 'rxwire';
import { rpcCodec, stage } from 'rxwire/operators';
import { port, transferList } from 'rxwire/transports';

const Num = codec({
  type: 'record',
  name: 'Num',
  fields: [
    { name: 'n', type: 'int' },
    { name: 'tag', type: 'string', default: 'x' },
  ],
} as const);
type Num = ValueOf<typeof Num>;

// The types resolve (they are not any): a wrong value does not compile.
// @ts-expect-error n must be a number
const wrong: Num = { n: 'one', tag: 'x' };
void wrong;
// A defaulted field may be left out when encoding.
Num.encode({ n: 1 });

async function main(): Promise<void> {
  const [a, b] = port.pair();
  const moved = transferList(a, b).length;
  a.port.close();
  b.port.close();
  const out: Num[] = await lastValueFrom(
    from([1, 2, 3].map((n): Num => ({ n, tag: 't' }))).pipe(
      stage<Num, Num>(join(process.cwd(), 'double.worker.ts'), { workers: 1, input: Num, output: Num }),
      toArray(),
    ),
  );
  console.log(JSON.stringify({ out: out.map((v) => v.n), moved, rpc: rpcCodec().fingerprint.length > 0, errors: typeof EncodeError }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
`;

/**
 * `rxwire/nats`, compiled (not run) beside MAIN: its types resolve and bite.
 * Not under `node10`: there the @nats-io client's own declarations do not
 * resolve (@nats-io/nats-core names a types file that does not exist and
 * exports `./internal` without types), whoever imports them; README.md says
 * so (`skipLibCheck`, or a newer moduleResolution).
 */
const NATS = `
import { connect, type NatsWire } from 'rxwire/nats';
import { codec } from 'rxwire';

const Num = codec({ type: 'record', name: 'Num', fields: [{ name: 'n', type: 'int' }] } as const);

export async function natsTypes(conn: NatsWire): Promise<void> {
  const wire = conn.open('nums', Num);
  // @ts-expect-error a Num, not a string
  wire.next('one');
  await wire.send({ n: 1 });
  conn.nc.publish('x', 'y');
}
export const connectIs = typeof connect;
`;

/**
 * `rxwire/processes`, compiled (not run) beside MAIN under every setup,
 * `node10` too: its declarations must not load the NATS client's, although
 * a cluster node takes NATS options (`ClusterNats`).
 */
const PROCESSES = `
import { codec } from 'rxwire';
import { startNode, type ClusterNodeOptions, type ProcessNode } from 'rxwire/processes';

export const options: ClusterNodeOptions = { id: 'a', listen: { port: 0 }, nats: { servers: 'nats://127.0.0.1:4222', prefix: 'x.', user: 'u' } };
// @ts-expect-error servers is a string or an array of them
export const wrong: ClusterNodeOptions = { id: 'b', nats: { servers: 4222 } };
export const start = (): ProcessNode => startNode({ threads: 1 });
export const Num = codec('long');
`;

/** The worker, run from source by ts-node under the user's tsconfig. */
const WORKER = `
import { map, type Observable } from 'rxjs';

interface Num {
  n: number;
  tag: string;
}

export default (in$: Observable<Num>): Observable<Num> => in$.pipe(map((v) => ({ n: v.n * 2, tag: v.tag })));
`;

function run(command: string, args: string[], cwd: string, timeout = 120_000) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, npm_config_update_notifier: 'false' } });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}` };
}

function mustRun(command: string, args: string[], cwd: string, timeout?: number): string {
  const result = run(command, args, cwd, timeout);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${result.output}`);
  return result.output;
}

describe('the packed package, installed into a fresh TypeScript project', () => {
  let project: string | undefined;

  beforeAll(() => {
    project = mkdtempSync(join(tmpdir(), 'rxwire-user-'));
    const built = buildPackage('rxwire-pack-');
    let tarball: string;
    try {
      const packed = JSON.parse(mustRun('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', project], built.dir)) as { filename: string }[];
      tarball = join(project, packed[0].filename);
    } finally {
      built.remove();
    }
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'rxwire-user', private: true }));
    mustRun(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        tarball,
        `typescript@${versions.typescript}`,
        `rxjs@${versions.rxjs}`,
        `ts-node@${versions.tsNode}`,
        '@types/node@latest',
      ],
      project,
      180_000,
    );
  }, 300_000);

  afterAll(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it.each(SETUPS)('$name: compiles without skipLibCheck, and runs a .ts worker', (setup) => {
    const dir = join(project!, setup.name.replace(/[^a-z0-9]+/g, '-'));
    mkdirSync(dir);
    if (setup.esm) writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(join(dir, 'main.ts'), MAIN);
    writeFileSync(join(dir, 'double.worker.ts'), WORKER);
    writeFileSync(join(dir, 'nats.ts'), NATS);
    writeFileSync(join(dir, 'processes.ts'), PROCESSES);
    const files = ['main.ts', 'double.worker.ts', 'processes.ts', ...(setup.moduleResolution === 'node10' ? [] : ['nats.ts'])];
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: setup.module,
          moduleResolution: setup.moduleResolution,
          strict: true,
          skipLibCheck: false,
          types: ['node'],
          outDir: 'out',
        },
        files,
      }),
    );
    const tsc = run(process.execPath, [join(project!, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], dir);
    expect(tsc.output).toBe('');
    expect(tsc.status).toBe(0);

    const main = run(process.execPath, [join('out', 'main.js')], dir, 60_000);
    expect(main.output.trim()).toBe(JSON.stringify({ out: [2, 4, 6], moved: 2, rpc: true, errors: 'function' }));
    expect(main.status).toBe(0);
  }, 120_000);
});
