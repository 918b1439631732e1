// node --expose-gc scripts/probes/spawn-bytes.js DIST [n]: the bytes each spawn leaves behind, by constructor.
// Spawns `n` idle processes (default 20,000) onto the node's own thread of a fresh node (DIST: a built dist/, e.g.
// ./dist), with heap snapshots before and after (both after a full GC), and prints the growth per process of every
// kind of object that grew by more than 2 bytes a process, then the total. Then it times touching 100 MB of fresh
// memory: on this VM each first touch of a 4 KiB page cost ~13.5 µs (session 23), which is why a spawn's cost is
// mostly the memory it keeps (bench/README.md, `process`, "Session 23").
const [arg = 'dist', count = '20000'] = process.argv.slice(2);
const dir = require('node:path').resolve(arg);
const fs = require('node:fs');
const v8 = require('node:v8');
const { startNode } = require(dir + '/processes/index.js');
const { idle } = require(dir + '/bench/process/rxwire-programs.js');

if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc');

/** Self sizes and counts of a heap snapshot's objects, by type and name. */
function kinds(file) {
  const snap = JSON.parse(fs.readFileSync(file, 'utf8'));
  fs.unlinkSync(file);
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [type, name, size] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const out = new Map();
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const key = `${types[snap.nodes[i + type]]} ${snap.strings[snap.nodes[i + name]].slice(0, 40)}`;
    const entry = out.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += snap.nodes[i + size];
    out.set(key, entry);
  }
  return out;
}

async function main() {
  const n = Number(count);
  const node = startNode({ threads: 1 });
  const here = { placement: { thread: node.threads } };
  const handles = new Array(n);
  // Both snapshots are written before either is read: reading one leaves objects that the second would count.
  global.gc();
  const first = v8.writeHeapSnapshot();
  for (let i = 0; i < n; i++) handles[i] = node.spawn(idle, null, here);
  global.gc();
  const second = v8.writeHeapSnapshot();
  const before = kinds(first);
  const after = kinds(second);
  let total = 0;
  const rows = [];
  for (const [key, { count: c, bytes }] of after) {
    const was = before.get(key) ?? { count: 0, bytes: 0 };
    const grew = (bytes - was.bytes) / n;
    if (grew > 2) rows.push([grew, (c - was.count) / n, key]);
  }
  rows.sort((a, b) => b[0] - a[0]);
  for (const [grew, per, key] of rows) {
    total += grew;
    console.log(`${grew.toFixed(1).padStart(7)} B  ${per.toFixed(2).padStart(5)} a process  ${key}`);
  }
  console.log(`${total.toFixed(0).padStart(7)} B a spawn, after ${n} spawns`);
  for (const h of handles) h.send(null);
  await node.close();
  const fresh = Buffer.allocUnsafeSlow(100e6);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < fresh.length; i += 4096) fresh[i] = 1;
  const ns = Number(process.hrtime.bigint() - t0);
  console.log(`first touch of 100 MB: ${(ns / 1e6).toFixed(0)} ms, ${(ns / 1e3 / (fresh.length / 4096)).toFixed(2)} µs a 4 KiB page`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
