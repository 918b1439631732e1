/**
 * The layer rule of docs/ARCHITECTURE.md: a folder imports only the layers
 * below it, and nothing imports in a circle. spec/architecture.spec.ts runs
 * this from `npm test`; by hand: `npx depcruise --config .dependency-cruiser.js
 * index.ts core transports threads runtime pool operators nats processes`.
 *
 *   processes/            7  lightweight processes
 *   nats/                 6  NATS services, subjects, JetStream, the NATS cluster glue
 *   operators/            5
 *   runtime/   pool/      4  (siblings: neither imports the other)
 *   threads/              3
 *   transports/           2
 *   core/                 1
 * The entry point index.ts sits above them all.
 */
const LIBRARY = '^(index\\.ts|core|transports|threads|runtime|pool|operators|nats|processes)(/|$)';

/** For each layer, the folders above it, which it must not import. */
const above = {
  core: ['transports', 'threads', 'runtime', 'pool', 'operators', 'nats', 'processes'],
  transports: ['threads', 'runtime', 'pool', 'operators', 'nats', 'processes'],
  threads: ['runtime', 'pool', 'operators', 'nats', 'processes'],
  runtime: ['pool', 'operators', 'nats', 'processes'],
  pool: ['runtime', 'operators', 'nats', 'processes'],
  operators: ['nats', 'processes'],
  nats: ['processes'],
  processes: [],
};

const upward = Object.entries(above)
  .filter(([, higher]) => higher.length > 0)
  .map(([layer, higher]) => ({
    name: `no-upward-from-${layer}`,
    comment: `${layer}/ may import only the layers below it (docs/ARCHITECTURE.md)`,
    severity: 'error',
    from: { path: `^${layer}/` },
    to: { path: `^(${higher.join('|')})/|^index\\.ts$` },
  }));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'no-entry-point-inside',
      comment: 'index.ts is the package entry point: nothing in the library imports it',
      severity: 'error',
      from: { path: LIBRARY },
      to: { path: '^index\\.ts$' },
    },
    {
      name: 'no-circular',
      comment: 'no import cycles, inside a layer or across layers',
      severity: 'error',
      from: { path: LIBRARY },
      to: { circular: true },
    },
    {
      name: 'no-test-or-tool-code',
      comment: 'the library never imports tests, benches, examples or scripts',
      severity: 'error',
      from: { path: LIBRARY },
      to: { path: '^(spec|bench|examples|scripts)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: require('node:path').join(__dirname, 'tsconfig.json') },
    exclude: { path: '^(node_modules|dist)/' },
  },
};
