// node scripts/probes/ring-trace.js DIST [hops] [warm]: the token ring of 1,000 processes alternating between two
// worker threads (every hop crosses, as in `npm run bench -- process`), `warm` hops untimed (default 600,000) and then
// `hops` timed (default 100,000), with a per-hop trace: each relay stamps when it got the token and when its send
// returned, into a buffer of its thread, written to a temporary file at the end and read back here.
// Prints the rate, the crossing (send returned on one thread → the next relay has the token on the other) and the time
// in the relay, as p10/p50/p90/p99/mean µs, and the share of the wall time spent in crossings over 0.5 ms. It found, in
// session 22 (bench/README.md, `process`), that ~0.1 % of crossings take ~1 ms (a spinning worker losing its core for a
// time slice) and make a fifth to two fifths of the wall time.
const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');
const { threadId, isMainThread } = require('node:worker_threads');
const [arg = 'dist', hopsArg = '100000', warmArg = '600000'] = isMainThread ? process.argv.slice(2) : [];
const dir = isMainThread ? path.resolve(arg) : process.env.RING_TRACE_DIST;
process.env.RING_TRACE_DIST = dir; // the workers of the node inherit it and load the same build
const P = require(dir + '/processes/index.js');
const { codec } = require(dir + '/core/codec.js');
const { quantileSorted } = require(dir + '/bench/stats.js');

const Token = codec({ type: 'record', name: 'TraceToken', fields: [{ name: 'k', type: 'long' }, { name: 'next', type: ['null', P.ProcessRefSchema] }] });
const Next = codec({ type: 'record', name: 'TraceRelay', fields: [{ name: 'next', type: ['null', P.ProcessRefSchema] }] });
const RELAY = { capture: Next, mailbox: Token, reply: codec('long') };
/** Per thread: the last KEEP hops' (k, got at, send returned at), ms since the epoch. */
const KEEP = 200_000;
const stamps = new Float64Array(KEEP * 3);
let kept = 0;
const T0 = performance.timeOrigin;
/** The k that asks a relay to write its thread's stamps to the file named by the run. */
const DUMP = -7;

exports.relay = P.entry(__filename, 'relay', RELAY, (capture, mailbox, self) => {
  let next = capture.next ? self.handle(capture.next, RELAY) : undefined;
  let starter;
  return new Promise((resolve) => {
    const sub = mailbox.letters.subscribe((letter) => {
      const got = T0 + performance.now();
      const { k, next: given } = letter.message;
      if (given) [next, starter] = [self.handle(given, RELAY), letter];
      if (k === DUMP) {
        const n = Math.min(kept, KEEP);
        fs.writeFileSync(path.join(os.tmpdir(), `rxwire-ring-trace-${process.pid}-${threadId}.bin`), Buffer.from(stamps.buffer, 0, n * 24));
        kept = 0;
        return letter.reply(n);
      }
      if (k === 0 && starter && !given) return starter.reply(0);
      next.send({ k: k < 0 ? k : k - 1, next: null });
      if (k > 0) {
        const at = (kept++ % KEEP) * 3;
        stamps[at] = k;
        stamps[at + 1] = got;
        stamps[at + 2] = T0 + performance.now();
      }
      if (k < 0) {
        sub.unsubscribe();
        resolve();
      }
    });
  });
});

function quantiles(name, xs) {
  xs.sort((a, b) => a - b);
  const q = (p) => quantileSorted(xs, p).toFixed(2);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`${name}: p10 ${q(0.1)} p50 ${q(0.5)} p90 ${q(0.9)} p99 ${q(0.99)} mean ${mean.toFixed(2)} µs (${xs.length} hops)`);
}

async function main() {
  const size = 1000;
  const hops = Number(hopsArg);
  const node = P.startNode({ threads: 2 });
  try {
    const relays = [node.spawn(exports.relay, { next: null }, { placement: { thread: 0 } })];
    for (let i = 1; i < size; i++) relays.push(node.spawn(exports.relay, { next: relays[i - 1].ref }, { placement: { thread: i % 2 } }));
    await Promise.all(relays.map((r) => r.isAlive()));
    const [first, last] = [relays[0], relays[size - 1]];
    await first.request({ k: Number(warmArg), next: last.ref }, { timeout: 300_000 });
    const t0 = performance.now();
    await first.request({ k: hops, next: last.ref }, { timeout: 300_000 });
    const seconds = (performance.now() - t0) / 1000;
    console.log(`rate ${Math.round(hops / seconds)} hops/s`);
    const byK = new Map();
    for (const relay of relays.slice(0, 2)) {
      await relay.request({ k: DUMP, next: null });
    }
    for (const file of fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith(`rxwire-ring-trace-${process.pid}-`))) {
      const full = path.join(os.tmpdir(), file);
      const a = new Float64Array(new Uint8Array(fs.readFileSync(full)).buffer);
      fs.unlinkSync(full);
      for (let i = 0; i < a.length; i += 3) byK.set(a[i], [a[i + 1], a[i + 2]]); // the timed pass overwrites the warm-up's
    }
    const crossing = [];
    const inRelay = [];
    for (let k = hops; k > 1; k--) {
      const [here, there] = [byK.get(k), byK.get(k - 1)];
      if (!here || !there) continue;
      crossing.push((there[0] - here[1]) * 1000);
      inRelay.push((here[1] - here[0]) * 1000);
    }
    const total = crossing.reduce((a, b) => a + b, 0);
    const long = crossing.filter((x) => x >= 500).reduce((a, b) => a + b, 0);
    quantiles('crossing', crossing);
    quantiles('in the relay', inRelay);
    console.log(`crossings over 0.5 ms: ${crossing.filter((x) => x >= 500).length}, ${((100 * long) / total).toFixed(1)} % of the crossings' time`);
  } finally {
    await node.close();
  }
}

if (isMainThread && require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
