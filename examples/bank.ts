/**
 * A bank as thousands of lightweight processes (`npm run bank`): every
 * account is a process holding its balance; the accounts of each branch
 * run under a supervisor, one branch per worker thread. Money moves by
 * transfers between accounts (a process asking another, often across
 * threads); one account crashes on purpose, its supervisor restarts it
 * (from its opening balance: a crash loses the state a process held, as in
 * Erlang), and the books are checked at the end: the money in the bank is
 * the money it opened with, give or take what the crash lost.
 *
 * What it shows:
 * - `startNode` and M:N scheduling: 2 worker threads, thousands of processes;
 * - `supervisor` / `supervisorSpec`: children by entry, capture and name,
 *   `one-for-one` restarts, `supervisorChildren` to find them;
 * - `request` with exactly one reply, between processes and from the main
 *   thread; handles that travel inside messages (`to` is a ProcessRef).
 *
 * Usage: `npm run bank` (builds, then runs `node dist/examples/bank.js`), or
 * `node dist/examples/bank.js [accounts per branch] [transfers]`, or as
 * TypeScript: `npx ts-node --transpile-only examples/bank.ts`.
 */
import { startNode, supervisor, supervisorChildren, supervisorSpec, type ChildInfo, type Process } from '../processes/index'; // 'rxwire/processes'
import { ACCOUNT, account, Order } from './bank-account';
import type { ValueOf } from '../core/codec'; // 'rxwire'

const BRANCHES = 2;
const PER_BRANCH = Number(process.argv[2] ?? 2_500);
const TRANSFERS = Number(process.argv[3] ?? 20_000);
const OPENING = 100;
const ASK = { timeout: 60_000 };

type Account = Process<ValueOf<typeof Order>, number>;

async function main(): Promise<void> {
  const node = startNode({ threads: BRANCHES });
  try {
    const t0 = performance.now();
    const branches = Array.from({ length: BRANCHES }, (_, b) =>
      node.spawn(
        supervisor,
        supervisorSpec(
          Array.from({ length: PER_BRANCH }, (_, i) => ({ name: `b${b}-acct-${i}`, entry: account, capture: { name: `b${b}-acct-${i}`, balance: OPENING } })),
          { strategy: 'one-for-one', maxRestarts: 10, period: 10_000 },
        ),
        { placement: { thread: b } },
      ),
    );
    const accounts = async (): Promise<Account[]> => {
      const infos: ChildInfo[] = (await Promise.all(branches.map((sup) => supervisorChildren(sup, ASK)))).flat();
      return infos.map((info) => node.handle(info.ref!, ACCOUNT));
    };
    let all = await accounts();
    const counts = await node.counts();
    console.log(`opened ${all.length} accounts of ${OPENING} in ${(performance.now() - t0).toFixed(0)} ms; processes per thread: ${counts.join(', ')}`);

    // Transfers between random accounts (half of them across threads), 1,000 at a time.
    let moved = 0;
    const t1 = performance.now();
    for (let done = 0; done < TRANSFERS; done += 1000) {
      const batch = Array.from({ length: Math.min(1000, TRANSFERS - done) }, () => {
        const from = all[Math.floor(Math.random() * all.length)];
        const to = all[Math.floor(Math.random() * all.length)];
        return from.request({ op: 'transfer', amount: 1 + Math.floor(Math.random() * 50), to: to.ref }, ASK);
      });
      moved += (await Promise.all(batch)).reduce((a, b) => a + b, 0);
    }
    console.log(`${TRANSFERS} transfers in ${(performance.now() - t1).toFixed(0)} ms, ${moved} moved`);

    // One account crashes; its supervisor restarts it from its opening balance.
    const victim = all[7];
    const lost = (await victim.request({ op: 'balance', amount: 0, to: null }, ASK)) - OPENING;
    const died = victim.monitor().died;
    victim.send({ op: 'corrupt', amount: 0, to: null });
    console.log(`b0-acct-7 held ${lost + OPENING}, then crashed (${(await died).reason}: ${(await died).error?.message})`);
    let info: ChildInfo | undefined;
    do info = (await supervisorChildren(branches[0], ASK))[7];
    while (!info.ref || info.ref.id === victim.id);
    all = await accounts();
    console.log(`its supervisor restarted it (restarts: ${info.restarts}); balance now ${await all[7].request({ op: 'balance', amount: 0, to: null }, ASK)}`);

    // The books.
    const balances = await Promise.all(all.map((a) => a.request({ op: 'balance', amount: 0, to: null }, ASK)));
    const total = balances.reduce((a, b) => a + b, 0);
    const expected = all.length * OPENING - lost;
    console.log(`money in the bank: ${total}; opened with ${all.length * OPENING}, the crash lost ${lost}: ${total === expected ? 'the books balance' : `MISMATCH (expected ${expected})`}`);
    if (total !== expected) process.exitCode = 1;
  } finally {
    await node.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
