#!/usr/bin/env node
/**
 * `pretest`: makes sure a nats-server is at hand for the NATS tests, which
 * start their own on an ephemeral port. In order:
 *  1. NATS_SERVER=/path/to/nats-server, when set, must name an executable;
 *  2. `nats-server` on the PATH (or in /usr/sbin, where Debian puts it);
 *  3. as root with apt-get: `apt-get install -y nats-server` (after an
 *     `apt-get update` when the first try finds no package);
 *  4. otherwise it fails, saying exactly how to get one. The NATS tests are
 *     never skipped silently.
 * Prints the path it settled on; spec/nats/server.ts finds it the same way.
 */
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const { accessSync, constants } = require('node:fs');

const HOW =
  'rxwire: the NATS tests need nats-server 2.9 or newer. Install it with\n' +
  '  sudo apt-get install -y nats-server        (Debian/Ubuntu)\n' +
  'or download it from https://github.com/nats-io/nats-server/releases and run\n' +
  '  NATS_SERVER=/path/to/nats-server npm test';

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath() {
  const dirs = (process.env.PATH || '').split(':').concat(['/usr/sbin', '/usr/local/sbin', '/usr/local/bin']);
  for (const dir of dirs) if (dir && executable(`${dir}/nats-server`)) return `${dir}/nats-server`;
  return undefined;
}

function aptInstall() {
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!asRoot || spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status !== 0) return false;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', ['install', '-y', '-q', 'nats-server'], { stdio: 'inherit', env }).status === 0;
  console.log('rxwire: nats-server is missing; installing it with apt-get');
  if (install()) return true;
  spawnSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
  return install();
}

function main() {
  const given = process.env.NATS_SERVER;
  if (given) {
    if (!executable(given)) {
      console.error(`rxwire: NATS_SERVER=${given} is not an executable file.\n${HOW}`);
      process.exit(1);
    }
    return given;
  }
  const found = onPath() || (aptInstall() && onPath());
  if (!found) {
    console.error(HOW);
    process.exit(1);
  }
  return found;
}

const path = main();
const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
console.log(`rxwire: using ${path} (${version})`);
