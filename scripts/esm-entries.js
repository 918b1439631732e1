#!/usr/bin/env node
// Writes the ESM entry points (dist/esm/*.mjs) over the CommonJS build, one
// named export per export of the CommonJS module, so `import { codec } from
// 'rxwire'` and `require('rxwire')` load the same code (no dual-package hazard).
// Usage: node scripts/esm-entries.js [dist]   (dist/ of the checkout by default;
// the tests build into a temporary directory and pass it here).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const dist = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'dist'));
const entries = { index: 'index.js', operators: 'operators/index.js', transports: 'transports/index.js', nats: 'nats/index.js', processes: 'processes/index.js' };

fs.mkdirSync(path.join(dist, 'esm'), { recursive: true });
for (const [name, file] of Object.entries(entries)) {
  const names = Object.keys(require(path.join(dist, file))).filter((key) => key !== '__esModule' && key !== 'default');
  const lines = [`import cjs from '../${file}';`];
  if (names.length > 0) lines.push(`export const { ${names.join(', ')} } = cjs;`);
  lines.push('');
  fs.writeFileSync(path.join(dist, 'esm', `${name}.mjs`), lines.join('\n'));
}
