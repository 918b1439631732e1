// node scripts/probes/shm-warm.js DIST [warm] [runs]: shm callback round trips of Trades over a fresh shm.pair() and a fresh
// echo worker (DIST: a built dist/, e.g. ./dist), `warm` untimed (default 2000) then 20,000 timed, `runs` times (default 4).
// Prints per run: p50 and p99 (µs), the timed trips over 15 µs, the minor page faults each thread took during the timed
// part, and the worker's new space (V8's young generation) at the end.
// It found the first-lap cost of a fresh worker's young generation (session 21; bench/README.md, "A fresh worker's first
// lap"): with warm = 2000 the worker faults ~2,000 times in the timed part, with 60000 a few dozen.
const [arg = 'dist', warm = '2000', runs = '4'] = process.argv.slice(2);
const dir = require('node:path').resolve(arg);
const { Worker } = require('node:worker_threads');
const { open } = require(dir + '/transports/open.js');
const { shm, transferList } = require(dir + '/transports/index.js');
const { Trade, tradePool, POOL_MASK } = require(dir + '/bench/trade.js');

/** This thread's minor page faults so far (Linux; field 10 of /proc/thread-self/stat). */
function faults() {
  return +require('node:fs').readFileSync('/proc/thread-self/stat', 'latin1').split(') ')[1].split(' ')[7];
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const v8 = require('node:v8');
const { open } = require(workerData.dir + '/transports/open.js');
const { Trade } = require(workerData.dir + '/bench/trade.js');
${faults}
const wire = open(workerData.end, Trade);
let k = 0, from = 0, to = 0;
wire.subscribe({
  next: (v) => { if (++k === workerData.warm + 1) from = faults(); else if (k === workerData.total) to = faults(); wire.next(v); },
  complete: () => {
    const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    parentPort.postMessage({ faults: to - from, newSpace: space.space_size });
    wire.complete();
  },
});
parentPort.postMessage('ready');
`;

async function once(warmup) {
  const total = warmup + 20000;
  const [here, there] = shm.pair();
  const w = new Worker(WORKER, { eval: true, workerData: { end: there, dir, warm: warmup, total }, transferList: transferList(there) });
  const wire = open(here, Trade, { worker: w });
  const pool = tradePool();
  const at = new Float64Array(total + 1);
  let k = 0, from = 0, to = 0;
  const done = new Promise((resolve) =>
    wire.subscribe({
      next: () => {
        at[++k] = performance.now();
        if (k === warmup + 1) from = faults();
        if (k < total) wire.next(pool[k & POOL_MASK]);
        else { to = faults(); resolve(); }
      },
    }),
  );
  await new Promise((r) => w.once('message', r));
  at[0] = performance.now();
  wire.next(pool[0]);
  await done;
  wire.complete();
  const report = await new Promise((r) => w.once('message', r));
  await new Promise((r) => w.once('exit', r));
  const d = [];
  for (let i = warmup + 1; i <= total; i++) d.push((at[i] - at[i - 1]) * 1e3);
  d.sort((a, b) => a - b);
  const slow = d.filter((x) => x > 15).length;
  return `p50 ${d[d.length >> 1].toFixed(2)} p99 ${d[Math.floor(d.length * 0.99)].toFixed(1)} >15µs ${slow} faults main ${to - from} worker ${report.faults} new space ${report.newSpace >> 20} MiB`;
}

(async () => {
  for (let i = 0; i < Number(runs); i++) console.log(await once(Number(warm)));
})();
