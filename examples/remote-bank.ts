/**
 * Remote processes, runnable with one command: `npm run remote-bank`.
 *
 * This process is node `teller` (two worker threads). It forks itself as
 * node `vault` (another OS process with two worker threads, linked over
 * TCP on 127.0.0.1), spawns 100 account processes on the vault's least
 * loaded workers, moves money between them with requests across the link,
 * and checks the books. Then it kills the vault (SIGKILL) and shows what
 * the teller sees: an auditor process on one of the teller's worker
 * threads, linked to a vault account and trapping exits, receives
 * `LinkDied` with reason `noconnection`, and a call to the vault now fails
 * with `UnknownNodeError`.
 */
import { fork } from 'node:child_process';
import { tap } from 'rxjs';
import { codec } from '../index'; // in your app: from 'rxwire'
import { entry, ProcessRefCodec, startClusterNode, type ClusterNode } from '../processes/index'; // 'rxwire/processes'

const Long = codec('long');

/** An account: its balance lives in the process; a request adds the amount (negative: a withdrawal) and answers the new balance. */
export const account = entry(__filename, 'account', { capture: Long, mailbox: Long, reply: Long }, (opening, mailbox) => {
  let balance = opening;
  return mailbox.letters.pipe(
    tap((letter) => {
      balance += letter.message;
      letter.reply(balance);
    }),
  );
});

/** Links to the account it watches, trapping exits, and says so to a first request; answers the next with the first signal it got. */
export const auditor = entry(__filename, 'auditor', { capture: ProcessRefCodec, mailbox: Long, reply: codec('string') }, async (watched, mailbox, self) => {
  self.trapExits(true);
  self.handle(watched, account).link(1);
  (await mailbox.receiveLetter()).reply('linked');
  const signal = await mailbox.receiveSignal();
  const asked = await mailbox.receiveLetter();
  asked.reply(`${signal.type} (tag ${signal.type === 'LinkDied' ? signal.tag : '-'}) from node ${signal.process.node}: ${signal.reason}`);
});

/** The vault: a cluster node that listens, tells its parent its port, and runs until killed. */
async function vault(): Promise<void> {
  process.once('disconnect', () => process.exit(0)); // the teller is gone: so is the vault, not left running alone
  const node = await startClusterNode({ id: 'vault', threads: 2, listen: { port: 0 } });
  process.send!({ port: node.port });
}

async function teller(): Promise<void> {
  const child = fork(__filename, ['vault'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port } = await new Promise<{ port: number }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { port: number }));
    child.once('exit', (code) => reject(new Error(`the vault exited (${code}) before it listened`)));
  });
  let opened: ClusterNode | undefined;
  try {
    const node = (opened = await startClusterNode({ id: 'teller', threads: 2, peers: [{ port }] }));
    const accounts = Array.from({ length: 100 }, () => node.spawn(account, 1000, { node: 'vault', placement: 'least-loaded' }));
    const perThread = accounts.reduce((n, a) => ((n[a.ref.thread] = (n[a.ref.thread] ?? 0) + 1), n), [] as number[]);
    console.log(`100 accounts on the vault's workers: ${perThread.join(' and ')}`);
    let seed = 42;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const started = Date.now();
    for (let i = 0; i < 1000; i++) {
      const [from, to, amount] = [accounts[random(100)], accounts[random(100)], 1 + random(50)];
      await from.request(-amount);
      await to.request(amount);
    }
    const total = (await Promise.all(accounts.map((a) => a.request(0)))).reduce((sum, b) => sum + b, 0);
    console.log(`1,000 transfers between 100 accounts on node vault in ${Date.now() - started} ms; the books ${total === 100_000 ? 'balance' : 'DO NOT balance'} (${total})`);

    const audit = node.spawn(auditor, accounts[0].ref, { placement: { thread: 0 } }); // on a worker of the teller
    await audit.request(0); // linked (the link is kept on its worker: the dropped node fires it there)
    const told = audit.request(0);
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
    const heard = await told;
    console.log(`the vault was killed; the auditor got: ${heard}`);
    const refused = await accounts[1].request(0).then(
      () => 'an answer',
      (err: Error) => err.name,
    );
    console.log(`a request to the vault now: ${refused}`);
    // What the demo shows, checked: the books, the auditor's LinkDied of a node gone, the typed refusal.
    process.exitCode = total === 100_000 && heard.startsWith('LinkDied') && heard.endsWith('noconnection') && refused === 'UnknownNodeError' ? 0 : 1;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await opened?.close();
  }
}

if (require.main === module) {
  (process.argv[2] === 'vault' ? vault() : teller()).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
