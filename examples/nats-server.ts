/**
 * Used by the NATS tests (spec/nats/), the `nats` bench suite and the NATS
 * examples (`npm run word-count:nats` starts one when no server is given).
 *
 * A real nats-server for the tests: started on an ephemeral port of
 * 127.0.0.1 with JetStream on and a store directory of its own, stopped
 * (and its directory removed) after. Nothing is mocked.
 *
 * The binary: NATS_SERVER, else `nats-server` on the PATH or in /usr/sbin
 * (`npm test`'s pretest step, scripts/ensure-nats-server.js, installs it
 * when missing, or fails saying how to get it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NatsServerOptions {
  /** JetStream on (default true), with a fresh temporary store directory. */
  jetstream?: boolean;
  /** Require this user and password. */
  user?: string;
  pass?: string;
  /** The server's `max_payload` in bytes (the server's default: 1 MiB). */
  maxPayload?: number;
  /** A fixed port (for a restart on the same address); default: ephemeral. */
  port?: number;
}

export interface NatsServer {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Stops it (SIGTERM, then SIGKILL after 3 s) and removes its store. */
  stop(): Promise<void>;
  /** Kills it at once (SIGKILL), keeping its store: `restart()` brings it back. */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same store. */
  restart(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** The nats-server binary this machine has; throws how to get one when none. */
export function natsServerPath(): string {
  const candidates = process.env.NATS_SERVER
    ? [process.env.NATS_SERVER]
    : [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/usr/local/bin'].filter(Boolean).map((d) => join(d, 'nats-server'));
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // next
    }
  }
  throw new Error('nats-server not found: run `sudo apt-get install -y nats-server`, or set NATS_SERVER=/path/to/nats-server');
}

/** Starts a nats-server; resolves once it listens. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'rxwire-nats-'));
  const lines = ['listen: "127.0.0.1:' + (options.port ?? -1) + '"'];
  if (options.jetstream !== false) lines.push(`jetstream { store_dir: ${JSON.stringify(join(dir, 'js'))} }`);
  if (options.maxPayload !== undefined) lines.push(`max_payload: ${options.maxPayload}`);
  if (options.user !== undefined) lines.push(`authorization { user: ${JSON.stringify(options.user)}, password: ${JSON.stringify(options.pass ?? '')} }`);
  const config = join(dir, 'server.conf');
  writeFileSync(config, lines.join('\n') + '\n');

  let child: ChildProcess | undefined;
  let port = options.port ?? 0;
  const launch = async (): Promise<void> => {
    const proc = spawn(natsServerPath(), ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
    port = await new Promise<number>((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => fail(new Error(`nats-server did not start within 10 s:\n${log}`)), 10_000);
      const onData = (chunk: Buffer) => {
        log += chunk.toString();
        const m = /Listening for client connections on [\d.]+:(\d+)/.exec(log);
        if (m) done(Number(m[1]));
      };
      const onExit = (code: number | null) => fail(new Error(`nats-server exited (${code}) before listening:\n${log}`));
      const cleanup = () => {
        clearTimeout(timer);
        proc.stderr!.off('data', onData);
        proc.off('exit', onExit);
        proc.stderr!.resume(); // keep draining its log so it never blocks
      };
      const done = (p: number) => (cleanup(), resolve(p));
      const fail = (e: Error) => (cleanup(), proc.kill('SIGKILL'), reject(e));
      proc.stderr!.on('data', onData);
      proc.once('exit', onExit);
    });
  };
  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    const force = setTimeout(() => proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(force);
  };

  await launch();
  // Later launches reuse the port the first one found.
  writeFileSync(config, lines.map((l) => (l.startsWith('listen:') ? `listen: "127.0.0.1:${port}"` : l)).join('\n') + '\n');
  return {
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    async stop() {
      await halt('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    kill: () => halt('SIGKILL'),
    restart: async () => {
      await halt('SIGKILL');
      await launch();
    },
  };
}
