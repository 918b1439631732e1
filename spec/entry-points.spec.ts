/**
 * The package's entry points, as a user loads them: `rxwire`,
 * `rxwire/operators` and `rxwire/transports`, from CommonJS and from ESM.
 * Builds the package first (into a temporary directory, never into the
 * checkout), so the test speaks for the current sources.
 */
import { spawnSync } from 'node:child_process';
import { buildPackage, root, type BuiltPackage } from './package-build';

let built: BuiltPackage | undefined;

beforeAll(() => {
  built = buildPackage();
}, 180_000);

afterAll(() => built?.remove());

/** Runs node in the built package (`cwd`: its directory, so `rxwire` resolves to it), or in the checkout. */
function node(args: string[], cwd = built!.dir): string {
  const result = spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
  // stdout too: an example that finds its own result wrong says so there (exit code 1, nothing on stderr).
  if (result.status !== 0) throw new Error(`exit ${result.status ?? result.signal}\n${result.stderr}\n${result.stdout}`);
  return result.stdout.trim();
}

const program = (load: string) => `
  ${load}
  const Trade = codec({ type: 'record', name: 'T', fields: [{ name: 'id', type: 'long' }] });
  const [a, b] = port.pair();
  const rx = open(b, Trade);
  rx.subscribe((t) => { console.log(t.id, typeof EncodeError, typeof operators); rx.close(); });
  const tx = open(a, Trade);
  tx.next({ id: 42 });
  tx.complete();
`;

describe('entry points', () => {
  it('load from CommonJS', () => {
    const out = node([
      '-e',
      program(`const { codec, open, EncodeError } = require('rxwire');
               const { port } = require('rxwire/transports');
               const operators = require('rxwire/operators');`),
    ]);
    expect(out).toBe('42 function object');
  });

  it('load from ESM', () => {
    const out = node([
      '--input-type=module',
      '-e',
      program(`import { codec, open, EncodeError } from 'rxwire';
               import { port } from 'rxwire/transports';
               import * as operators from 'rxwire/operators';`),
    ]);
    expect(out).toBe('42 function object');
  });
});

describe('examples run as a user runs them', () => {
  // A real child process each, with worker threads of its own.
  it('word count, compiled, on 2 workers', () => {
    const out = node(['dist/examples/word-count.js', '-w', '2']);
    expect(out).toContain('on 2 worker(s)');
    expect(out).toContain('check: OK');
  });

  it('word count from TypeScript under ts-node, on 2 workers', () => {
    const out = node(['-r', 'ts-node/register/transpile-only', 'examples/word-count.ts', '--workers=2'], root);
    expect(out).toContain('on 2 worker(s)');
    expect(out).toContain('check: OK');
  });

  it('the stage demo (npm start), compiled, on few trades: identical results', () => {
    const out = node(['dist/examples/risk.js', '3000', '-w', '2']);
    expect(out).toContain('on 2 worker threads');
    expect(out).toContain('check: OK');
    // -w before the count, and fewer trades than symbols: the 2 of `-w 2` was taken for the count, and 2 trades crashed.
    const few = node(['dist/examples/risk.js', '-w', '1', '5']);
    expect(few).toContain('pricing 5 trades');
    expect(few).toContain('on 1 worker threads');
    expect(few).toContain('check: OK');
  });

  it('the operators load from both module systems', () => {
    const cjs = node(['-e', `const o = require('rxwire/operators'); console.log(typeof o.exchange, typeof o.burstRecv)`]);
    const esm = node(['--input-type=module', '-e', `import { exchange, burstRecv } from 'rxwire/operators'; console.log(typeof exchange, typeof burstRecv)`]);
    expect([cjs, esm]).toEqual(['function function', 'function function']);
  });

  it('rxwire/nats loads from both module systems, and its connect fails typed with no server', () => {
    // Port 1 on loopback: refused at once.
    const check = `.then(() => console.log('connected?'), (e) => console.log(typeof connect, typeof NatsWire, e instanceof TransportClosedError))`;
    const cjs = node(['-e', `const { connect, NatsWire } = require('rxwire/nats'); const { TransportClosedError } = require('rxwire'); connect({ servers: '127.0.0.1:1' })${check}`]);
    const esm = node([
      '--input-type=module',
      '-e',
      `import { connect, NatsWire } from 'rxwire/nats'; import { TransportClosedError } from 'rxwire'; connect({ servers: '127.0.0.1:1' })${check}`,
    ]);
    expect([cjs, esm]).toEqual(['function function true', 'function function true']);
  });
});
