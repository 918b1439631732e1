/**
 * A child process for the heartbeat specs: a TCP peer that echoes every
 * value of the channel `echo` (codec long) back, until it is killed. The test
 * stops it with SIGSTOP to make a peer that goes silent with its socket open.
 *
 *   node -r ts-node/register/transpile-only spec/workers/tcp-echo.process.ts server
 *     listens on an ephemeral port of 127.0.0.1; prints `port <n>`
 *   ... tcp-echo.process.ts client <port>
 *     connects to 127.0.0.1:<port> (heartbeat off: only the test's end watches); prints `connected`
 */
import { codec } from '../../core/codec';
import type { TcpConnection } from '../../transports/tcp';
import { tcp } from '../../transports';

const Long = codec('long');

function echo(conn: TcpConnection): void {
  const wire = conn.open('echo', Long);
  wire.subscribe({ next: (n) => wire.next(n), error: () => {} });
}

async function main(): Promise<void> {
  const [mode, port] = process.argv.slice(2);
  if (mode === 'server') {
    const server = await tcp.listen();
    server.connections$.subscribe(echo);
    process.stdout.write(`port ${server.port}\n`);
  } else {
    const conn = await tcp.connect({ port: Number(port), heartbeat: false });
    echo(conn);
    process.stdout.write('connected\n');
    setInterval(() => {}, 1 << 30); // stay until killed, whatever the connection does
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack}\n`);
  process.exitCode = 1;
});
