// node scripts/probes/shm-timeline.js DIST [wait]: one shm callback round trip of 22,000 Trades over a fresh shm.pair() (DIST: a built dist/, e.g. ./dist),
// printing round trips 12,001-16,000 run-length encoded: fN = N trips under 8 µs, a number = one slower trip in µs.
// It showed the page fault every ~105 trips of a fresh ring (session 20: 6bff7d2), and a slow trip every ~5th: the echo
// worker's young generation faulting in on its first lap (session 21: see shm-warm.js).
const [arg = 'dist', wait = 'auto'] = process.argv.slice(2);
const dir = require('node:path').resolve(arg);
const { Worker } = require('worker_threads');
const { open } = require(dir + '/transports/open.js');
const { shm, transferList } = require(dir + '/transports/index.js');
const { Trade, tradePool, POOL_MASK } = require(dir + '/bench/trade.js');
(async () => {
  const [here, there] = shm.pair();
  const w = new Worker(require('node:path').join(__dirname, 'echo.worker.js'), { workerData: { end: there, dir, opts: { wait } }, transferList: transferList(there) });
  const wire = open(here, Trade, { worker: w, wait });
  const pool = tradePool(); const N = 22000; const at = new Float64Array(N + 1); let k = 0;
  const done = new Promise((res) => wire.subscribe({ next: () => { at[++k] = performance.now(); if (k < N) wire.next(pool[k & POOL_MASK]); else res(); } }));
  await new Promise((r) => w.once('message', r));
  at[0] = performance.now(); wire.next(pool[0]); await done; wire.complete(); await new Promise((r) => w.once('exit', r));
  const out = []; let run = 0, cls = '';
  for (let i = 12001; i <= 16000; i++) { const d = (at[i] - at[i - 1]) * 1e3; const c = d < 8 ? 'f' : d < 15 ? 'm' : 'S'; if (c === 'f') { run++; continue; } if (run) out.push('f' + run); run = 0; out.push(d.toFixed(0)); }
  if (run) out.push('f' + run);
  console.log(out.join(' '));
})();
