/**
 * Child nodes for the remote-process specs: a cluster node in a real child
 * process (spec/processes/remote-child.ts), started, stopped and killed.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

const TS_NODE = ['-r', 'ts-node/register/transpile-only'];

/** How the specs' nodes notice a silent node: fast. */
export const HEARTBEAT = { interval: 250, timeout: 1500 };

/** A child node. */
export interface Child {
  child: ChildProcess;
  port: number;
}

/** Starts node `id` in a child process (`threads` workers, more arguments for remote-child.ts); resolves with its port once it listens. */
export function startChild(id: string, threads: number, ...more: string[]): Promise<Child> {
  const child = fork(join(__dirname, 'remote-child.ts'), [id, String(threads), ...more], { execArgv: TS_NODE, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve({ child, port: (m as { port: number }).port }));
    child.once('exit', (code, signal) => reject(new Error(`node ${id} exited (${code ?? signal}) before it listened`)));
  });
}

/** Closes a child node (or kills it if it does not exit), and waits for its exit. */
export async function stopChild(node: Child | undefined): Promise<void> {
  const child = node?.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.send('close');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

/** Kills a child node with `signal` and waits for its exit. */
export async function killChild(node: Child, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  const exited = new Promise((resolve) => node.child.once('exit', resolve));
  node.child.kill(signal);
  await exited;
}

/** A port nothing listens on. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
