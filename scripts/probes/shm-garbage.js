// node scripts/probes/shm-garbage.js DIST: bytes allocated per shm callback round trip on the main thread (inspector sampling that keeps
// collected objects), by function (session 20: 7.4 KB -> 3.0 KB with core/microtask.ts). DIST: a built dist/, e.g. ./dist
const dir = require('node:path').resolve(process.argv[2] ?? 'dist');
const inspector = require('inspector'); const fs = require('fs');
const { open } = require(dir + '/transports/open.js');
const { shm, transferList } = require(dir + '/transports/index.js');
const { Trade, tradePool, POOL_MASK } = require(dir + '/bench/trade.js');
const { startBenchWorker, awaitReport } = require(dir + '/bench/worker-host.js');
const s = new inspector.Session(); s.connect();
const post = (m, p) => new Promise((res, rej) => s.post(m, p, (e, r) => e ? rej(e) : res(r)));
async function once(N) {
  const [here, there] = shm.pair();
  const bench = startBenchWorker('wire-echo', { end: there }, transferList(there));
  const wire = open(here, Trade, { worker: bench.worker });
  const pool = tradePool(); let k = 0;
  const done = new Promise((res) => wire.subscribe({ next: () => { if (++k < N) wire.next(pool[k & POOL_MASK]); else res(); } }));
  await awaitReport(bench, 'ready');
  wire.next(pool[0]); await done; wire.close(); await bench.stop();
}
(async () => {
  await once(5000);
  await post('HeapProfiler.enable');
  await post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  const N = 20000; await once(N);
  const { profile } = await post('HeapProfiler.stopSampling');
  const m = new Map(); let total = 0;
  const walk = (n) => { total += n.selfSize; const k = n.callFrame.functionName + ' ' + n.callFrame.url.split('/').slice(-2).join('/') + ':' + n.callFrame.lineNumber; m.set(k, (m.get(k) || 0) + n.selfSize); n.children.forEach(walk); };
  walk(profile.head);
  console.log('bytes per round trip (main)', (total / N).toFixed(0));
  [...m].sort((a, b) => b[1] - a[1]).slice(0, 20).forEach(([k, v]) => console.log((v / N).toFixed(0).padStart(6), 'B/trip', k));
})();
